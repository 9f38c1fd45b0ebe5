package caxton

import (
	"runtime"
	"sync"
)

// workerPool keeps a few retired worker goroutines parked for the next
// instance that needs one. Each keeps its batch buffers (scratch) too.
//
// Workers run on demand (internal/mailbox): an idle agent owns no
// goroutine, and a message to it starts one. With many agents and messages
// spread over them, nearly every message finds its agent idle, and starting
// a goroutine — a fresh stack, grown again by copying as the handler runs —
// was a sixth of the CPU (bench/load, 10,000 agents). A worker whose
// mailbox ran empty therefore parks here instead of exiting, keeping its
// grown stack, and the next start hands it an instance over a channel.
// The pool is bounded (an idle process keeps at most max goroutines), and
// Close releases them.
type workerPool struct {
	mu     sync.Mutex
	parked []chan *instance // each a parked goroutine's (buffered: a hand-off never waits)
	max    int
	closed bool
	// scratches are the buffers of goroutines that exited, for the next
	// new one: under load goroutines come and go beyond the parked few,
	// and each would otherwise grow its buffers anew.
	scratches sync.Pool
}

func (p *workerPool) init() { p.max = max(64, 8*runtime.GOMAXPROCS(0)) }

// run runs in's worker on a parked goroutine, or on a new one.
func (p *workerPool) run(in *instance) {
	p.mu.Lock()
	if n := len(p.parked); n > 0 {
		ch := p.parked[n-1]
		p.parked[n-1] = nil
		p.parked = p.parked[:n-1]
		p.mu.Unlock()
		ch <- in
		return
	}
	p.mu.Unlock()
	go p.loop(in)
}

// loop is a pooled goroutine: it runs workers until the pool is full or
// closed when it retires.
//
// The scratch goes back to the pool only after a normal return, never
// from a defer: a goroutine that ends abnormally (a handler called
// runtime.Goexit, which no recover stops) has not retired from its
// mailbox, which still holds the stop channel the scratch lent it; a
// next goroutine lending that channel elsewhere would be stopped by this
// mailbox's Pause.
func (p *workerPool) loop(in *instance) {
	sc, _ := p.scratches.Get().(*scratch)
	if sc == nil {
		sc = new(scratch)
	}
	if sc.handoff == nil {
		sc.handoff = make(chan *instance, 1)
	}
	for in != nil {
		in.run(sc)
		in = nil // do not keep the instance alive while parked
		if !p.park(sc.handoff) {
			// Not parked, so no one holds the channel: it goes with the
			// buffers to the next new goroutine.
			p.scratches.Put(sc)
			return
		}
		in = <-sc.handoff // nil: the pool closed the channel, which dies with this goroutine
	}
	sc.handoff = nil
	p.scratches.Put(sc)
}

// park registers ch for a hand-off; false if the pool is full or closed.
func (p *workerPool) park(ch chan *instance) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || len(p.parked) >= p.max {
		return false
	}
	p.parked = append(p.parked, ch)
	return true
}

// close releases the parked goroutines; workers that retire from now on
// exit, and new ones are started afresh.
func (p *workerPool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for _, ch := range p.parked {
		close(ch)
	}
	p.parked = nil
}

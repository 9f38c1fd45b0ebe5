package caxton

import (
	"errors"

	"github.com/caxton-go/caxton/store"
)

// errGoexit is the failure of an attempt whose handler ended its goroutine.
var errGoexit = errors.New("caxton: the handler called runtime.Goexit (t.FailNow, or a testify require, inside a handler?): its worker goroutine ended")

// inHand is what a worker has taken and not yet finished: taken, of which
// the first done are handled (acknowledged or dead-lettered).
type inHand struct {
	taken []*store.Envelope
	done  int
}

// goexited cleans up after a worker whose goroutine ended without
// returning: a handler (or a NewHandler factory) called runtime.Goexit,
// which unwinds the goroutine past every recover. Without this the mailbox
// would believe its worker still runs — no worker would ever start again,
// Stop, Scale and upgrades would wait for it for good — and the messages
// in hand would be lost. The attempt in progress counts as failed: it is
// retried after the agent's backoff by the next worker, or dead-lettered at
// MaxAttempts, so a handler that always calls Goexit cannot loop for ever.
// The rest go back to the mailbox in order.
func (in *instance) goexited(w *inHand) {
	a := in.a
	msg := errGoexit.Error()
	a.lastErr.Store(&msg)
	in.log().Error("a handler ended its worker goroutine; its messages are retried", "error", errGoexit)
	rest := w.taken[w.done:]
	if len(rest) == 0 {
		if in.cur == nil { // the factory itself ended the goroutine
			a.fail(errGoexit)
		}
		in.sc = nil
		in.mb.Exit()
		return
	}
	// A batch handler had every message of the batch in hand; a message
	// handler only the first of the rest.
	n := 1
	if in.cur != nil && in.cur.batch != nil {
		n = len(rest)
	}
	a.stats.failed.Add(1) // one failed attempt, as failed() counts a batch's
	finished := 0
	var back []*store.Envelope
	notBefore := a.rt.clock.Now().Add(a.spec.Delivery.Backoff.Delay(rest[0].Attempts))
	for _, e := range rest[:n] {
		if e.Attempts >= a.spec.Delivery.MaxAttempts {
			a.rt.deadLetter(a, in, e, "max attempts", errGoexit)
			in.ack(e)
			finished++
			continue
		}
		if err := in.mb.RetryAt(e, notBefore); err != nil {
			in.log().Error("recording retry", "error", err, "message_id", e.Msg.ID)
		}
		a.stats.retried.Add(1)
		back = append(back, e)
	}
	in.flushAcks()
	in.mb.Done(w.done + finished)
	back = append(back, rest[n:]...)
	if len(back) > 0 {
		in.putBack(back)
	}
	in.sc = nil
	in.mb.Exit()
}

package caxton

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
)

// shutdown is the runtime's own lifecycle in one value: whether Close has
// begun, the host calls still inside the runtime, the worker goroutines,
// and the base context every handler's context derives from. Close drives
// it in order — begin (refuse new host calls, release blocked ones), wait
// for host calls to leave, drain, stop the workers — and each wait is on a
// signal, not a poll.
type shutdown struct {
	closed  atomic.Bool
	closing chan struct{} // closed by begin: releases blocked senders, backoffs and Requests
	_       [48]byte      // every host call reads closed; hosts and running are written all the time

	hosts     atomic.Int64  // host calls in progress (Send, Request, Spawn, ...)
	hostsLeft chan struct{} // capacity 1: the last host call left after begin
	_         [48]byte      // host senders write hosts, workers write running: one cache line each

	idle    chan struct{} // capacity 1: a worker went idle or exited after begin (the drain re-checks)
	running atomic.Int64  // live worker goroutines
	workers sync.WaitGroup

	base   context.Context // parent of every handler's context; cancelled by cancel
	cancel context.CancelFunc
}

func (s *shutdown) init() {
	s.closing = make(chan struct{})
	s.hostsLeft = make(chan struct{}, 1)
	s.idle = make(chan struct{}, 1)
	s.base, s.cancel = context.WithCancel(context.Background())
}

// isClosed reports whether Close has begun.
func (s *shutdown) isClosed() bool { return s.closed.Load() }

// begin starts the shutdown; it reports false if it had already begun.
func (s *shutdown) begin() bool {
	if !s.closed.CompareAndSwap(false, true) {
		return false
	}
	close(s.closing)
	return true
}

// enter registers a host call; it fails with ErrClosed once Close has
// begun. Every successful enter is paired with an exit.
func (s *shutdown) enter() error {
	s.hosts.Add(1)
	if s.closed.Load() {
		s.exit()
		return ErrClosed
	}
	return nil
}

// exit ends a host call; the last one to leave after begin wakes
// awaitHosts. (The counter is decremented before closed is read, and begin
// sets closed before awaitHosts reads the counter, so one of the two sees
// the other: no wake-up is lost.)
func (s *shutdown) exit() {
	if s.hosts.Add(-1) == 0 && s.closed.Load() {
		signal(s.hostsLeft)
	}
}

// awaitHosts waits until no host call is inside the runtime, or ctx ends.
// With none inside it succeeds even if ctx has ended.
func (s *shutdown) awaitHosts(ctx context.Context) error {
	for s.hosts.Load() > 0 {
		select {
		case <-s.hostsLeft:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// workerStarted and workerExited bracket a worker goroutine.
func (s *shutdown) workerStarted() {
	s.workers.Add(1)
	s.running.Add(1)
}

func (s *shutdown) workerExited() {
	s.running.Add(-1)
	s.workers.Done()
	if s.closed.Load() { // however a worker leaves, a draining Close re-checks
		signal(s.idle)
	}
}

// workersGone returns a channel closed when every worker has exited. Call
// it only after the mailboxes stopped starting workers.
func (s *shutdown) workersGone() <-chan struct{} {
	done := make(chan struct{})
	if s.running.Load() == 0 {
		close(done)
		return done
	}
	go func() { s.workers.Wait(); close(done) }()
	return done
}

// isDone reports whether ch is closed, without waiting.
func isDone(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// signal wakes whoever waits on a capacity-1 channel, without blocking.
func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// Close shuts the runtime down gracefully. It stops intake at once (host
// Send, Request and Spawn fail with ErrClosed), lets agents work through
// what they have queued — including messages they send each other meanwhile
// — until the system is quiet or ctx ends, then cancels handler contexts,
// waits for every worker to exit, and dead-letters whatever was still queued
// (reason "runtime closed"), so nothing is lost silently; DeadLetters stays
// readable after Close. With a durable store (see WithStore) what is still
// queued — and any message waiting out a retry backoff — stays on disk
// instead, for the next run. It returns ctx's error if the drain was cut
// short. Closing twice is a no-op.
func (rt *Runtime) Close(ctx context.Context) error {
	if ctx == nil {
		return errNilContext
	}
	sd := &rt.shutdown
	if !sd.begin() {
		return nil
	}
	var errs []error
	// Host senders blocked on a full mailbox are released by closing; host
	// calls already past their checks finish first.
	hostsErr := sd.awaitHosts(ctx)
	if err := rt.awaitQuiet(ctx); err != nil {
		errs = append(errs, fmt.Errorf("caxton: close: drain cut short: %w", err))
	}
	// Workers finish the message in hand and put the rest back; handlers
	// still running see their context cancelled.
	for _, a := range rt.agentsSnapshot() {
		a.stopWorkers()
	}
	sd.cancel()
	done := sd.workersGone()
	workersGone := isDone(done) // already gone wins over an ended ctx (select picks at random)
	if !workersGone {
		select {
		case <-done:
			workersGone = true
		case <-ctx.Done():
			errs = append(errs, fmt.Errorf("caxton: close: handlers still running: %w", ctx.Err()))
		}
	}
	rt.workers.close() // after the workers: none parks from now on
	lost := 0
	agents := rt.agentsSnapshot()
	keep := rt.isDurable()
	for _, a := range agents {
		lost += a.closeMailboxes("runtime closed", keep)
		a.st.Store(uint32(StateStopped))
	}
	release := func() error {
		for _, a := range agents {
			a.mu.Lock() // a concurrent Stop or Remove may be closing them too
			for _, in := range a.all() {
				in.closeHandler()
			}
			a.mu.Unlock()
		}
		return rt.closeSandbox()
	}
	if hostsErr == nil {
		hostsErr = sd.awaitHosts(ctx)
	}
	if hostsErr != nil {
		errs = append(errs, fmt.Errorf("caxton: close: host calls (Spawn, Send, ...) still running: %w", hostsErr))
	}
	if workersGone && hostsErr == nil {
		if err := release(); err != nil {
			errs = append(errs, fmt.Errorf("caxton: close sandbox: %w", err))
		}
	} else {
		// Never pull an instance (or the sandbox's epoch clock, which is what
		// interrupts a runaway guest) from under a running handler or a
		// Spawn still instantiating a guest: release them when the last one
		// is gone.
		go func() {
			<-done
			_ = sd.awaitHosts(context.Background())
			if err := release(); err != nil {
				rt.logger.Error("closing the sandbox after the last handler returned", "error", err)
			}
		}()
	}
	rt.regMu.RLock()
	for _, ep := range rt.endpoints {
		if ib, ok := ep.(*Inbox); ok {
			ib.markClosed()
		}
	}
	rt.regMu.RUnlock()
	if lost > 0 {
		rt.logger.Warn("messages still queued at close were dead-lettered", "count", lost)
	}
	if err := rt.closeCluster(ctx); err != nil {
		errs = append(errs, err)
	}
	if err := rt.store.Close(); err != nil {
		errs = append(errs, fmt.Errorf("caxton: close store: %w", err))
	}
	if c, ok := rt.cfg.toolbox.(interface{ Shutdown(context.Context) error }); ok {
		if err := c.Shutdown(ctx); err != nil { // mcp.Registry: Close bounded by ctx
			errs = append(errs, fmt.Errorf("caxton: close toolbox: %w", err))
		}
	} else if c, ok := rt.cfg.toolbox.(io.Closer); ok {
		if err := c.Close(); err != nil {
			errs = append(errs, fmt.Errorf("caxton: close toolbox: %w", err))
		}
	}
	if err := rt.tel.Close(); err != nil {
		errs = append(errs, fmt.Errorf("caxton: close telemetry: %w", err))
	}
	return errors.Join(errs...)
}

// awaitQuiet waits until no instance has queued or in-flight work, checked
// twice with no progress in between (so a message passed from one agent to
// another between the two looks is not missed).
func (rt *Runtime) awaitQuiet(ctx context.Context) error {
	for {
		q1, n1 := rt.quiet()
		if q1 {
			q2, n2 := rt.quiet()
			if q2 && n1 == n2 {
				return nil
			}
			continue
		}
		select {
		case <-rt.shutdown.idle:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (rt *Runtime) quiet() (bool, uint64) {
	var done uint64
	quiet := true
	for _, a := range rt.agentsSnapshot() {
		done += a.stats.processed.Load() + a.stats.deadLettered.Load()
		if a.state() != StateRunning {
			continue // stopped agents keep their queues; nothing will drain them
		}
		for _, in := range a.all() {
			if in.mb.Load() > 0 {
				quiet = false
			}
		}
	}
	return quiet, done
}

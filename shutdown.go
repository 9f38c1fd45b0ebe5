package caxton

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"time"
)

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
	if !rt.closed.CompareAndSwap(false, true) {
		return nil
	}
	close(rt.closing)
	var errs []error
	for rt.hostInflight.Load() > 0 { // host senders are being released by closing
		if ctx.Err() != nil {
			break
		}
		runtime.Gosched()
		time.Sleep(50 * time.Microsecond)
	}
	if err := rt.awaitQuiet(ctx); err != nil {
		errs = append(errs, fmt.Errorf("caxton: close: drain cut short: %w", err))
	}
	// Workers finish the message in hand and put the rest back; handlers
	// still running see their context cancelled.
	for _, a := range rt.agentsSnapshot() {
		a.stopWorkers()
	}
	rt.cancel()
	done := make(chan struct{})
	go func() { rt.workers.Wait(); close(done) }()
	workersGone := rt.running.Load() == 0
	if !workersGone {
		select {
		case <-done:
			workersGone = true
		case <-ctx.Done():
			errs = append(errs, fmt.Errorf("caxton: close: handlers still running: %w", ctx.Err()))
		}
	}
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
			for _, in := range a.instances {
				in.closeHandler()
			}
			a.mu.Unlock()
		}
		return rt.closeSandbox()
	}
	hostsGone := rt.hostInflight.Load() == 0
	if !hostsGone {
		errs = append(errs, fmt.Errorf("caxton: close: host calls (Spawn, Send, ...) still running: %w", ctx.Err()))
	}
	if workersGone && hostsGone {
		if err := release(); err != nil {
			errs = append(errs, fmt.Errorf("caxton: close sandbox: %w", err))
		}
	} else {
		// Never pull an instance (or the sandbox's epoch clock, which is what
		// interrupts a runaway guest) from under a running handler: release
		// them when the last worker exits.
		go func() {
			<-done
			for rt.hostInflight.Load() > 0 { // e.g. a Spawn still instantiating a guest
				time.Sleep(time.Millisecond)
			}
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
	if err := rt.store.Close(); err != nil {
		errs = append(errs, fmt.Errorf("caxton: close store: %w", err))
	}
	if c, ok := rt.cfg.toolbox.(io.Closer); ok {
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
		case <-rt.idle:
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
		for _, in := range a.instances {
			if in.mb.Load() > 0 {
				quiet = false
			}
		}
	}
	return quiet, done
}

func (rt *Runtime) signalIdle() {
	select {
	case rt.idle <- struct{}{}:
	default:
	}
}

// hostEnter registers a host call; it fails once Close has begun.
func (rt *Runtime) hostEnter() error {
	rt.hostInflight.Add(1)
	if rt.closed.Load() {
		rt.hostInflight.Add(-1)
		return ErrClosed
	}
	return nil
}

func (rt *Runtime) hostExit() { rt.hostInflight.Add(-1) }

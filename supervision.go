package caxton

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/caxton-go/caxton/store"
)

// failed accounts for a failed attempt of envs and decides what happens
// next: a retry, the dead-letter queue, or (when the worker must stop or the
// agent failed) nothing yet. end is called with that decision before
// anything it leads to can be observed — the failure counters, a dead
// letter, a retry — so whoever waits for one of those and then reads the
// attempt's span finds it ended (end finishes the telemetry span).
func (in *instance) failed(ctx context.Context, stop <-chan struct{}, envs []*store.Envelope, err error, end func(outcome)) outcome {
	a := in.a
	msg := err.Error()
	a.lastErr.Store(&msg)
	in.log().WarnContext(ctx, "handler failed", "error", err, "message_id", envs[0].Msg.ID, "attempt", envs[0].Attempts, "messages", len(envs))
	o := retry
	var pe *PanicError
	switch {
	case (errors.As(err, &pe) || errors.Is(err, ErrInstanceBroken)) && in.cur.v.owned() && !in.replaceHandler(stop, err):
		o = abandoned
	case errors.Is(err, ErrPermanent) || envs[0].Attempts >= a.spec.Delivery.MaxAttempts:
		o = finished
	}
	end(o)
	a.stats.failed.Add(1)
	switch o {
	case abandoned:
		return o
	case finished:
		reason := "max attempts"
		if errors.Is(err, ErrPermanent) {
			reason = "permanent failure"
		}
		for _, e := range envs {
			in.a.rt.deadLetter(a, in, e, reason, err)
			in.ack(e)
		}
		return o
	}
	in.flushAcks() // the store sees earlier acks before this retry
	notBefore := in.a.rt.clock.Now().Add(a.spec.Delivery.Backoff.Delay(envs[0].Attempts))
	for _, e := range envs {
		if rerr := in.mb.RetryAt(e, notBefore); rerr != nil {
			in.log().ErrorContext(ctx, "recording retry", "error", rerr, "message_id", e.Msg.ID)
		}
	}
	a.stats.retried.Add(uint64(len(envs)))
	return retry
}

// backoff waits before attempt n+1. It returns false if the worker was told
// to stop meanwhile. While the runtime closes it does not wait, so a drain
// is not held up by timers (with a durable store it stops instead: the
// message waits on disk).
func (in *instance) backoff(stop <-chan struct{}, n int) bool {
	rt := in.a.rt
	if rt.shutdown.isClosed() {
		// Draining: skip the wait — unless the store is durable, where the
		// message can wait out its backoff on disk and be retried after a
		// restart instead of burning its attempts now.
		return !rt.isDurable()
	}
	return in.sleep(stop, in.a.spec.Delivery.Backoff.Delay(n))
}

func (in *instance) sleep(stop <-chan struct{}, d time.Duration) bool {
	t := in.a.rt.clock.NewTimer(d)
	select {
	case <-t.C():
		return true
	case <-stop:
		t.Stop()
		return false
	case <-in.a.rt.shutdown.closing:
		t.Stop()
		return !in.a.rt.isDurable() // see backoff
	}
}

// replaceHandler discards a broken NewHandler instance and makes a fresh one
// after the restart backoff. More replacements than the policy allows within
// its window fail the agent; then it returns false.
func (in *instance) replaceHandler(stop <-chan struct{}, cause error) bool {
	a := in.a
	pol := a.spec.Restart
	for {
		in.closeHandler()
		now := a.rt.clock.Now().UnixNano()
		a.rmu.Lock()
		cut := now - int64(pol.Window)
		kept := a.restartAt[:0]
		for _, t := range a.restartAt {
			if t > cut {
				kept = append(kept, t)
			}
		}
		a.restartAt = append(kept, now)
		recent := len(a.restartAt)
		a.rmu.Unlock()
		if recent > pol.MaxRestarts {
			a.fail(fmt.Errorf("%d instance replacements within %v, last cause: %w", recent, pol.Window, cause))
			return false
		}
		in.replace++
		a.stats.restarts.Add(1)
		a.emit(EventRestarted, in.replica, cause.Error())
		in.log().Warn("replacing instance", "cause", cause, "replacement", in.replace)
		if !a.rt.shutdown.isClosed() && !in.sleep(stop, pol.Backoff.Delay(in.replace)) {
			return false
		}
		err := in.makeHandler(a.rt.shutdown.base)
		if err == nil {
			return true
		}
		cause = err
	}
}

// fail marks the agent failed after its restart policy gave up: new
// messages are refused with ErrAgentFailed, every queued message is
// dead-lettered (reason "agent failed"), and each worker exits after its
// current message. Restart or Start brings the agent back.
func (a *agent) fail(cause error) {
	a.st.Store(uint32(StateFailed))
	msg := cause.Error()
	a.lastErr.Store(&msg)
	a.rt.logger.Error("agent failed: restart policy exhausted", "agent", a.name(), "error", cause)
	a.emit(EventFailed, -1, cause.Error())
	a.stopWorkers()
	if a.rt.isDurable() {
		return // its messages wait on disk until the host starts it again
	}
	for _, in := range a.all() {
		buf := make([]*store.Envelope, 64)
		for {
			batch := in.mb.Take(buf)
			if len(batch) == 0 {
				break
			}
			for _, e := range batch {
				a.rt.deadLetter(a, in, e, "agent failed", cause)
			}
			if err := in.mb.Ack(batch...); err != nil {
				a.rt.logger.Error("acknowledging dead-lettered messages", "agent", a.name(), "error", err)
			}
			in.mb.Done(len(batch))
		}
	}
}

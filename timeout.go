package caxton

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrHungHandler: a handler overran its DeliveryPolicy.Timeout; see
// *HungError.
var ErrHungHandler = errors.New("caxton: handler hung")

// HungError reports a handling attempt that overran DeliveryPolicy.Timeout.
// It wraps ErrHungHandler and ErrInstanceBroken: the instance is replaced
// and the message retried.
type HungError struct {
	Agent   string
	Replica int
	Timeout time.Duration
}

func (e *HungError) Error() string {
	return fmt.Sprintf("caxton: agent %q replica %d: handler still running after %v", e.Agent, e.Replica, e.Timeout)
}

// Unwrap returns ErrHungHandler and ErrInstanceBroken.
func (e *HungError) Unwrap() []error { return []error{ErrHungHandler, ErrInstanceBroken} }

// guard runs f (one handling attempt on s) on a goroutine of its own and
// waits at most DeliveryPolicy.Timeout on the runtime's clock. On overrun
// f's context is cancelled, the event recorded, and a *HungError returned;
// the worker moves on. The goroutine keeps s alive until f returns: s is
// closed by whichever of the two — the instance's replacement or f's return
// — comes last, so a hung handler is never closed under itself.
func (in *instance) guard(ctx context.Context, s *slot, f func(context.Context) error) error {
	d := in.a.spec.Delivery.Timeout
	hctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	s.refs.Add(1)
	go func() {
		defer s.release(in.log)
		done <- in.protect(func() error { return f(hctx) })
	}()
	t := in.a.rt.clock.NewTimer(d)
	select {
	case err := <-done:
		t.Stop()
		cancel()
		return err
	case <-t.C():
	case <-in.a.rt.shutdown.closing:
		// Closing: wait for the handler as a handler without a timeout
		// would be waited for; its context ends with the drain.
		t.Stop()
		err := <-done
		cancel()
		return err
	}
	select { // it may have finished just now
	case err := <-done:
		cancel()
		return err
	default:
	}
	cancel()
	in.a.emit(EventHung, in.replica, fmt.Sprintf("still running after %v", d))
	in.log().ErrorContext(ctx, "handler hung: replacing the instance and retrying the message", "timeout", d)
	return &HungError{Agent: string(in.a.name()), Replica: in.replica, Timeout: d}
}

package caxton

import (
	"cmp"
	"errors"
	"fmt"
	"time"
)

// Upgrade errors.
var (
	// ErrUpgradeInProgress: an Upgrade, Scale or hot reload of an agent
	// that is being upgraded.
	ErrUpgradeInProgress = errors.New("caxton: upgrade in progress")
	// ErrRolledBack: the upgrade was rolled back; see *RollbackError.
	ErrRolledBack = errors.New("caxton: upgrade rolled back")
	// ErrNoPreviousVersion: Rollback of an agent that was never upgraded
	// and has no upgrade in progress.
	ErrNoPreviousVersion = errors.New("caxton: no previous version")
)

// RollbackError says why an upgrade was rolled back. It wraps
// ErrRolledBack (and the context's error, when ctx ended the upgrade).
type RollbackError struct {
	Agent    string
	From, To string // the version labels: From kept, To rolled back
	Reason   string
	cause    error
}

func (e *RollbackError) Error() string {
	return fmt.Sprintf("caxton: upgrade of %q from %s to %s rolled back: %s", e.Agent, e.From, e.To, e.Reason)
}

// Unwrap returns ErrRolledBack and the cause, if any.
func (e *RollbackError) Unwrap() []error {
	if e.cause != nil {
		return []error{ErrRolledBack, e.cause}
	}
	return []error{ErrRolledBack}
}

// StrategyKind names an upgrade strategy.
type StrategyKind uint8

// Upgrade strategies.
const (
	// BlueGreen makes the new version on every instance, then switches all
	// messages to it at once and watches it for Strategy.Watch before the
	// old version is retired.
	BlueGreen StrategyKind = iota
	// Canary sends a share of the messages (Strategy.Steps, in percent) to
	// the new version, raising it every Strategy.StepEvery, then switches
	// all and watches as BlueGreen does.
	Canary
	// Rolling moves the instances to the new version one at a time, every
	// Strategy.StepEvery, then watches as BlueGreen does.
	Rolling
)

func (k StrategyKind) String() string {
	switch k {
	case BlueGreen:
		return "blue-green"
	case Canary:
		return "canary"
	case Rolling:
		return "rolling"
	}
	return fmt.Sprintf("StrategyKind(%d)", uint8(k))
}

// Strategy says how Upgrade moves an agent to new code and when it gives
// up. The zero value is a blue-green switch with no watch window, rolled
// back only if the new version cannot be made.
type Strategy struct {
	Kind StrategyKind
	// Steps are a canary's shares of new conversations (and of messages
	// outside any conversation) for the new version, in percent,
	// increasing, each in (0, 100) (default 10, 50).
	Steps []int
	// StepEvery is how long each canary step or rolling instance runs
	// before the next (default 1 minute), on the runtime's clock.
	StepEvery time.Duration
	// Watch is how long the new version handles all messages, with the
	// old one kept ready, before the old is retired (default 0).
	Watch time.Duration
	// Drain is how long, after Watch, conversations that are on the old
	// version stay there before it retires (default 0). Throughout an
	// upgrade a conversation (by ConversationID) stays on the version that
	// first handled one of its messages, and an answer (InReplyTo set, or
	// an answering performative such as accept-proposal, agree or cancel)
	// in a conversation the upgrade has not seen began before it, so it
	// goes to the old version: set Drain to the length of your longest
	// conversation (a Contract Net round: its reply-by and the task) so
	// that none in flight meets a version that does not know it.
	Drain time.Duration
	// Rollback is when to give up on the new version.
	Rollback RollbackPolicy
}

// RollbackPolicy sets when an upgrade is rolled back automatically. Every
// message the new version fails during the upgrade is retried on the old
// version (without counting against its attempts), so a rollback loses
// nothing.
type RollbackPolicy struct {
	// MaxCrashes is the number of panics, traps or broken instances of the
	// new version tolerated (default 0: the first one rolls back).
	MaxCrashes int
	// MaxErrorRate is the share (0..1] of the new version's messages that
	// may fail (0: not checked). It is judged once MinMessages were handled.
	MaxErrorRate float64
	// MaxLatency is the mean handling time the new version may take, on the
	// runtime's clock (0: not checked), judged once MinMessages were handled.
	MaxLatency time.Duration
	// MinMessages is the sample size for MaxErrorRate and MaxLatency
	// (default 20).
	MinMessages int
}

// withDefaults validates s; the error names the field.
func (s Strategy) withDefaults() (Strategy, error) {
	if s.Kind > Rolling {
		return s, specErr("Strategy.Kind", "unknown value %d", s.Kind)
	}
	if s.StepEvery < 0 {
		return s, specErr("Strategy.StepEvery", "%v is negative", s.StepEvery)
	}
	if s.Watch < 0 {
		return s, specErr("Strategy.Watch", "%v is negative", s.Watch)
	}
	if s.Drain < 0 {
		return s, specErr("Strategy.Drain", "%v is negative", s.Drain)
	}
	s.StepEvery = cmp.Or(s.StepEvery, time.Minute)
	if s.Kind == Canary {
		if len(s.Steps) == 0 {
			s.Steps = []int{10, 50}
		}
		prev := 0
		for i, p := range s.Steps {
			if p <= prev || p >= 100 {
				return s, specErr(fmt.Sprintf("Strategy.Steps[%d]", i), "%d%%: steps must increase within (0, 100)", p)
			}
			prev = p
		}
	} else if len(s.Steps) > 0 {
		return s, specErr("Strategy.Steps", "only a Canary has steps")
	}
	r := &s.Rollback
	switch {
	case r.MaxCrashes < 0:
		return s, specErr("Strategy.Rollback.MaxCrashes", "%d is negative", r.MaxCrashes)
	case r.MaxErrorRate < 0 || r.MaxErrorRate > 1:
		return s, specErr("Strategy.Rollback.MaxErrorRate", "%v is outside [0, 1]", r.MaxErrorRate)
	case r.MaxLatency < 0:
		return s, specErr("Strategy.Rollback.MaxLatency", "%v is negative", r.MaxLatency)
	case r.MinMessages < 0:
		return s, specErr("Strategy.Rollback.MinMessages", "%d is negative", r.MinMessages)
	}
	r.MinMessages = cmp.Or(r.MinMessages, 20)
	return s, nil
}

// Rollout is an upgrade's progress, as AgentInfo shows it.
type Rollout struct {
	From, To  string       // version labels
	Strategy  StrategyKind //
	Share     int          // percent of messages going to To (canary, blue-green)
	Instances int          // instances moved to To (rolling)
	Handled   uint64       // messages To handled
	Failed    uint64       // messages To failed (each retried on From)
	Crashes   int          // panics, traps and broken instances of To
}

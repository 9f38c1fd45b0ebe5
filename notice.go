package caxton

import (
	"fmt"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/telemetry"
)

// The runtime's notices are FIPA failures sent in the system name's
// (WithSystemName, "caxton" by default): to an agent whose message could
// not be routed, and to the requester of a message that was dead-lettered.
// A dead-letter notice names the dead letter in these parameters, so a
// waiting Request can turn it into a *DeadLetteredError and a protocol
// client can tell it from an agent's own failure.
const (
	paramDeadLetter = "X-Caxton-Dead-Letter" // the dead letter's id
	paramReceiver   = "X-Caxton-Receiver"    // the agent that could not handle the message
	paramReason     = "X-Caxton-Reason"      // the dead letter's reason
)

// notifyFailure tells a sending agent, in FIPA terms, that its message could
// not be routed: a failure from the runtime's system name, in reply to the
// message, queued ahead of its other mail without blocking (the agent's own
// handler may be the one sending).
func (rt *Runtime) notifyFailure(from *agent, m *acl.Message, cause error) {
	if from == nil {
		return
	}
	f := m.CreateReplyWith(acl.Failure, rt.ids.New(rt.clock.Now()).String())
	f.Receivers = []acl.AgentID{from.name()}
	f.Sender = rt.cfg.systemName
	f.Language = "text/plain"
	f.Content = []byte(truncateNotice(cause.Error()))
	f.Priority = acl.PriorityHigh
	f.CreatedAt = rt.stamps.now()
	f.ID = rt.ids.New(f.CreatedAt)
	if err := from.deliverNotice(f); err != nil {
		rt.logger.WarnContext(telemetry.Extract(rt.shutdown.base, m), "could not notify agent of a failed send", "agent", from.name(), "message_id", m.ID, "error", err, "cause", cause)
	}
}

// noticeDeadLetter answers a dead-lettered message that expected an
// answer (it has a reply-with) with a FIPA failure from the runtime to its
// requester, so a waiting Request (or a protocol conversation) ends at once
// with the reason instead of at its deadline. The notice goes through the
// routing path — a waiting Request takes it there — but never blocks: the
// worker sending it must not wait on another mailbox. None is sent while
// the runtime closes (the requester is being released anyway), for the
// runtime's own notices, or to a requester that is gone.
func (rt *Runtime) noticeDeadLetter(d DeadLetter) {
	m := d.Message
	requester := m.Sender
	if m.ReplyTo != "" {
		requester = m.ReplyTo
	}
	if m.ReplyWith == "" || requester == "" || requester == rt.cfg.systemName || m.Sender == rt.cfg.systemName || rt.shutdown.isClosed() {
		return
	}
	f := m.CreateReplyWith(acl.Failure, "")
	f.Receivers = []acl.AgentID{requester}
	f.Language = "text/plain"
	text := fmt.Sprintf("dead-lettered by %s: %s", d.Receiver, d.Reason)
	if d.LastError != "" {
		text += ": " + d.LastError
	}
	f.Content = []byte(truncateNotice(text))
	f.Priority = acl.PriorityHigh
	f.Params = map[string]string{paramDeadLetter: d.ID, paramReceiver: string(d.Receiver), paramReason: truncateNotice(d.Reason)}
	o := origin{kind: originSystem, name: rt.cfg.systemName}
	if err := rt.send(rt.shutdown.base, f, o, rt.shutdown.closing); err != nil {
		rt.logger.WarnContext(telemetry.Extract(rt.shutdown.base, m), "could not tell the requester its message was dead-lettered", "message_id", m.ID, "requester", requester, "dead_letter", d.ID, "error", truncateNotice(err.Error()))
	}
}

// DeadLetteredError is what Request returns when its message was
// dead-lettered before anyone answered: the runtime's failure notice, as an
// error. errors.Is(err, ErrDeadLettered) holds.
type DeadLetteredError struct {
	Request    string      // the request's reply-with
	Receiver   acl.AgentID // the agent that could not handle it
	DeadLetter string      // the dead letter's id, for ReplayDeadLetters
	Reason     string      // the dead letter's reason: "max attempts", "permanent failure", ...
	Notice     *acl.Message
}

func (e *DeadLetteredError) Error() string {
	return fmt.Sprintf("caxton: request %s: %s", e.Request, e.Notice.Content)
}

// Unwrap returns ErrDeadLettered.
func (e *DeadLetteredError) Unwrap() error { return ErrDeadLettered }

func deadLetteredError(request, id string, notice *acl.Message) *DeadLetteredError {
	receiver, _ := notice.Param(paramReceiver)
	reason, _ := notice.Param(paramReason)
	return &DeadLetteredError{Request: request, Receiver: acl.AgentID(receiver), DeadLetter: id, Reason: reason, Notice: notice}
}

// truncateNotice bounds a failure notice's text (a message to thousands of
// unknown receivers would otherwise produce an enormous notice).
func truncateNotice(s string) string {
	const limit = 1024
	if len(s) > limit {
		return s[:limit] + "…"
	}
	return s
}

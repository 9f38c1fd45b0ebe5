package contractnet

import (
	"fmt"
	"strings"
	"time"

	"github.com/caxton-go/caxton/acl"
)

// EventKind names a step of a negotiation.
type EventKind uint8

// The steps an Initiator reports to its OnEvent hook.
const (
	EventCall          EventKind = iota + 1 // a call for proposals was sent
	EventUnreachable                        // a message (a call, an answer) could not be sent
	EventPropose                            // a proposal arrived in time
	EventRefuse                             // a participant refused
	EventNotUnderstood                      // a participant did not understand the call
	EventLate                               // a proposal arrived late and was rejected
	EventSilent                             // a participant did not answer by the deadline
	EventViolation                          // a message broke the protocol
	EventIterate                            // the selector called a new round
	EventAccept                             // accept-proposal sent
	EventReject                             // reject-proposal sent
	EventDone                               // a winner reported inform-done
	EventResult                             // a winner reported a result
	EventFailure                            // a winner reported failure
	EventTimeout                            // a winner did not report by the result deadline
	EventCancel                             // cancel sent
	EventCancelAck                          // a participant answered a cancel
	EventAfterEnd                           // a message arrived after the negotiation ended
)

var eventNames = [...]string{
	EventCall: "call", EventUnreachable: "unreachable", EventPropose: "propose",
	EventRefuse: "refuse", EventNotUnderstood: "not-understood", EventLate: "late",
	EventSilent: "silent", EventViolation: "violation", EventIterate: "iterate",
	EventAccept: "accept", EventReject: "reject", EventDone: "done", EventResult: "result",
	EventFailure: "failure", EventTimeout: "timeout", EventCancel: "cancel",
	EventCancelAck: "cancel-ack", EventAfterEnd: "after-end",
}

func (k EventKind) String() string {
	if int(k) < len(eventNames) && eventNames[k] != "" {
		return eventNames[k]
	}
	return "unknown"
}

// Event is one step of a negotiation, for logs, demos and telemetry. Its
// String is a one-line summary, e.g. "round 1 reject bidder-3: another
// proposal was chosen".
type Event struct {
	Time         time.Time // the initiator's clock
	Conversation string
	Round        int
	Kind         EventKind
	Participant  acl.AgentID
	Message      *acl.Message // the message sent or received, if any
	Reason       string       // a refusal's, failure's or violation's reason
}

// String summarises the event on one line: round, kind, participant, and
// the reason or the message's performative.
func (e Event) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "round %d %s", e.Round, e.Kind)
	if e.Participant != "" {
		b.WriteString(" " + string(e.Participant))
	}
	switch {
	case e.Reason != "":
		b.WriteString(": " + e.Reason)
	case e.Message != nil:
		b.WriteString(": " + e.Message.Performative.String())
	}
	return b.String()
}

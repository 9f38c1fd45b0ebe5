package api

import "encoding/json"

// The kinds of JSON frame on a joined connection (WSFrame.Type).
const (
	// FrameJoined is the server's first frame: Agent is the name joined.
	FrameJoined = "joined"
	// FrameMessage carries a message to the client (Message), with the
	// Delivery number the client acknowledges.
	FrameMessage = "message"
	// FrameAck acknowledges a delivery: the message is done.
	FrameAck = "ack"
	// FrameNack refuses a delivery: it is retried (or, with Permanent,
	// dead-lettered at once) with Reason as the error.
	FrameNack = "nack"
	// FrameSend is a message from the client (Message, in any JSON form the
	// HTTP gateway takes), with a client-chosen Ref echoed in the answer.
	FrameSend = "send"
	// FrameSent answers a send: ID is the message id the runtime stamped.
	FrameSent = "sent"
	// FrameError answers a send (or a join that failed after the upgrade)
	// with problem details.
	FrameError = "error"
)

// WSFrame is one JSON text frame of the WebSocket gateway, in either
// direction; Type says which fields are set.
type WSFrame struct {
	Type      string          `json:"type"`
	Agent     string          `json:"agent,omitempty"`
	Delivery  uint64          `json:"delivery,omitempty"`
	Ref       string          `json:"ref,omitempty"`
	ID        string          `json:"id,omitempty"`
	Message   json.RawMessage `json:"message,omitempty"`
	Reason    string          `json:"reason,omitempty"`
	Permanent bool            `json:"permanent,omitempty"`
	Problem   *Problem        `json:"problem,omitempty"`
}

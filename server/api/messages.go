package api

import (
	"encoding/json"
	"time"
)

// SendResult is the answer to POST /v1/messages.
type SendResult struct {
	ID string `json:"id"` // the message id the runtime stamped
}

// DeadLetterView is a dead letter as the API shows it.
type DeadLetterView struct {
	ID        string          `json:"id"`
	Receiver  string          `json:"receiver"`
	Reason    string          `json:"reason"`
	Attempts  int             `json:"attempts"`
	LastError string          `json:"last_error,omitempty"`
	At        time.Time       `json:"at"`
	Message   json.RawMessage `json:"message"`
}

// DeadLetterIDs is the body of replay and purge: the dead letters to act
// on, or all the caller may see when IDs is empty and All is true.
type DeadLetterIDs struct {
	IDs []string `json:"ids,omitempty"`
	All bool     `json:"all,omitempty"`
}

// DeadLetterResult says how many dead letters an action took.
type DeadLetterResult struct {
	Count int `json:"count"`
}

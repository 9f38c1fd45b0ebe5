package acl

import (
	"fmt"
	"strings"
)

// Performative is a FIPA communicative act: what the sender intends by a
// message (inform, request, propose, ...). The zero value is not a valid act;
// it means "unset" and fails validation, so a message built without one is
// caught instead of travelling as something it is not.
type Performative uint8

// The 22 communicative acts of FIPA SC00037J, in the order of the
// specification. Values are stable within a major version of this module.
const (
	AcceptProposal Performative = iota + 1
	Agree
	Cancel
	CFP
	Confirm
	Disconfirm
	Failure
	Inform
	InformIf
	InformRef
	NotUnderstood
	Propagate
	Propose
	Proxy
	QueryIf
	QueryRef
	Refuse
	RejectProposal
	Request
	RequestWhen
	RequestWhenever
	Subscribe
)

// performativeNames holds the FIPA names, indexed by Performative.
var performativeNames = [...]string{
	AcceptProposal:  "accept-proposal",
	Agree:           "agree",
	Cancel:          "cancel",
	CFP:             "cfp",
	Confirm:         "confirm",
	Disconfirm:      "disconfirm",
	Failure:         "failure",
	Inform:          "inform",
	InformIf:        "inform-if",
	InformRef:       "inform-ref",
	NotUnderstood:   "not-understood",
	Propagate:       "propagate",
	Propose:         "propose",
	Proxy:           "proxy",
	QueryIf:         "query-if",
	QueryRef:        "query-ref",
	Refuse:          "refuse",
	RejectProposal:  "reject-proposal",
	Request:         "request",
	RequestWhen:     "request-when",
	RequestWhenever: "request-whenever",
	Subscribe:       "subscribe",
}

// Performatives returns all 22 acts in specification order.
func Performatives() []Performative {
	out := make([]Performative, 0, len(performativeNames)-1)
	for p := AcceptProposal; p <= Subscribe; p++ {
		out = append(out, p)
	}
	return out
}

// Valid reports whether p is one of the 22 FIPA acts.
func (p Performative) Valid() bool { return p >= AcceptProposal && p <= Subscribe }

// String returns the FIPA name ("accept-proposal"), or "performative(N)" for
// a value that is not a FIPA act.
func (p Performative) String() string {
	if p.Valid() {
		return performativeNames[p]
	}
	return fmt.Sprintf("performative(%d)", uint8(p))
}

// ParsePerformative parses a FIPA act name, case-insensitively; surrounding
// spaces are ignored and "_" is accepted for "-" ("ACCEPT_PROPOSAL"). An
// unknown name is an error wrapping ErrInvalid.
func ParsePerformative(s string) (Performative, error) {
	name := strings.ToLower(strings.TrimSpace(s))
	name = strings.ReplaceAll(name, "_", "-")
	for p := AcceptProposal; p <= Subscribe; p++ {
		if performativeNames[p] == name {
			return p, nil
		}
	}
	return 0, &FieldError{Field: "performative", Reason: fmt.Sprintf("unknown communicative act %q", s)}
}

// MarshalText implements encoding.TextMarshaler; an invalid act is an error.
func (p Performative) MarshalText() ([]byte, error) {
	if !p.Valid() {
		return nil, &FieldError{Field: "performative", Reason: fmt.Sprintf("invalid value %d", uint8(p))}
	}
	return []byte(performativeNames[p]), nil
}

// UnmarshalText implements encoding.TextUnmarshaler using ParsePerformative.
func (p *Performative) UnmarshalText(b []byte) error {
	v, err := ParsePerformative(string(b))
	if err != nil {
		return err
	}
	*p = v
	return nil
}

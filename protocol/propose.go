package protocol

import (
	"context"

	"github.com/caxton-go/caxton/acl"
)

var proposeProtocol = oneShot{
	act: acl.Propose, protocol: FIPAPropose,
	success: acl.AcceptProposal, refusal: acl.RejectProposal,
}

// Propose runs the FIPA propose protocol (SC00036H): it proposes m's
// content to m's one receiver and returns the verdict. An accept-proposal
// is success (nil error, Answer.Result is the accept); a reject-proposal is
// a *ReplyError wrapping ErrRefused, a not-understood one wrapping
// ErrNotUnderstood. The protocol has no agree and no failure: either is a
// violation, answered with not-understood and recorded in
// Answer.Violations, and Propose keeps waiting for the verdict.
//
// Defaults, the ReplyBy deadline (ErrTimeout) and violations work as in
// Request; m.Performative zero becomes propose and m.Protocol empty
// becomes fipa-propose.
func (c *Client) Propose(ctx context.Context, m *acl.Message) (*Answer, error) {
	return c.exchange(ctx, m, proposeProtocol)
}

package protocol

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/caxton-go/caxton/acl"
)

var (
	queryIfProtocol = oneShot{
		act: acl.QueryIf, protocol: FIPAQuery,
		agreeOK: true, success: acl.Inform, refusal: acl.Refuse, failureOK: true,
	}
	queryRefProtocol = oneShot{
		act: acl.QueryRef, protocol: FIPAQuery,
		agreeOK: true, success: acl.Inform, refusal: acl.Refuse, failureOK: true,
	}
)

// QueryIf runs the FIPA query protocol (SC00027H) with query-if: it asks
// the one receiver of m whether m's proposition holds, and returns its
// verdict. The responder may agree first; its inform carries the JSON
// content true or false. Any other content is a protocol violation: it is
// answered with not-understood, recorded in Answer.Violations (the inform
// stays in Answer.Result) and returned as the error, which wraps
// ErrViolation and names the content.
//
// Everything else — defaults, refuse/failure/not-understood as a
// *ReplyError, the ReplyBy deadline (ErrTimeout), violations — works as in
// Request; m.Performative zero becomes query-if and m.Protocol empty
// becomes fipa-query.
func (c *Client) QueryIf(ctx context.Context, m *acl.Message) (bool, *Answer, error) {
	ans, err := c.exchange(ctx, m, queryIfProtocol)
	if err != nil {
		return false, ans, err
	}
	var v any
	if json.Unmarshal(ans.Result.Content, &v) == nil {
		if b, ok := v.(bool); ok {
			return b, ans, nil
		}
	}
	viol := Violation{Message: ans.Result, Reason: fmt.Sprintf("the answer to query-if must have content true or false, not %q", truncate(ans.Result.Content))}
	ans.Violations = append(ans.Violations, viol)
	c.notUnderstood(ctx, ans.Result, viol.Reason)
	return false, ans, viol
}

// QueryRef runs the FIPA query protocol (SC00027H) with query-ref: it asks
// the one receiver of m for the object m's content describes. The value is
// the content of the responder's inform, Answer.Result.Content, opaque to
// the protocol (its language is the inform's). The rest works as in
// Request; m.Performative zero becomes query-ref and m.Protocol empty
// becomes fipa-query.
func (c *Client) QueryRef(ctx context.Context, m *acl.Message) (*Answer, error) {
	return c.exchange(ctx, m, queryRefProtocol)
}

// truncate bounds content quoted in a reason, so a violation's message
// stays readable.
func truncate(b []byte) string {
	const limit = 64
	if len(b) > limit {
		return string(b[:limit]) + "…"
	}
	return string(b)
}

package mcpserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/contractnet"
)

func faceContractNetTool() *sdk.Tool {
	return &sdk.Tool{
		Name:  ToolContractNet,
		Title: "Run a Contract Net round",
		Description: "Delegate a task by FIPA Contract Net: call for proposals from the participants (named agents, every agent " +
			"advertising a capability, and/or every subscriber of a topic), collect their bids until deadline_ms, pick winners " +
			"with the selector, have the winners do the task and wait up to result_timeout_ms for their results. " +
			"Bids are JSON offers {\"cost\":..,\"score\":..}: lowest_cost and highest_score compare them, first_n takes the first n bids, " +
			"none accepts nobody (a price survey). Returns who was asked, the proposals, refusals with reasons, who stayed silent, " +
			"late bids, and each winner's outcome (done, informed with a result, failed with a reason, timed out).",
		Annotations: &sdk.ToolAnnotations{DestructiveHint: faceBool(false), OpenWorldHint: faceBool(false)},
	}
}

type faceContractNetIn struct {
	Task            string       `json:"task" jsonschema:"the call for proposals' content: what should be done (text or JSON, as the participants expect)"`
	Participants    []string     `json:"participants,omitempty" jsonschema:"agent names to ask"`
	Capability      string       `json:"capability,omitempty" jsonschema:"also ask every agent advertising this capability (see list_agents)"`
	Topic           string       `json:"topic,omitempty" jsonschema:"also ask every subscriber of this topic"`
	DeadlineMS      int64        `json:"deadline_ms,omitempty" jsonschema:"how long participants have to bid, in milliseconds (default 5000)"`
	Selector        faceSelector `json:"selector,omitempty" jsonschema:"how winners are chosen (default lowest_cost)"`
	N               int          `json:"n,omitempty" jsonschema:"how many winners lowest_cost, highest_score or first_n accept (default 1)"`
	ResultTimeoutMS int64        `json:"result_timeout_ms,omitempty" jsonschema:"how long winners have to report their results, in milliseconds (default 10000)"`
	Ontology        string       `json:"ontology,omitempty" jsonschema:"the vocabulary the task uses"`
	Language        string       `json:"language,omitempty" jsonschema:"the task's content language, e.g. json"`
}

type faceProposal struct {
	Participant string   `json:"participant"`
	Round       int      `json:"round"`
	Cost        *float64 `json:"cost,omitempty" jsonschema:"the offer's cost, when the bid is an offer"`
	Score       *float64 `json:"score,omitempty" jsonschema:"the offer's score, when the bid is an offer"`
	Detail      any      `json:"detail,omitempty" jsonschema:"the offer's free-form detail"`
	Content     string   `json:"content,omitempty" jsonschema:"the bid's raw content, when it is not an offer"`
}

type faceDecline struct {
	Participant string `json:"participant"`
	Reason      string `json:"reason"`
}

type faceWinner struct {
	Participant string   `json:"participant"`
	Cost        *float64 `json:"cost,omitempty"`
	Status      string   `json:"status" jsonschema:"done, informed (with a result), failed, timed out or cancelled"`
	Result      string   `json:"result,omitempty" jsonschema:"what the winner reported (for informed)"`
	Reason      string   `json:"reason,omitempty" jsonschema:"why it failed or has no answer"`
}

type faceContractNetOut struct {
	ConversationID string         `json:"conversation_id"`
	Rounds         int            `json:"rounds"`
	Asked          []string       `json:"asked" jsonschema:"everyone who received the call"`
	Proposals      []faceProposal `json:"proposals" jsonschema:"bids that arrived in time"`
	Refused        []faceDecline  `json:"refused" jsonschema:"participants that declined, with their reasons"`
	NotUnderstood  []faceDecline  `json:"not_understood,omitempty" jsonschema:"participants that did not understand the call"`
	Unreachable    []faceDecline  `json:"unreachable,omitempty" jsonschema:"participants the call could not be sent to"`
	Silent         []string       `json:"silent" jsonschema:"participants that did not answer by the deadline"`
	Late           []faceProposal `json:"late" jsonschema:"bids that arrived after the deadline (rejected)"`
	Winners        []faceWinner   `json:"winners" jsonschema:"accepted bids and how each task ended"`
	Violations     int            `json:"violations" jsonschema:"messages that broke the protocol"`
	Error          string         `json:"error,omitempty" jsonschema:"why the negotiation ended early, if it did"`
}

func (f *face) contractNet(ctx context.Context, _ *sdk.CallToolRequest, in faceContractNetIn) (*sdk.CallToolResult, faceContractNetOut, error) {
	var out faceContractNetOut
	if err := f.alive(); err != nil {
		return nil, out, err
	}
	cfp, ini, err := f.contractNetCall(in)
	if err != nil {
		return nil, out, err
	}
	res, err := ini.Run(ctx, cfp)
	if res == nil {
		if errors.Is(err, contractnet.ErrNoParticipants) {
			return nil, out, fmt.Errorf("contract_net failed: nobody to ask: the participants, capability and topic given name no agent (list_agents shows names and capabilities): %w", err)
		}
		return nil, out, faceRuntimeErr("contract_net", err)
	}
	out = faceContractNetSummary(res)
	if err == nil {
		return nil, out, nil
	}
	out.Error = err.Error()
	// The negotiation got somewhere: report how far, flagged as an error.
	text, merr := json.Marshal(out)
	if merr != nil {
		return nil, out, merr
	}
	return &sdk.CallToolResult{IsError: true, Content: []sdk.Content{
		&sdk.TextContent{Text: "contract_net ended early: " + err.Error()},
		&sdk.TextContent{Text: string(text)},
	}}, out, nil
}

// contractNetCall validates the arguments and builds the call and the
// initiator.
func (f *face) contractNetCall(in faceContractNetIn) (*acl.Message, *contractnet.Initiator, error) {
	var receivers []acl.AgentID
	if len(in.Participants) > 0 {
		rs, err := faceReceivers("participants", in.Participants)
		if err != nil {
			return nil, nil, err
		}
		for i, r := range rs {
			if r.IsTopic() {
				return nil, nil, faceArgErr(fmt.Sprintf("participants[%d]", i), "%q is a topic: pass its name in topic instead", r)
			}
		}
		receivers = rs
	}
	if in.Capability != "" {
		c := strings.TrimPrefix(in.Capability, contractnet.CapabilityPrefix)
		if err := acl.AgentID(c).Validate(); err != nil {
			return nil, nil, faceArgErr("capability", "%v", err)
		}
		receivers = append(receivers, contractnet.Capability(c))
	}
	if in.Topic != "" {
		t := acl.Topic(strings.TrimPrefix(in.Topic, acl.TopicPrefix))
		if err := t.Validate(); err != nil {
			return nil, nil, faceArgErr("topic", "%v", err)
		}
		receivers = append(receivers, t)
	}
	if len(receivers) == 0 {
		return nil, nil, faceArgErr("participants", "say whom to ask: participants, capability or topic")
	}
	if in.Task == "" {
		return nil, nil, faceArgErr("task", "describe the task: it is the call for proposals' content")
	}
	// The default deadline leaves at least half the server's longest wait
	// for the winners to report.
	deadline, err := f.wait("deadline_ms", in.DeadlineMS, min(DefaultProposalDeadline, f.cfg.maxTimeout/2))
	if err != nil {
		return nil, nil, err
	}
	resultTimeout, err := f.wait("result_timeout_ms", in.ResultTimeoutMS, f.cfg.timeout)
	if err != nil {
		return nil, nil, err
	}
	if total := deadline + resultTimeout; total > f.cfg.maxTimeout {
		if in.ResultTimeoutMS != 0 { // both asked for: the caller must choose
			return nil, nil, faceArgErr("result_timeout_ms", "deadline_ms + result_timeout_ms is %d ms; this server waits at most %d ms in all",
				total.Milliseconds(), f.cfg.maxTimeout.Milliseconds())
		}
		resultTimeout = f.cfg.maxTimeout - deadline // the default shrinks to fit
		if resultTimeout <= 0 {
			return nil, nil, faceArgErr("deadline_ms", "%d ms leaves the winners no time to report within this server's limit of %d ms",
				deadline.Milliseconds(), f.cfg.maxTimeout.Milliseconds())
		}
	}
	sel, err := faceSelect(in.Selector, in.N)
	if err != nil {
		return nil, nil, err
	}
	cfp := acl.New(acl.CFP, receivers...)
	cfp.Content = []byte(in.Task)
	cfp.Ontology, cfp.Language = in.Ontology, in.Language
	cfp.ReplyBy = f.rt.Clock().Now().Add(deadline)
	if err := (acl.Validator{SkipReceiverNames: true, Now: f.rt.Clock().Now}).Validate(cfp); err != nil {
		return nil, nil, faceRuntimeErr("contract_net", err) // e.g. an ontology with spaces
	}
	ini := &contractnet.Initiator{Client: f.cnet, Directory: f.rt, Select: sel, ResultTimeout: resultTimeout}
	return cfp, ini, nil
}

func faceSelect(s faceSelector, n int) (contractnet.Selector, error) {
	if n < 0 {
		return nil, faceArgErr("n", "%d is negative", n)
	}
	switch s {
	case faceLowestCost, "":
		return contractnet.LowestCost(n), nil
	case faceHighestScore:
		return contractnet.HighestScore(n), nil
	case faceFirstN:
		return contractnet.FirstN(n), nil
	case faceSelectNone:
		if n > 0 {
			return nil, faceArgErr("n", "selector none accepts no bid; leave n out")
		}
		return contractnet.None(), nil
	}
	return nil, faceArgErr("selector", "unknown selector %q (use lowest_cost, highest_score, first_n or none)", s)
}

func faceContractNetSummary(res *contractnet.Result) faceContractNetOut {
	out := faceContractNetOut{
		ConversationID: res.ConversationID,
		Rounds:         len(res.Rounds),
		Asked:          faceNames(res.Asked()),
		Proposals:      []faceProposal{},
		Refused:        []faceDecline{},
		Silent:         []string{},
		Late:           []faceProposal{},
		Winners:        []faceWinner{},
		Violations:     len(res.Violations),
	}
	for _, r := range res.Rounds {
		for _, p := range r.Proposals {
			out.Proposals = append(out.Proposals, faceProposalOf(p))
		}
		out.Refused = faceDeclines(out.Refused, r.Refused)
		out.NotUnderstood = faceDeclines(out.NotUnderstood, r.NotUnderstood)
		out.Unreachable = faceDeclines(out.Unreachable, r.Unreachable)
		out.Silent = append(out.Silent, faceNames(r.Silent)...)
	}
	for _, p := range res.Late {
		out.Late = append(out.Late, faceProposalOf(p))
	}
	for _, o := range res.Outcomes {
		w := faceWinner{Participant: string(o.Participant), Status: o.Status.String(), Reason: o.Reason}
		w.Cost = faceProposalOf(o.Proposal).Cost
		if r := o.Result(); r != nil {
			w.Result, _ = faceContent(r)
			if w.Result == "" {
				w.Result = "(binary result of " + fmt.Sprint(len(r)) + " bytes)"
			}
		}
		if o.Status == contractnet.Failed && w.Reason == "" && o.Message != nil {
			w.Reason, _ = faceContent(o.Message.Content)
		}
		out.Winners = append(out.Winners, w)
	}
	return out
}

func faceProposalOf(p contractnet.Proposal) faceProposal {
	sp := faceProposal{Participant: string(p.From), Round: p.Round}
	if p.Message == nil {
		return sp
	}
	o, err := p.Offer()
	if err != nil {
		sp.Content, _ = faceContent(p.Message.Content)
		return sp
	}
	sp.Cost = &o.Cost
	if o.Score != 0 {
		sp.Score = &o.Score
	}
	if len(o.Detail) > 0 {
		var d any
		if json.Unmarshal(o.Detail, &d) == nil {
			sp.Detail = d
		}
	}
	return sp
}

// faceDeclines appends a round's reasons, sorted by participant.
func faceDeclines(to []faceDecline, m map[acl.AgentID]string) []faceDecline {
	names := make([]acl.AgentID, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		to = append(to, faceDecline{Participant: string(n), Reason: m[n]})
	}
	return to
}

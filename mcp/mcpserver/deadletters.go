package mcpserver

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

func faceDeadLettersTool() *sdk.Tool {
	return &sdk.Tool{
		Name:  ToolDeadLetters,
		Title: "List dead letters",
		Description: "List the dead-letter queue, oldest first: messages the runtime gave up on, each with its id, the agent it was for, " +
			"the reason (max attempts, agent removed, runtime closed, ...), the attempts made, the last handler error and a summary of the message. " +
			"Use replay_dead_letters with ids to send them again once the cause is fixed.",
		Annotations: &sdk.ToolAnnotations{ReadOnlyHint: true, OpenWorldHint: faceBool(false)},
	}
}

const (
	faceDeadLettersDefault = 50
	faceDeadLettersMax     = 500
	facePreviewBytes       = 512 // content shown per dead letter
)

type faceDeadLettersIn struct {
	Receiver string `json:"receiver,omitempty" jsonschema:"only dead letters meant for this agent"`
	Limit    int    `json:"limit,omitempty" jsonschema:"the most entries to list, oldest first (default 50, at most 500)"`
}

type faceDeadLetter struct {
	ID        string `json:"id" jsonschema:"pass it to replay_dead_letters"`
	Receiver  string `json:"receiver" jsonschema:"the agent the message was meant for"`
	Reason    string `json:"reason"`
	Attempts  int    `json:"attempts" jsonschema:"handling attempts made"`
	LastError string `json:"last_error,omitempty"`
	At        string `json:"at" jsonschema:"when it was dead-lettered (RFC 3339)"`
	Message   struct {
		ID             string   `json:"id"`
		Performative   string   `json:"performative"`
		Sender         string   `json:"sender"`
		Receivers      []string `json:"receivers"`
		ConversationID string   `json:"conversation_id,omitempty"`
		Protocol       string   `json:"protocol,omitempty"`
		Content        string   `json:"content" jsonschema:"the content as text, cut to 512 bytes"`
		ContentBytes   int      `json:"content_bytes" jsonschema:"the content's full size"`
	} `json:"message"`
}

type faceDeadLettersOut struct {
	Total       int              `json:"total" jsonschema:"entries in the queue (matching receiver, if given)"`
	DeadLetters []faceDeadLetter `json:"dead_letters"`
}

func (f *face) deadLetters(ctx context.Context, _ *sdk.CallToolRequest, in faceDeadLettersIn) (*sdk.CallToolResult, faceDeadLettersOut, error) {
	out := faceDeadLettersOut{DeadLetters: []faceDeadLetter{}}
	if err := f.alive(); err != nil {
		return nil, out, err
	}
	switch {
	case in.Limit < 0:
		return nil, out, faceArgErr("limit", "%d is negative", in.Limit)
	case in.Limit > faceDeadLettersMax:
		return nil, out, faceArgErr("limit", "%d is above the limit of %d", in.Limit, faceDeadLettersMax)
	case in.Limit == 0:
		in.Limit = faceDeadLettersDefault
	}
	for d, err := range f.rt.AllDeadLetters(ctx) {
		if err != nil {
			return nil, out, faceRuntimeErr("dead_letters", err)
		}
		if in.Receiver != "" && string(d.Receiver) != in.Receiver {
			continue
		}
		out.Total++
		if len(out.DeadLetters) == in.Limit {
			continue
		}
		e := faceDeadLetter{ID: d.ID, Receiver: string(d.Receiver), Reason: d.Reason, Attempts: d.Attempts,
			LastError: d.LastError, At: faceTime(d.At)}
		if m := d.Message; m != nil {
			e.Message.ID, e.Message.Performative, e.Message.Sender = m.ID.String(), m.Performative.String(), string(m.Sender)
			e.Message.Receivers, e.Message.ConversationID, e.Message.Protocol = faceNames(m.Receivers), m.ConversationID, m.Protocol
			e.Message.ContentBytes = len(m.Content)
			e.Message.Content = facePreview(m.Content)
		}
		out.DeadLetters = append(out.DeadLetters, e)
	}
	return nil, out, nil
}

// facePreview shows up to facePreviewBytes of content as text, cut at
// a rune boundary.
func facePreview(b []byte) string {
	cut := len(b) > facePreviewBytes
	if cut {
		b = b[:facePreviewBytes]
	}
	s := strings.ToValidUTF8(string(b), "\uFFFD")
	if cut {
		s = strings.TrimRight(s, "\uFFFD") + "…"
	}
	return s
}

func faceReplayTool() *sdk.Tool {
	return &sdk.Tool{
		Name:  ToolReplayDeadLetters,
		Title: "Replay dead letters",
		Description: "Send dead letters again, each to the agent it was meant for, with a fresh attempt count; replayed entries leave the queue. " +
			"Take the ids from dead_letters. Replay only after the cause (a stopped or failing agent) is fixed, or the message will fail again.",
		// Replayed entries leave the queue (destructive); a second call with
		// the same ids finds them gone and sends nothing more (idempotent).
		Annotations: &sdk.ToolAnnotations{DestructiveHint: faceBool(true), IdempotentHint: true, OpenWorldHint: faceBool(false)},
	}
}

type faceReplayIn struct {
	IDs []string `json:"ids" jsonschema:"the dead letters to replay (ids from dead_letters)"`
}

type faceReplayFailure struct {
	ID    string `json:"id"`
	Error string `json:"error"`
}

type faceReplayOut struct {
	Replayed []string            `json:"replayed" jsonschema:"ids sent again (they left the queue)"`
	Failed   []faceReplayFailure `json:"failed" jsonschema:"ids that could not be replayed, with the reason (they stay in the queue unless unknown)"`
}

func (f *face) replayDeadLetters(ctx context.Context, _ *sdk.CallToolRequest, in faceReplayIn) (*sdk.CallToolResult, faceReplayOut, error) {
	out := faceReplayOut{Replayed: []string{}, Failed: []faceReplayFailure{}}
	if err := f.alive(); err != nil {
		return nil, out, err
	}
	if len(in.IDs) == 0 {
		return nil, out, faceArgErr("ids", "give at least one dead-letter id (see dead_letters)")
	}
	seen := make(map[string]bool, len(in.IDs))
	for i, id := range in.IDs {
		if id == "" {
			return nil, out, faceArgErr(fmt.Sprintf("ids[%d]", i), "empty id")
		}
		if seen[id] {
			return nil, out, faceArgErr(fmt.Sprintf("ids[%d]", i), "%q is listed twice", id)
		}
		seen[id] = true
	}
	for _, id := range in.IDs {
		if err := f.rt.ReplayDeadLetters(ctx, id); err != nil {
			out.Failed = append(out.Failed, faceReplayFailure{ID: id, Error: err.Error()})
			continue
		}
		out.Replayed = append(out.Replayed, id)
	}
	if len(out.Failed) == 0 {
		return nil, out, nil
	}
	text, err := json.Marshal(out)
	if err != nil {
		return nil, out, err
	}
	return &sdk.CallToolResult{IsError: true, Content: []sdk.Content{
		&sdk.TextContent{Text: fmt.Sprintf("replay_dead_letters: %d of %d could not be replayed", len(out.Failed), len(in.IDs))},
		&sdk.TextContent{Text: string(text)},
	}}, out, nil
}

package mcpserver

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"time"

	"github.com/caxton-go/caxton"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// faceLogCalls is a receiving middleware that logs every tool call at
// Info on the runtime's logger — the tool, the session, who called it (the
// Identity's Subject, when the HTTP face has an Authenticator), how long
// it took and how it ended — and records it in the runtime's audit trail
// (caxton.AuditCall, action "mcp TOOL", the caller's identity as subject).
// A client's tool call is an outside party acting on the runtime.
func faceLogCalls(rt *caxton.Runtime) sdk.Middleware {
	logger := rt.Logger()
	return func(next sdk.MethodHandler) sdk.MethodHandler {
		return func(ctx context.Context, method string, req sdk.Request) (sdk.Result, error) {
			call, ok := req.(*sdk.CallToolRequest)
			if !ok || call.Params == nil {
				return next(ctx, method, req)
			}
			start := time.Now()
			res, err := next(ctx, method, req)
			attrs := []slog.Attr{slog.String("tool", call.Params.Name), slog.Duration("duration", time.Since(start))}
			if s := req.GetSession(); s != nil && s.ID() != "" {
				attrs = append(attrs, slog.String("session", s.ID()))
			}
			if id, ok := IdentityFrom(ctx); ok {
				attrs = append(attrs, slog.String("identity", id.Subject))
			}
			var outcome error
			switch r, _ := res.(*sdk.CallToolResult); {
			case err != nil:
				attrs = append(attrs, slog.String("outcome", "protocol error"), slog.String("error", err.Error()))
				outcome = err
			case r != nil && r.IsError:
				attrs = append(attrs, slog.String("outcome", "tool error"), slog.String("error", faceResultText(r)))
				outcome = errors.New(faceResultText(r))
			default:
				attrs = append(attrs, slog.String("outcome", "ok"))
			}
			logger.LogAttrs(ctx, slog.LevelInfo, "mcpserver: tool call", attrs...)
			rt.RecordCall(ctx, "mcp "+call.Params.Name, callTarget(call), outcome)
			return res, err
		}
	}
}

// faceResultText is the first text of a result, for the log.
func faceResultText(r *sdk.CallToolResult) string {
	for _, c := range r.Content {
		if t, ok := c.(*sdk.TextContent); ok {
			return t.Text
		}
	}
	return ""
}

// callTarget is what a tool call acts on, for its audit record: the agent
// its arguments name ("to", "agent" or "name"), or "" when none does.
func callTarget(call *sdk.CallToolRequest) string {
	var args struct {
		To    string `json:"to"`
		Agent string `json:"agent"`
		Name  string `json:"name"`
	}
	_ = json.Unmarshal(call.Params.Arguments, &args) // a malformed call has no target; its outcome says why
	for _, t := range []string{args.To, args.Agent, args.Name} {
		if t != "" {
			return t
		}
	}
	return ""
}

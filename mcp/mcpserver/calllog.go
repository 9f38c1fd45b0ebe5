package mcpserver

import (
	"context"
	"log/slog"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// faceLogCalls is a receiving middleware that logs every tool call at
// Info on the runtime's logger: the tool, the session, who called it (the
// Identity's Subject, when the HTTP face has an Authenticator), how long
// it took and how it ended. A client's tool call is an outside party
// acting on the runtime; the log is its audit trail.
func faceLogCalls(logger *slog.Logger) sdk.Middleware {
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
			switch r, _ := res.(*sdk.CallToolResult); {
			case err != nil:
				attrs = append(attrs, slog.String("outcome", "protocol error"), slog.String("error", err.Error()))
			case r != nil && r.IsError:
				attrs = append(attrs, slog.String("outcome", "tool error"), slog.String("error", faceResultText(r)))
			default:
				attrs = append(attrs, slog.String("outcome", "ok"))
			}
			logger.LogAttrs(ctx, slog.LevelInfo, "mcpserver: tool call", attrs...)
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

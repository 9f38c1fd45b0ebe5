package mcp

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/caxton-go/caxton/telemetry"
	"github.com/caxton-go/caxton/tool"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// Span attribute keys of a tool call's span, named "tools/call {tool}" as
// the MCP semantic conventions name a tools/call request (its other
// attributes: mcp.method.name "tools/call", gen_ai.operation.name
// "execute_tool", caxton.agent (telemetry.KeyAgent), and error.type
// (telemetry.KeyErrorType, the status) when the call fails).
const (
	KeyMethodName   = attribute.Key("mcp.method.name")       // "tools/call"
	KeyOperation    = attribute.Key("gen_ai.operation.name") // "execute_tool"
	KeyTool         = attribute.Key("gen_ai.tool.name")      // the tool's name as the agent calls it
	KeyToolStatus   = attribute.Key("caxton.tool.status")    // the tool.Status
	KeyToolDuration = attribute.Key("caxton.tool.duration")  // seconds, float
)

var (
	methodToolsCall = KeyMethodName.String("tools/call")
	opExecuteTool   = KeyOperation.String("execute_tool")
)

// errGrantTimeout is the cause of a call's context when the grant's
// timeout ends it, which tells it apart from the caller giving up.
var errGrantTimeout = errors.New("the grant's timeout passed")

// CallTool runs one tool call for an agent; it is the registry's
// tool.Toolbox method. Checks come in this order, and the first that fails
// is the answer: the grant allows the tool (tool.StatusDenied); the tool
// exists (tool.StatusUnavailable); the agent is within its rate
// (tool.StatusRateLimited); the arguments are a JSON object that matches
// the tool's schema (tool.StatusBadArguments). Then the tool runs within
// the grant's timeout (tool.StatusTimeout; tool.StatusUnavailable if ctx
// ends first) and its result must fit the grant's MaxResult
// (tool.StatusTooLarge). Every call is audited.
func (r *Registry) CallTool(ctx context.Context, call tool.Call) tool.Result {
	start := r.clock.Now()
	if ctx == nil {
		ctx = context.Background()
		res := unavailable("CallTool was given a nil context.Context")
		r.finish(ctx, nil, start, call, res, 0)
		return res
	}
	ctx, span := r.tracer.Start(ctx, "tools/call "+call.Tool, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(methodToolsCall, opExecuteTool, KeyTool.String(call.Tool), telemetry.KeyAgent.String(string(call.Agent))))
	call.Grant = call.Grant.WithDefaults()
	if len(call.Arguments) == 0 {
		call.Arguments = []byte("{}")
	}
	res, size := r.call(ctx, call)
	res.Content = boundReason(res, call.Grant.MaxResult)
	r.finish(ctx, span, start, call, res, size)
	return res
}

// call is CallTool without the bookkeeping. size is the result's size.
func (r *Registry) call(ctx context.Context, call tool.Call) (tool.Result, int) {
	if r.isClosed() {
		return unavailable("the tool registry is closed"), 0
	}
	if !call.Grant.Allows(call.Tool) {
		return denied(call), 0
	}
	t := r.lookup(call.Tool)
	if t == nil {
		return unavailable(fmt.Sprintf("no tool named %q", call.Tool)), 0
	}
	if why := r.limits.allow(call.Agent, call.Grant, r.clock.Now()); why != "" {
		return tool.Result{Status: tool.StatusRateLimited, Content: []byte(why)}, 0
	}
	if why := checkArguments(t.schema, call.Arguments); why != "" {
		return tool.Result{Status: tool.StatusBadArguments, Content: []byte(fmt.Sprintf("tool %q: %s", call.Tool, why))}, 0
	}

	timed, cancelTimeout := context.WithTimeoutCause(ctx, call.Grant.Timeout, errGrantTimeout)
	defer cancelTimeout()
	// Close cancels calls in flight: a server session cannot close while
	// a request on it waits for an answer.
	callCtx, cancel := context.WithCancelCause(timed)
	defer cancel(nil)
	defer context.AfterFunc(r.ctx, func() { cancel(ErrClosed) })()

	if t.server != nil {
		if res, ok := allowServer(t.server); !ok {
			return res, 0
		}
		res, size := r.callOn(callCtx, t, call)
		recordServer(t.server, res)
		return res, size
	}
	return r.callOn(callCtx, t, call)
}

// callOn runs the call on its server or host handler and says why it
// failed if callCtx ended.
func (r *Registry) callOn(callCtx context.Context, t *entry, call tool.Call) (tool.Result, int) {
	var res tool.Result
	if t.server != nil {
		res = t.server.call(callCtx, t.remote, call.Arguments)
	} else {
		res = r.runHost(callCtx, t, call)
	}
	if res.Status != tool.StatusOK && callCtx.Err() != nil {
		// Whatever the tool made of its context ending, say why it ended.
		switch cause := context.Cause(callCtx); {
		case cause == errGrantTimeout:
			return tool.Result{Status: tool.StatusTimeout,
				Content: []byte(fmt.Sprintf("tool %q took longer than the grant's timeout of %v", call.Tool, call.Grant.Timeout))}, 0
		case cause == ErrClosed:
			return unavailable(fmt.Sprintf("tool %q: the tool registry was closed during the call", call.Tool)), 0
		default:
			return unavailable(fmt.Sprintf("tool %q: the call was cancelled by the caller: %v", call.Tool, cause)), 0
		}
	}
	if res.Status == tool.StatusOK && len(res.Content) > call.Grant.MaxResult {
		n := len(res.Content)
		return tool.Result{Status: tool.StatusTooLarge,
			Content: []byte(fmt.Sprintf("tool %q returned %d bytes; the grant's MaxResult is %d", call.Tool, n, call.Grant.MaxResult))}, n
	}
	return res, len(res.Content)
}

// runHost runs a host handler on its own goroutine, so that the caller
// gets its answer when ctx ends even if the handler ignores ctx.
func (r *Registry) runHost(ctx context.Context, t *entry, call tool.Call) tool.Result {
	done := make(chan tool.Result, 1) // buffered: a late handler must not block
	go func() {
		defer func() {
			if v := recover(); v != nil {
				r.logger.Error("mcp: tool handler panicked", "tool", call.Tool, "agent", call.Agent,
					"panic", v, "stack", string(debug.Stack()))
				done <- tool.Result{Status: tool.StatusError, Content: []byte(fmt.Sprintf("tool %q panicked: %v", call.Tool, v))}
			}
		}()
		out, err := t.handler(ctx, call)
		if err != nil {
			done <- tool.Result{Status: tool.StatusError, Content: []byte(err.Error())}
			return
		}
		done <- tool.Result{Status: tool.StatusOK, Content: out}
	}()
	select {
	case res := <-done:
		return res
	case <-ctx.Done():
		select {
		case res := <-done: // it answered just in time
			return res
		default:
			return unavailable(context.Cause(ctx).Error()) // CallTool says why ctx ended
		}
	}
}

// finish audits, logs and ends the span of a call.
func (r *Registry) finish(ctx context.Context, span trace.Span, start time.Time, call tool.Call, res tool.Result, size int) {
	d := r.clock.Now().Sub(start)
	rec := AuditRecord{Time: start, Agent: call.Agent, Tool: call.Tool, Duration: d, Status: res.Status,
		ArgBytes: len(call.Arguments), ResultBytes: size}
	if res.Status != tool.StatusOK {
		rec.Error = string(res.Content)
	}
	r.audit.add(rec)
	if r.auditHook != nil {
		r.auditHook(rec)
	}
	r.logger.DebugContext(ctx, "mcp: tool call", "agent", call.Agent, "tool", call.Tool,
		"status", res.Status.String(), "duration", d, "error", rec.Error)
	if span == nil {
		return
	}
	span.SetAttributes(KeyToolStatus.String(res.Status.String()), KeyToolDuration.Float64(d.Seconds()))
	if res.Status != tool.StatusOK {
		span.SetAttributes(telemetry.KeyErrorType.String(res.Status.String()))
		span.SetStatus(codes.Error, rec.Error)
	}
	span.End()
}

// maxReason bounds the registry's own reasons, which may quote a server.
const maxReason = 4 << 10

// boundReason truncates the reason of a failed call. A tool's error text
// is the tool's output, so MaxResult bounds it as it bounds a result; the
// registry's own reasons get at least maxReason bytes, so that a tiny
// MaxResult does not cut "why" short.
func boundReason(res tool.Result, maxResult int) []byte {
	limit := maxResult
	if res.Status != tool.StatusError {
		limit = max(limit, maxReason)
	}
	if res.Status == tool.StatusOK || len(res.Content) <= limit {
		return res.Content
	}
	for limit > 0 && !utf8.RuneStart(res.Content[limit]) {
		limit-- // do not split a character
	}
	return append(res.Content[:limit:limit], "…"...)
}

func unavailable(why string) tool.Result {
	return tool.Result{Status: tool.StatusUnavailable, Content: []byte(why)}
}

// denied explains a denial: which grant entries would allow the tool.
func denied(call tool.Call) tool.Result {
	would := []string{fmt.Sprintf("%q", call.Tool)}
	if ns, _, ok := strings.Cut(call.Tool, "/"); ok {
		would = append(would, fmt.Sprintf("%q", ns+"/*"))
	}
	would = append(would, `"*"`)
	allowed := "nothing"
	if len(call.Grant.Allow) > 0 {
		a := append([]string(nil), call.Grant.Allow...)
		sort.Strings(a)
		allowed = fmt.Sprintf("%q", a)
	}
	return tool.Result{Status: tool.StatusDenied, Content: []byte(fmt.Sprintf(
		"agent %q may not call tool %q: its grant allows %s; add %s to AgentSpec.Tools.Allow to allow it",
		call.Agent, call.Tool, allowed, strings.Join(would, " or ")))}
}

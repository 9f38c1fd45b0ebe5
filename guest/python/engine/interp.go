package main

import (
	_ "embed"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/guest"
	"github.com/caxton-go/caxton/tool"
	_ "github.com/go-python/gpython/compile" // sets py.Compile
	"github.com/go-python/gpython/py"
	_ "github.com/go-python/gpython/stdlib/builtin"
	_ "github.com/go-python/gpython/stdlib/math"
	_ "github.com/go-python/gpython/stdlib/string"
	_ "github.com/go-python/gpython/stdlib/time"
)

// importable names the modules an agent can import (ResolveAndCompile's
// message).
const importable = "json, math, string, time"

// prelude is the agent API's source; the engine runs it compiled ahead of
// time (preludeCode, generated from it by the test in prelude_gen_test.go).
//
//go:generate go test -run TestPreludeCodeIsCurrent -update .
//go:embed prelude.py
var prelude string

const preludeFile = "<caxton prelude>"

// host is what a handler call reaches: *guest.Context in the guest, a
// fake in the tests.
type host interface {
	Send(m *acl.Message)
	Log(level int, msg string)
	Now() time.Time
	CallTool(name string, args any) tool.Result
}

// interp is one agent: its script loaded in a fresh interpreter.
type interp struct {
	ctx     *pyContext
	globals py.StringDict
	message *py.Type // the prelude's Message class
	context *py.Type // the prelude's Context class
	host    host     // the current handler call's, nil between calls
}

// load makes an interpreter, runs the prelude and then script in its
// __main__, and checks that the script defined handle. The error is the
// interpreter's message with the traceback.
func load(script string) (*interp, error) {
	in := &interp{ctx: newPyContext()}
	if err := py.Import(in.ctx, "builtins"); err != nil {
		return nil, err
	}
	mod, err := in.ctx.Store().NewModule(in.ctx, &py.ModuleImpl{Info: py.ModuleInfo{Name: py.MainModuleName, FileDesc: "<agent>"}})
	if err != nil {
		return nil, err
	}
	in.globals = mod.Globals
	for _, m := range in.hostMethods() {
		in.globals[m.Name] = m
	}
	for _, t := range exceptionTypes {
		in.globals[t.Name] = t
	}
	if _, err := in.ctx.RunCode(preludeCode(), in.globals, in.globals, nil); err != nil {
		return nil, fmt.Errorf("prelude: %w", pyError(err))
	}
	var ok1, ok2 bool
	in.message, ok1 = in.globals["Message"].(*py.Type)
	in.context, ok2 = in.globals["Context"].(*py.Type)
	if !ok1 || !ok2 {
		return nil, errors.New("prelude: Message and Context must be classes")
	}
	if err := in.run(script, "agent.py"); err != nil {
		return nil, err
	}
	if _, err := py.Call(in.globals["_loaded"], nil, nil); err != nil {
		return nil, pyError(err)
	}
	return in, nil
}

func (in *interp) run(src, name string) error {
	code, err := py.Compile(src, name, py.ExecMode, 0, true)
	if err != nil {
		return pyError(err)
	}
	if _, err := in.ctx.RunCode(code, in.globals, in.globals, nil); err != nil {
		return pyError(err)
	}
	return nil
}

// handle runs the script's handle for m. A PermanentError is a permanent
// failure; any other exception one worth retrying.
func (in *interp) handle(m *acl.Message, h host) error {
	in.host = h
	defer func() { in.host = nil }()
	// The message and its context are made here rather than by Python
	// constructors: filling an instance's dict directly costs a fraction of
	// twenty setattr calls, and this runs for every message.
	msg := in.message.Alloc()
	msg.Dict = messageFields(m)
	ctx := in.context.Alloc()
	ctx.Dict["_msg"] = msg
	_, err := py.Call(in.globals["handle"], py.Tuple{msg, ctx}, nil)
	if err == nil {
		return nil
	}
	perr := pyError(err)
	h.Log(guest.LevelWarn, "python: handle failed: "+perr.Error())
	var ei py.ExceptionInfo
	if errors.As(err, &ei) && ei.Type != nil && ei.Type.IsSubtype(permanentError) {
		return guest.Permanent(perr)
	}
	return perr
}

// pyError turns an interpreter error into one line per traceback entry
// plus the exception, as Python prints them.
func pyError(err error) error {
	var ei py.ExceptionInfo
	if !errors.As(err, &ei) {
		return err
	}
	var b strings.Builder
	if ei.Traceback != nil {
		ei.Traceback.TracebackDump(&b)
	}
	msg := strings.TrimSpace(b.String())
	if exc, ok := ei.Value.(*py.Exception); ok {
		s, _ := py.StrAsString(exc)
		name := exc.Type().Name
		if s != "" {
			name += ": " + s
		}
		msg = strings.TrimSpace(msg + "\n" + name)
	} else if ei.Type != nil {
		msg = strings.TrimSpace(msg + "\n" + ei.Type.Name)
	}
	return errors.New(msg)
}

// messageFields is m as the dict the prelude's Message is made from.
func messageFields(m *acl.Message) py.StringDict {
	d := py.StringDict{
		"performative":     py.String(m.Performative.String()),
		"sender":           py.String(m.Sender),
		"reply_to":         py.String(m.ReplyTo),
		"language":         py.String(m.Language),
		"encoding":         py.String(m.Encoding),
		"ontology":         py.String(m.Ontology),
		"protocol":         py.String(m.Protocol),
		"conversation_id":  py.String(m.ConversationID),
		"reply_with":       py.String(m.ReplyWith),
		"in_reply_to":      py.String(m.InReplyTo),
		"priority":         py.String(m.Priority.String()),
		"params":           stringMap(m.Params),
		"trace":            stringMap(m.TraceContext),
		"created_at_nanos": nanos(m.CreatedAt),
		"reply_by_nanos":   nanos(m.ReplyBy),
		"created_at":       seconds(m.CreatedAt),
		"reply_by":         seconds(m.ReplyBy),
	}
	id := ""
	if !m.ID.IsZero() {
		id = m.ID.String()
	}
	d["id"] = py.String(id)
	rs := make([]string, len(m.Receivers))
	for i, r := range m.Receivers {
		rs[i] = string(r)
	}
	d["receivers"] = py.NewListFromStrings(rs)
	if utf8.Valid(m.Content) {
		d["text"], d["bytes"] = py.String(m.Content), py.None
	} else {
		d["text"], d["bytes"] = py.None, py.Bytes(append([]byte(nil), m.Content...))
	}
	return d
}

func stringMap(m map[string]string) py.StringDict {
	d := py.NewStringDictSized(len(m))
	for k, v := range m {
		d[k] = py.String(v)
	}
	return d
}

func seconds(t time.Time) py.Object {
	if t.IsZero() {
		return py.None
	}
	return py.Float(float64(t.UnixNano()) / 1e9)
}

func nanos(t time.Time) py.Object {
	if t.IsZero() {
		return py.Int(0)
	}
	return py.Int(t.UnixNano())
}

// env is caxton.env: a variable the host granted, or None.
func env(name string) py.Object {
	if v, ok := os.LookupEnv(name); ok {
		return py.String(v)
	}
	return py.None
}

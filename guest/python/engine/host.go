package main

import (
	"time"

	"github.com/caxton-go/caxton/acl"
	"github.com/go-python/gpython/py"
)

// hostMethods are the built-ins the prelude builds the agent API on; their
// names start with an underscore (they are not the API).
func (in *interp) hostMethods() []*py.Method {
	return []*py.Method{
		py.MustNewMethod("_host_send", func(_ py.Object, args py.Tuple) (py.Object, error) {
			var f py.Object
			if err := py.UnpackTuple(args, nil, "send", 1, 1, &f); err != nil {
				return nil, err
			}
			d, ok := f.(py.StringDict)
			if !ok {
				return nil, py.ExceptionNewf(py.TypeError, "send takes a dict of message fields, not %s", f.Type().Name)
			}
			m, err := messageFromFields(d)
			if err != nil {
				return nil, err
			}
			if err := in.current().Send(m); err != nil {
				return nil, err
			}
			return py.None, nil
		}, 0, ""),
		py.MustNewMethod("_host_log", func(_ py.Object, args py.Tuple) (py.Object, error) {
			var level, text py.Object
			if err := py.UnpackTuple(args, nil, "log", 2, 2, &level, &text); err != nil {
				return nil, err
			}
			l, lok := level.(py.Int)
			s, sok := text.(py.String)
			if !lok || !sok {
				return nil, py.ExceptionNewf(py.TypeError, "_host_log(level int, text str)")
			}
			h, err := in.current().get()
			if err != nil {
				return nil, err
			}
			h.Log(int(l), string(s))
			return py.None, nil
		}, 0, ""),
		py.MustNewMethod("_host_now", func(_ py.Object, _ py.Tuple) (py.Object, error) {
			h, err := in.current().get()
			if err != nil {
				return nil, err
			}
			return py.Int(h.Now().UnixNano()), nil
		}, 0, ""),
		py.MustNewMethod("_host_tool", func(_ py.Object, args py.Tuple) (py.Object, error) {
			var name, a py.Object
			if err := py.UnpackTuple(args, nil, "call_tool", 2, 2, &name, &a); err != nil {
				return nil, err
			}
			n, ok := name.(py.String)
			if !ok {
				return nil, py.ExceptionNewf(py.TypeError, "a tool's name is a str, not %s", name.Type().Name)
			}
			raw, err := toJSON(a)
			if err != nil {
				return nil, err
			}
			h, err := in.current().get()
			if err != nil {
				return nil, err
			}
			r := h.CallTool(string(n), raw)
			return py.Tuple{py.String(r.Status.String()), py.Int(r.Status), py.String(r.Content)}, nil
		}, 0, ""),
		py.MustNewMethod("_host_env", func(_ py.Object, args py.Tuple) (py.Object, error) {
			var name py.Object
			if err := py.UnpackTuple(args, nil, "env", 1, 1, &name); err != nil {
				return nil, err
			}
			n, ok := name.(py.String)
			if !ok {
				return nil, py.ExceptionNewf(py.TypeError, "a variable's name is a str, not %s", name.Type().Name)
			}
			return env(string(n)), nil
		}, 0, ""),
		py.MustNewMethod("_json_dumps", func(_ py.Object, args py.Tuple) (py.Object, error) {
			var v py.Object
			if err := py.UnpackTuple(args, nil, "dumps", 1, 1, &v); err != nil {
				return nil, err
			}
			b, err := toJSON(v)
			if err != nil {
				return nil, err
			}
			return py.String(b), nil
		}, 0, ""),
		py.MustNewMethod("_json_loads", func(_ py.Object, args py.Tuple) (py.Object, error) {
			var v py.Object
			if err := py.UnpackTuple(args, nil, "loads", 1, 1, &v); err != nil {
				return nil, err
			}
			switch s := v.(type) {
			case py.String:
				return fromJSON([]byte(s))
			case py.Bytes:
				return fromJSON(s)
			}
			return nil, py.ExceptionNewf(py.TypeError, "the JSON object must be str or bytes, not %s", v.Type().Name)
		}, 0, ""),
	}
}

// call is the handler call under way, if any.
type call struct{ h host }

func (in *interp) current() call { return call{in.host} }

func (c call) get() (host, error) {
	if c.h == nil {
		return nil, py.ExceptionNewf(py.RuntimeError, "the agent's context is used outside handle (at load time, nothing can be sent, logged or called)")
	}
	return c.h, nil
}

func (c call) Send(m *acl.Message) error {
	h, err := c.get()
	if err != nil {
		return err
	}
	h.Send(m)
	return nil
}

// messageFromFields makes a message from the prelude's dict, naming the
// field that is wrong. Content that is str is sent as UTF-8, bytes as they
// are, anything else as JSON (with language "json" unless one is set).
func messageFromFields(d py.StringDict) (*acl.Message, error) {
	m := &acl.Message{}
	for k, v := range d {
		if v == py.None || k == "content" {
			continue
		}
		if err := setField(m, k, v); err != nil {
			return nil, err
		}
	}
	switch c := d["content"].(type) {
	case nil, py.NoneType:
	case py.String:
		m.Content = []byte(c)
	case py.Bytes:
		m.Content = append([]byte(nil), c...)
	default:
		b, err := toJSON(c)
		if err != nil {
			return nil, err
		}
		m.Content = b
		if m.Language == "" {
			m.Language = "json"
		}
	}
	return m, nil
}

func setField(m *acl.Message, k string, v py.Object) error {
	str := func() (string, error) {
		s, ok := v.(py.String)
		if !ok {
			return "", py.ExceptionNewf(py.TypeError, "message field %s must be a str, not %s", k, v.Type().Name)
		}
		return string(s), nil
	}
	var err error
	var s string
	switch k {
	case "performative":
		if s, err = str(); err == nil {
			m.Performative, err = acl.ParsePerformative(s)
		}
	case "receivers":
		var l []py.Object
		switch r := v.(type) {
		case *py.List:
			l = r.Items
		case py.Tuple:
			l = r
		default:
			return py.ExceptionNewf(py.TypeError, "message field receivers must be a list of str, not %s", v.Type().Name)
		}
		for _, e := range l {
			r, ok := e.(py.String)
			if !ok {
				return py.ExceptionNewf(py.TypeError, "message field receivers must hold str, not %s", e.Type().Name)
			}
			m.Receivers = append(m.Receivers, acl.AgentID(r))
		}
	case "reply_to":
		s, err = str()
		m.ReplyTo = acl.AgentID(s)
	case "language":
		m.Language, err = str()
	case "encoding":
		m.Encoding, err = str()
	case "ontology":
		m.Ontology, err = str()
	case "protocol":
		m.Protocol, err = str()
	case "conversation_id":
		m.ConversationID, err = str()
	case "reply_with":
		m.ReplyWith, err = str()
	case "in_reply_to":
		m.InReplyTo, err = str()
	case "priority":
		if s, err = str(); err == nil && s != "" {
			m.Priority, err = acl.ParsePriority(s)
		}
	case "reply_by_nanos":
		n, ok := v.(py.Int)
		if !ok {
			return py.ExceptionNewf(py.TypeError, "message field reply_by_nanos must be an int, not %s", v.Type().Name)
		}
		if n != 0 {
			m.ReplyBy = time.Unix(0, int64(n)).UTC()
		}
	case "reply_by":
		f, err := py.MakeFloat(v)
		if err != nil {
			return py.ExceptionNewf(py.TypeError, "message field reply_by must be seconds since the epoch, not %s", v.Type().Name)
		}
		if s := float64(f.(py.Float)); s != 0 {
			m.ReplyBy = time.Unix(0, int64(s*1e9)).UTC()
		}
	case "params", "trace":
		sd, ok := v.(py.StringDict)
		if !ok {
			return py.ExceptionNewf(py.TypeError, "message field %s must be a dict of str, not %s", k, v.Type().Name)
		}
		out := make(map[string]string, len(sd))
		for pk, pv := range sd {
			ps, ok := pv.(py.String)
			if !ok {
				return py.ExceptionNewf(py.TypeError, "message field %s[%q] must be a str, not %s", k, pk, pv.Type().Name)
			}
			out[pk] = string(ps)
		}
		if len(out) == 0 {
			break
		}
		if k == "params" {
			m.Params = out
		} else {
			m.TraceContext = out
		}
	default:
		return py.ExceptionNewf(py.TypeError, "%s is not a message field (%s)", k, fieldNames)
	}
	if err != nil {
		if _, isPy := err.(*py.Exception); isPy {
			return err
		}
		return py.ExceptionNewf(py.ValueError, "message field %s: %v", k, err)
	}
	return nil
}

const fieldNames = "performative, receivers, reply_to, language, encoding, ontology, protocol, " +
	"conversation_id, reply_with, in_reply_to, reply_by (seconds), reply_by_nanos, priority, params, trace, content"

package main

import (
	"bytes"
	"encoding/json"
	"math"
	"math/big"
	"sort"
	"strconv"
	"unicode/utf8"

	"github.com/go-python/gpython/py"
)

// fromJSON parses JSON into Python values: objects become dicts, arrays
// lists, numbers int when they have no fraction or exponent (of any size),
// else float.
func fromJSON(b []byte) (py.Object, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, py.ExceptionNewf(py.ValueError, "invalid JSON: %v", err)
	}
	if d.More() {
		return nil, py.ExceptionNewf(py.ValueError, "invalid JSON: data after the value")
	}
	return toPy(v)
}

func toPy(v any) (py.Object, error) {
	switch v := v.(type) {
	case nil:
		return py.None, nil
	case bool:
		return py.NewBool(v), nil
	case string:
		return py.String(v), nil
	case json.Number:
		s := string(v)
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return py.Int(i), nil
		}
		if n, ok := new(big.Int).SetString(s, 10); ok {
			return (*py.BigInt)(n), nil
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, py.ExceptionNewf(py.ValueError, "invalid JSON number %q", s)
		}
		return py.Float(f), nil
	case []any:
		l := py.NewListSized(len(v))
		for i, e := range v {
			o, err := toPy(e)
			if err != nil {
				return nil, err
			}
			l.Items[i] = o
		}
		return l, nil
	case map[string]any:
		d := py.NewStringDictSized(len(v))
		for k, e := range v {
			o, err := toPy(e)
			if err != nil {
				return nil, err
			}
			d[k] = o
		}
		return d, nil
	}
	return nil, py.ExceptionNewf(py.ValueError, "unexpected JSON value %T", v)
}

// toJSON writes a Python value as JSON: dicts (keys sorted, so the text
// is stable), lists, tuples, str, int, float, bool and None. Anything else
// is a TypeError naming its type, as Python's json.dumps says.
func toJSON(o py.Object) ([]byte, error) {
	var b bytes.Buffer
	if err := appendJSON(&b, o, 0); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// maxJSONDepth bounds nesting (and so the Go stack) for values that
// contain themselves.
const maxJSONDepth = 500

func appendJSON(b *bytes.Buffer, o py.Object, depth int) error {
	if depth > maxJSONDepth {
		return py.ExceptionNewf(py.ValueError, "JSON nested deeper than %d (a value that contains itself?)", maxJSONDepth)
	}
	switch v := o.(type) {
	case py.NoneType:
		b.WriteString("null")
	case py.Bool:
		b.WriteString(strconv.FormatBool(bool(v)))
	case py.Int:
		b.WriteString(strconv.FormatInt(int64(v), 10))
	case *py.BigInt:
		b.WriteString((*big.Int)(v).String())
	case py.Float:
		f := float64(v)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return py.ExceptionNewf(py.ValueError, "%v is not JSON", f)
		}
		if f == math.Trunc(f) && math.Abs(f) < 1e15 {
			b.WriteString(strconv.FormatFloat(f, 'f', 1, 64))
		} else {
			b.WriteString(strconv.FormatFloat(f, 'g', -1, 64))
		}
	case py.String:
		enc, _ := json.Marshal(string(v))
		b.Write(enc)
	case py.StringDict:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			enc, _ := json.Marshal(k)
			b.Write(enc)
			b.WriteByte(':')
			if err := appendJSON(b, v[k], depth+1); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	case *py.List:
		return appendArray(b, v.Items, depth)
	case py.Tuple:
		return appendArray(b, v, depth)
	default:
		return py.ExceptionNewf(py.TypeError, "Object of type %s is not JSON serializable", o.Type().Name)
	}
	return nil
}

func appendArray(b *bytes.Buffer, items []py.Object, depth int) error {
	b.WriteByte('[')
	for i, e := range items {
		if i > 0 {
			b.WriteByte(',')
		}
		if err := appendJSON(b, e, depth+1); err != nil {
			return err
		}
	}
	b.WriteByte(']')
	return nil
}

// jsonModule is `import json`: loads and dumps, for the JSON values above.
var jsonModule = &py.ModuleImpl{
	Info: py.ModuleInfo{Name: "json", Doc: "JSON encoding and decoding (loads, dumps)."},
	Methods: []*py.Method{
		py.MustNewMethod("loads", func(_ py.Object, args py.Tuple) (py.Object, error) {
			var s py.Object
			if err := py.UnpackTuple(args, nil, "loads", 1, 1, &s); err != nil {
				return nil, err
			}
			switch v := s.(type) {
			case py.String:
				return fromJSON([]byte(v))
			case py.Bytes:
				if !utf8.Valid(v) {
					return nil, py.ExceptionNewf(py.ValueError, "JSON bytes are not UTF-8")
				}
				return fromJSON(v)
			}
			return nil, py.ExceptionNewf(py.TypeError, "the JSON object must be str or bytes, not %s", s.Type().Name)
		}, 0, "loads(s) parses JSON text into dicts, lists, str, int, float, bool and None."),
		py.MustNewMethod("dumps", func(_ py.Object, args py.Tuple) (py.Object, error) {
			var v py.Object
			if err := py.UnpackTuple(args, nil, "dumps", 1, 1, &v); err != nil {
				return nil, err
			}
			b, err := toJSON(v)
			if err != nil {
				return nil, err
			}
			return py.String(b), nil
		}, 0, "dumps(v) writes v as compact JSON, dict keys sorted."),
	},
}

func init() { py.RegisterModule(jsonModule) }

package main

import (
	"strconv"
	"strings"

	"github.com/go-python/gpython/py"
)

// gpython v0.2.0 lacks methods of str, dict and list that agents use all
// the time (",".join, d.update, l.pop, ...). The engine adds the ones
// below to the built-in types, each only where gpython has none, so a
// later gpython's own implementation wins. The README lists them.
func init() {
	add := func(t *py.Type, name string, fn any, doc string) {
		if _, ok := t.Dict[name]; !ok {
			t.Dict[name] = py.MustNewMethod(name, fn, 0, doc)
		}
	}
	add(py.StringType, "join", strJoin, "S.join(iterable) -> str: the strings of iterable joined by S.")
	add(py.StringType, "upper", func(self py.Object) (py.Object, error) {
		return py.String(strings.ToUpper(string(self.(py.String)))), nil
	}, "S.upper() -> str")
	add(py.StringType, "lower", func(self py.Object) (py.Object, error) {
		return py.String(strings.ToLower(string(self.(py.String)))), nil
	}, "S.lower() -> str")
	add(py.StringType, "isdigit", func(self py.Object) (py.Object, error) {
		s := string(self.(py.String))
		return py.NewBool(s != "" && strings.Trim(s, "0123456789") == ""), nil
	}, "S.isdigit() -> bool (ASCII digits)")
	add(py.StringType, "count", func(self py.Object, arg py.Object) (py.Object, error) {
		sub, ok := arg.(py.String)
		if !ok {
			return nil, py.ExceptionNewf(py.TypeError, "count() takes a str, not %s", arg.Type().Name)
		}
		return py.Int(strings.Count(string(self.(py.String)), string(sub))), nil
	}, "S.count(sub) -> int")
	add(py.StringType, "index", func(self py.Object, arg py.Object) (py.Object, error) {
		sub, ok := arg.(py.String)
		if !ok {
			return nil, py.ExceptionNewf(py.TypeError, "index() takes a str, not %s", arg.Type().Name)
		}
		s := string(self.(py.String))
		i := strings.Index(s, string(sub))
		if i < 0 {
			return nil, py.ExceptionNewf(py.ValueError, "substring not found")
		}
		return py.Int(len([]rune(s[:i]))), nil
	}, "S.index(sub) -> int, or ValueError")
	add(py.StringType, "format", strFormat, "S.format(*args, **kwargs) -> str: {}, {0} and {name} fields, with an optional .Nf spec.")

	add(py.StringDictType, "update", func(self py.Object, args py.Tuple, kwargs py.StringDict) (py.Object, error) {
		d := self.(py.StringDict)
		if len(args) > 1 {
			return nil, py.ExceptionNewf(py.TypeError, "update expected at most 1 argument, got %d", len(args))
		}
		if len(args) == 1 {
			o, ok := args[0].(py.StringDict)
			if !ok {
				return nil, py.ExceptionNewf(py.TypeError, "update takes a dict, not %s", args[0].Type().Name)
			}
			for k, v := range o {
				d[k] = v
			}
		}
		for k, v := range kwargs {
			d[k] = v
		}
		return py.None, nil
	}, "D.update(other, **kw)")
	add(py.StringDictType, "copy", func(self py.Object) (py.Object, error) {
		return self.(py.StringDict).Copy(), nil
	}, "D.copy() -> a shallow copy of D")
	add(py.StringDictType, "pop", func(self py.Object, args py.Tuple) (py.Object, error) {
		var key, dflt py.Object
		if err := py.UnpackTuple(args, nil, "pop", 1, 2, &key, &dflt); err != nil {
			return nil, err
		}
		k, ok := key.(py.String)
		if !ok {
			return nil, py.ExceptionNewf(py.KeyError, "%v", key)
		}
		d := self.(py.StringDict)
		if v, ok := d[string(k)]; ok {
			delete(d, string(k))
			return v, nil
		}
		if dflt != nil {
			return dflt, nil
		}
		return nil, py.ExceptionNewf(py.KeyError, "%q", string(k))
	}, "D.pop(k[, d]) -> the value of k, removed; d or KeyError if k is missing")
	add(py.StringDictType, "setdefault", func(self py.Object, args py.Tuple) (py.Object, error) {
		var key py.Object
		var dflt py.Object = py.None
		if err := py.UnpackTuple(args, nil, "setdefault", 1, 2, &key, &dflt); err != nil {
			return nil, err
		}
		k, ok := key.(py.String)
		if !ok {
			return nil, py.ExceptionNewf(py.KeyError, "dict keys are str here, not %s", key.Type().Name)
		}
		d := self.(py.StringDict)
		if v, ok := d[string(k)]; ok {
			return v, nil
		}
		d[string(k)] = dflt
		return dflt, nil
	}, "D.setdefault(k[, d]) -> D[k], set to d (None) if missing")

	add(py.ListType, "pop", func(self py.Object, args py.Tuple) (py.Object, error) {
		l := self.(*py.List)
		i := len(l.Items) - 1
		if len(args) > 1 {
			return nil, py.ExceptionNewf(py.TypeError, "pop expected at most 1 argument, got %d", len(args))
		}
		if len(args) == 1 {
			n, err := py.MakeGoInt(args[0])
			if err != nil {
				return nil, err
			}
			if n < 0 {
				n += len(l.Items)
			}
			i = n
		}
		if i < 0 || i >= len(l.Items) {
			return nil, py.ExceptionNewf(py.IndexError, "pop index out of range")
		}
		v := l.Items[i]
		l.DelItem(i)
		return v, nil
	}, "L.pop([i]) -> the item at i (default last), removed")
	add(py.ListType, "insert", func(self py.Object, args py.Tuple) (py.Object, error) {
		var at, v py.Object
		if err := py.UnpackTuple(args, nil, "insert", 2, 2, &at, &v); err != nil {
			return nil, err
		}
		l := self.(*py.List)
		i, err := py.MakeGoInt(at)
		if err != nil {
			return nil, err
		}
		if i < 0 {
			i += len(l.Items)
		}
		i = max(0, min(i, len(l.Items)))
		l.Items = append(l.Items, nil)
		copy(l.Items[i+1:], l.Items[i:])
		l.Items[i] = v
		return py.None, nil
	}, "L.insert(i, x)")
	add(py.ListType, "index", func(self py.Object, v py.Object) (py.Object, error) {
		i, err := listFind(self.(*py.List), v)
		if err != nil {
			return nil, err
		}
		if i < 0 {
			return nil, py.ExceptionNewf(py.ValueError, "value is not in list")
		}
		return py.Int(i), nil
	}, "L.index(x) -> the first index of x, or ValueError")
	add(py.ListType, "remove", func(self py.Object, v py.Object) (py.Object, error) {
		l := self.(*py.List)
		i, err := listFind(l, v)
		if err != nil {
			return nil, err
		}
		if i < 0 {
			return nil, py.ExceptionNewf(py.ValueError, "list.remove(x): x not in list")
		}
		l.DelItem(i)
		return py.None, nil
	}, "L.remove(x): removes the first x, or ValueError")
	add(py.ListType, "reverse", func(self py.Object) (py.Object, error) {
		py.Tuple(self.(*py.List).Items).Reverse()
		return py.None, nil
	}, "L.reverse(): in place")
	add(py.ListType, "count", func(self py.Object, v py.Object) (py.Object, error) {
		n := 0
		for _, e := range self.(*py.List).Items {
			eq, err := py.Eq(e, v)
			if err != nil {
				return nil, err
			}
			if eq == py.True {
				n++
			}
		}
		return py.Int(n), nil
	}, "L.count(x) -> how many items equal x")
}

func listFind(l *py.List, v py.Object) (int, error) {
	for i, e := range l.Items {
		eq, err := py.Eq(e, v)
		if err != nil {
			return 0, err
		}
		if eq == py.True {
			return i, nil
		}
	}
	return -1, nil
}

func strJoin(self py.Object, it py.Object) (py.Object, error) {
	var b strings.Builder
	sep := string(self.(py.String))
	n := 0
	var bad py.Object
	err := py.Iterate(it, func(o py.Object) bool {
		s, ok := o.(py.String)
		if !ok {
			bad = o
			return true
		}
		if n > 0 {
			b.WriteString(sep)
		}
		b.WriteString(string(s))
		n++
		return false
	})
	if err != nil {
		return nil, err
	}
	if bad != nil {
		return nil, py.ExceptionNewf(py.TypeError, "sequence item %d: expected str instance, %s found", n, bad.Type().Name)
	}
	return py.String(b.String()), nil
}

// strFormat is str.format for {}, {0}, {name} and {{ }}, each field with
// an optional :.Nf spec (fixed-point with N decimals); other specs are a
// ValueError rather than a silently different text.
func strFormat(self py.Object, args py.Tuple, kwargs py.StringDict) (py.Object, error) {
	s := string(self.(py.String))
	var b strings.Builder
	auto := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '{' && i+1 < len(s) && s[i+1] == '{', c == '}' && i+1 < len(s) && s[i+1] == '}':
			b.WriteByte(c)
			i++
			continue
		case c == '}':
			return nil, py.ExceptionNewf(py.ValueError, "Single '}' encountered in format string")
		case c != '{':
			b.WriteByte(c)
			continue
		}
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			return nil, py.ExceptionNewf(py.ValueError, "Single '{' encountered in format string")
		}
		field := s[i+1 : i+end]
		i += end
		name, spec, _ := strings.Cut(field, ":")
		var v py.Object
		switch n, err := strconv.Atoi(name); {
		case name == "":
			if auto >= len(args) {
				return nil, py.ExceptionNewf(py.IndexError, "Replacement index %d out of range for positional args tuple", auto)
			}
			v = args[auto]
			auto++
		case err == nil:
			if n < 0 || n >= len(args) {
				return nil, py.ExceptionNewf(py.IndexError, "Replacement index %d out of range for positional args tuple", n)
			}
			v = args[n]
		default:
			var ok bool
			if v, ok = kwargs[name]; !ok {
				return nil, py.ExceptionNewf(py.KeyError, "%q", name)
			}
		}
		text, err := formatField(v, spec)
		if err != nil {
			return nil, err
		}
		b.WriteString(text)
	}
	return py.String(b.String()), nil
}

func formatField(v py.Object, spec string) (string, error) {
	if spec == "" {
		return py.StrAsString(v)
	}
	if len(spec) >= 3 && spec[0] == '.' && spec[len(spec)-1] == 'f' {
		if prec, err := strconv.Atoi(spec[1 : len(spec)-1]); err == nil && prec >= 0 && prec <= 50 {
			f, err := py.MakeFloat(v)
			if err != nil {
				return "", err
			}
			return strconv.FormatFloat(float64(f.(py.Float)), 'f', prec, 64), nil
		}
	}
	return "", py.ExceptionNewf(py.ValueError, "format spec %q is not supported here (only .Nf)", spec)
}

package micro_test

import (
	"testing"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/sandbox"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The language README.md promises: each snippet sets y, whose repr the
// handler answers. A failure here means the README is wrong.
func TestLanguageSubsetWorks(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"percent", `y = "%d-%s" % (3, "a")`, `'3-a'`},
		{"str methods", `y = [",".join(["a", "b"]), "aB".upper() + "aB".lower(), "a b".split(), " a ".strip(), "ab".startswith("a")]`, `['a,b', 'ABab', ['a', 'b'], 'a', True]`},
		{"format", `y = "{} {name} {:.2f} {{}}".format(1, 2.3456, name="n")`, `'1 n 2.35 {}'`},
		{"str index count isdigit", `y = ["héllo".index("l"), "aa".count("a"), "12".isdigit(), "1a".isdigit()]`, `[2, 2, True, False]`},
		{"dict methods", "d = {'a': 1}\nd.update({'b': 2}, c=3)\ne = d.copy()\ny = [d.pop('a'), d.pop('z', 0), d.setdefault('b', 9), d.setdefault('x'), len(e)]", `[1, 0, 2, None, 3]`},
		{"list methods", "l = [1, 2, 3]\nl.insert(0, 0)\nl.remove(2)\nl.reverse()\ny = [l.pop(), l.pop(0), l.index(1), l.count(1), l]", `[0, 3, 0, 1, [1]]`},
		{"comprehensions", `y = [[i*2 for i in range(3)], sorted({str(i): i for i in range(2)}.keys()), sum(i for i in range(4))]`, `[[0, 2, 4], ['0', '1'], 6]`},
		{"closures", "def f(p):\n    z = 1\n    def g():\n        return z + p\n    return g()\ny = f(1)", `2`},
		{"nonlocal", "def f():\n    z = 1\n    def g():\n        nonlocal z\n        z = 2\n    g()\n    return z\ny = f()", `2`},
		{"classes", "class A:\n    def __init__(self, x):\n        self.x = x\n    @property\n    def p(self):\n        return self.x\nclass B(A):\n    def __init__(self):\n        super().__init__(5)\ny = B().p", `5`},
		{"own exceptions", "class E(Exception):\n    pass\ntry:\n    raise E('x')\nexcept E as e:\n    y = str(e)", `'x'`},
		{"generators", "def g():\n    yield 1\n    yield 2\ny = list(g())", `[1, 2]`},
		{"with", "class C:\n    def __enter__(self):\n        return 1\n    def __exit__(self, a, b, c):\n        return False\nwith C() as y:\n    pass", `1`},
		{"numbers", `y = [2**70, 7 // 2, 0.5 + 0.25, complex(1, 2)]`, `[1180591620717411303424, 3, 0.75, (1+2j)]`},
		{"int keys", `y = {1: "a"}[1]`, `'a'`},
		{"sorted key", `y = sorted([3, 1, 2], key=lambda v: -v)`, `[3, 2, 1]`},
		{"slicing", `y = [[1, 2, 3][1:], "abc"[1:], b"ab"[0]]`, `[[2, 3], 'bc', 97]`},
		{"json", "import json\ny = json.loads(json.dumps({'a': [1, 2.5, None, True]}))", `{'a': [1, 2.5, None, True]}`},
		{"modules", "import math, time, collections\nP = collections.namedtuple('P', ['x', 'y'])\ny = [math.floor(1.5), time.time() > 0, list(collections.OrderedDict([('b', 1), ('a', 2)]).keys()), P(1, 2).y]", `[1, True, ['b', 'a'], 2]`},
	}
	mod, err := module()
	require.NoError(t, err)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, err := mod.Instantiate(t.Context(), sandbox.InstanceConfig{Agent: "py", Limits: roomy,
				Init: []byte(tt.src + "\ndef handle(m, c):\n    c.reply('inform', repr(y))\n")})
			require.NoError(t, err)
			defer in.Close()
			out := handle(t, in, text(acl.Request, ""))
			require.Len(t, out, 1)
			assert.Equal(t, tt.want, string(out[0].Content))
		})
	}
}

// What README.md says agents do not get fails as it says.
func TestLanguageSubsetLimits(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"f-strings", `x = 1; y = f"{x}"`, "SyntaxError"},
		{"slice steps", `y = "abc"[::-1]`, "only slices with step=1"},
		{"modules outside the engine", `import os`, `no module named "os"`},
		{"files", `open("x")`, "name 'open' is not defined"},
	}
	mod, err := module()
	require.NoError(t, err)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := mod.Instantiate(t.Context(), sandbox.InstanceConfig{Agent: "py", Limits: roomy,
				Init: []byte(tt.src + "\ndef handle(m, c):\n    pass\n")})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

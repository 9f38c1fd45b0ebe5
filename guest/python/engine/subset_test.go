package main

import (
	"testing"

	"github.com/go-python/gpython/py"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The language the README promises: each snippet sets y, whose repr is
// checked. A failure here means the README is wrong.
func TestLanguageSubsetWorks(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"percent", `y = "%d-%s" % (3, "a")`, `'3-a'`},
		{"join", `y = ",".join(["a", "b"])`, `'a,b'`},
		{"upper lower", `y = "aB".upper() + "aB".lower()`, `'ABab'`},
		{"format", `y = "{} {name} {0} {1:.2f} {{}}".format(1, 2.345, name="n")`, `'1 n 1 2.35 {}'`},
		{"str index count isdigit", `y = ["héllo".index("l"), "aa".count("a"), "12".isdigit(), "1a".isdigit()]`, `[2, 2, True, False]`},
		{"dict methods", "d = {'a': 1}\nd.update({'b': 2}, c=3)\ne = d.copy()\ny = [d.pop('a'), d.pop('z', 0), d.setdefault('b', 9), d.setdefault('x'), len(e)]", `[1, 0, 2, None, 3]`},
		{"list methods", "l = [1, 2, 3]\nl.insert(0, 0)\nl.remove(2)\nl.reverse()\ny = [l.pop(), l.pop(0), l.index(1), l.count(1), l]", `[0, 3, 0, 1, [1]]`},
		{"comprehensions", `y = [[i*2 for i in range(3)], sorted({str(i): i for i in range(2)}.keys()), sum(i for i in range(4))]`, `[[0, 2, 4], ['0', '1'], 6]`},
		{"closures over locals", "def f():\n    z = 1\n    def g():\n        return z\n    return g()\ny = f()", `1`},
		{"nonlocal", "def f():\n    z = 1\n    def g():\n        nonlocal z\n        z = 2\n    g()\n    return z\ny = f()", `2`},
		{"classes", "class A:\n    def __init__(self, x):\n        self.x = x\n    def f(self):\n        return self.x\nclass B(A):\n    def __init__(self):\n        A.__init__(self, 5)\ny = B().f()", `5`},
		{"generators", "def g():\n    yield 1\n    yield 2\ny = list(g())", `[1, 2]`},
		{"exceptions", "try:\n    raise ValueError('x')\nexcept ValueError as e:\n    y = str(e)\nfinally:\n    pass", `'x'`},
		{"with", "class C:\n    def __enter__(self):\n        return 1\n    def __exit__(self, a, b, c):\n        return False\nwith C() as y:\n    pass", `1`},
		{"big ints", `y = 2**70`, `1180591620717411303424`},
		{"sorted key", `y = sorted([3, 1, 2], key=lambda v: -v)`, `[3, 2, 1]`},
		{"slicing", `y = [[1, 2, 3][1:], "abc"[::-1]]`, `[[2, 3], 'cba']`},
		{"json", "import json\ny = json.dumps(json.loads('{\"b\": [1, 2.5, null, true], \"a\": \"x\"}'))", `'{"a":"x","b":[1,2.5,null,true]}'`},
		{"math time string", "import math, time, string\ny = [math.floor(1.5), time.time() > 0, string.digits]", `[1, True, '0123456789']`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, err := load(tt.src + "\ndef handle(m, c):\n    pass\n")
			require.NoError(t, err)
			r, err := py.ReprAsString(in.globals["y"])
			require.NoError(t, err)
			assert.Equal(t, tt.want, r)
		})
	}
}

// What the README says agents do not get fails as it says.
func TestLanguageSubsetLimits(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"f-strings", `x = 1; y = f"{x}"`, "SyntaxError"},
		{"int dict keys", `d = {1: "a"}`, "can only have string keys"},
		{"closures over parameters", "def f(z):\n    def g():\n        return z\n    return g()\ny = f(1)", "free variable 'z'"},
		{"exception subclasses", "class E(Exception):\n    pass\ntry:\n    raise E('x')\nexcept E:\n    pass", "Error"},
		{"super", "class A:\n    pass\nclass B(A):\n    def __init__(self):\n        super().__init__()\nB()", "name 'super' is not defined"},
		{"modules outside the engine", `import os`, `no module named "os"`},
		{"files", `open("x")`, "Error"},
		{"print at load time", `print("x")`, "outside handle"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := load(tt.src + "\ndef handle(m, c):\n    pass\n")
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

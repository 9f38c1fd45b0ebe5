package main

import (
	"sync"

	"github.com/go-python/gpython/py"
	"github.com/go-python/gpython/vm"
)

// pyContext is the interpreter's py.Context. gpython's own (package
// stdlib) imports its sys module, whose init calls os.Executable, which
// wasip1 does not implement: the panic in that init is what made a gpython
// guest trap in _initialize. This context needs no sys, and it resolves
// imports only to the modules compiled into the engine: an agent is one
// script, and the sandbox has no files to import from.
type pyContext struct {
	store     *py.ModuleStore
	closeOnce sync.Once
	done      chan struct{}
}

func newPyContext() *pyContext {
	return &pyContext{store: py.NewModuleStore(), done: make(chan struct{})}
}

// ResolveAndCompile refuses every file: only built-in modules import.
func (c *pyContext) ResolveAndCompile(pathname string, _ py.CompileOpts) (py.CompileOut, error) {
	return py.CompileOut{}, py.ExceptionNewf(py.ImportError,
		"no module named %q (an agent imports only the engine's modules: %s)", pathname, importable)
}

// ModuleInit makes a built-in module in this context.
func (c *pyContext) ModuleInit(impl *py.ModuleImpl) (*py.Module, error) {
	if impl.Code == nil && len(impl.CodeSrc) > 0 {
		code, err := py.Compile(impl.CodeSrc, impl.Info.FileDesc, py.ExecMode, 0, true)
		if err != nil {
			return nil, err
		}
		impl.Code = code
	}
	m, err := c.store.NewModule(c, impl)
	if err != nil {
		return nil, err
	}
	if impl.Code != nil {
		if _, err := c.RunCode(impl.Code, m.Globals, m.Globals, nil); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// RunCode runs code in the virtual machine.
func (c *pyContext) RunCode(code *py.Code, globals, locals py.StringDict, closure py.Tuple) (py.Object, error) {
	return vm.EvalCode(c, code, globals, locals, nil, nil, nil, nil, closure)
}

// GetModule returns a module already made in this context.
func (c *pyContext) GetModule(name string) (*py.Module, error) { return c.store.GetModule(name) }

// Store returns the context's modules.
func (c *pyContext) Store() *py.ModuleStore { return c.store }

// Close releases the modules' resources.
func (c *pyContext) Close() error {
	c.closeOnce.Do(func() {
		c.store.OnContextClosed()
		close(c.done)
	})
	return nil
}

// Done is closed by Close.
func (c *pyContext) Done() <-chan struct{} { return c.done }

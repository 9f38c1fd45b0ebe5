package main

import "github.com/go-python/gpython/py"

// The API's exception classes are made in Go, as gpython makes its own:
// gpython (v0.2.0) cannot subclass Exception in Python (a class statement
// with an exception base makes an exception instance, not a class: its
// Type.NewTypeFlags gives a subtype its parent as metatype).
var (
	permanentError = py.ExceptionType.NewType("PermanentError",
		"Raised by handle: the message is dead-lettered at once, without retries.", nil, nil)
	toolError = py.ExceptionType.NewType("ToolError",
		"A tool call that did not succeed: .tool, .status ('denied', 'timeout', ...), .code (the ABI's number), .reason.", nil, nil)
	refusal = py.ExceptionType.NewType("_Refusal",
		"A Contract Net participant's refusal (caxton.refuse, caxton.not_understood).", nil, nil)

	exceptionTypes = []*py.Type{permanentError, toolError, refusal}
)

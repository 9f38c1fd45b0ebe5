module github.com/caxton-go/caxton/bench/jsengines

go 1.26.0

replace github.com/caxton-go/caxton => ../..

require (
	github.com/caxton-go/caxton v0.0.0-00010101000000-000000000000
	github.com/dop251/goja v0.0.0-20260311135729-065cd970411c
)

require (
	github.com/bytecodealliance/wasmtime-go/v39 v39.0.1 // indirect
	github.com/dlclark/regexp2 v1.11.4 // indirect
	github.com/go-sourcemap/sourcemap v2.1.3+incompatible // indirect
	github.com/google/pprof v0.0.0-20230207041349-798e818bf904 // indirect
	golang.org/x/text v0.43.0 // indirect
)

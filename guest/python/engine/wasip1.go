//go:build wasip1

package main

import "unsafe"

// reason keeps caxton_init's refusal alive for the host to read.
var reason []byte

// caxtonInit is the ABI's caxton_init: the script is [ptr, ptr+n) in the
// inbound buffer, copied before anything else is allocated.
//
//go:wasmexport caxton_init
func caxtonInit(ptr, n int32) int64 {
	var script []byte
	if n > 0 && ptr != 0 {
		script = append([]byte(nil), unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(nil), uintptr(ptr))), int(n))...)
	}
	r := initScript(script)
	if r == "" {
		return 0
	}
	reason = []byte(r)
	return int64(uintptr(unsafe.Pointer(unsafe.SliceData(reason))))<<32 | int64(len(reason))
}

// initScript loads the agent's script, returning the reason for a refusal
// ("" when ready).
func initScript(script []byte) string {
	if len(script) == 0 {
		return errNoScript.Error()
	}
	in, err := load(string(script))
	if err != nil {
		return "python: " + err.Error()
	}
	agent = in
	return ""
}

// setjmp and longjmp for MicroPython's non-local returns on wasm32, which
// has no way to unwind the call stack without the exception-handling
// proposal (not enabled in the sandbox). They are built on Binaryen's
// Asyncify (nlr.c): this header replaces wasi-libc's, which has none.
#ifndef CAXTON_SETJMP_H
#define CAXTON_SETJMP_H
#include <stdint.h>

// asyncify_data is the layout Asyncify reads: where its next frame goes and
// where the buffer ends.
struct asyncify_data {
	void *cur;
	void *end;
};

// caxton_jmp is a captured call stack: the Asyncify data of every frame
// from the setjmp up to caxton_run, in nlr.c's arena.
struct caxton_jmp {
	struct asyncify_data data;
	void *used;  // where the captured frames end
	uint32_t sp; // the C stack pointer at setjmp
	int val;     // what setjmp returns next
};

typedef struct caxton_jmp jmp_buf[1];
#define setjmp caxton_setjmp
#define longjmp caxton_longjmp

int caxton_setjmp(jmp_buf b) __attribute__((returns_twice));
// caxton_longjmp returns to its caller, which then unwinds (Asyncify's
// instrumentation): it must not be declared noreturn.
void caxton_longjmp(jmp_buf b, int v);

// caxton_run calls fn(arg), the root of every call that may setjmp,
// longjmp or collect garbage.
void caxton_run(void (*fn)(void *), void *arg);
#endif

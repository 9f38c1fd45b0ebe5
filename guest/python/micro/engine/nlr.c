/*
 * nlr.c - non-local returns and garbage-collection roots for MicroPython
 * on wasm32 without exception handling, built on Binaryen's Asyncify (the
 * Makefile runs wasm-opt --asyncify over the linked module).
 *
 * MicroPython raises an exception with longjmp to the innermost nlr_push
 * (a setjmp). WebAssembly cannot unwind its own call stack, and wasi-libc
 * has no setjmp; the sandbox does not enable the exception-handling
 * proposal. Asyncify can: it rewrites every function that may reach one of
 * the points below so that it can save its locals into a buffer and return
 * (unwind), and later be called again to restore them and resume where it
 * was (rewind). Every entry from the host goes through caxton_run, the root
 * that unwinding stops at.
 *
 *   setjmp: unwinds to caxton_run, saving the frames into the jmp_buf's
 *     part of the arena (a capture), and rewinds at once: setjmp returns 0
 *     with the stack as it was, and the jmp_buf holds a copy of it.
 *   longjmp: unwinds to caxton_run (the frames are thrown away), then
 *     rewinds from the jmp_buf's copy: the setjmp returns again, with the
 *     value given, and the C stack pointer is set back.
 *   gc_collect: WebAssembly locals are not in memory, so a conservative
 *     collector cannot see the objects only they point to. Collecting
 *     unwinds to caxton_run (which saves every frame's locals into the
 *     scratch buffer), marks from the buffer, the C stack, the arena and
 *     MicroPython's roots, sweeps, and rewinds from the buffer.
 *
 * A capture costs an unwind and a rewind of the whole stack, so every
 * nlr_push (MicroPython makes one per Python call) is proportional to the
 * call depth; the arena and the scratch buffer bound the depth (overflowing
 * them traps, which fails the call, not the host). MicroPython's own stack
 * check (mpconfigport.h, engine.c) raises RuntimeError long before.
 */
#include <stddef.h>
#include <stdint.h>

#include "py/gc.h"
#include "py/mpstate.h"
#include "py/nlr.h"
#include "py/objexcept.h"
#include "py/runtime.h"

#include "engine.h"

#define ASYNCIFY(name) __attribute__((import_module("asyncify"), import_name(name)))
ASYNCIFY("start_unwind") void asyncify_start_unwind(void *data);
ASYNCIFY("stop_unwind") void asyncify_stop_unwind(void);
ASYNCIFY("start_rewind") void asyncify_start_rewind(void *data);
ASYNCIFY("stop_rewind") void asyncify_stop_rewind(void);

uint32_t caxton_get_sp(void); /* sp.s */
void caxton_set_sp(uint32_t sp);

enum { IDLE, CAPTURE, JUMP, COLLECT };

static int pending;              /* why the stack is unwinding */
static int rewinding;            /* a rewind is under way to setjmp or gc_collect */
static int depth;                /* caxton_run calls under way (0 or 1) */
static struct caxton_jmp *target;
static uint32_t stack_top;       /* the C stack pointer at caxton_run */

/* Every capture holds the whole stack, so nested captures grow with the
 * square of the Python call depth: a capture that leaves less than
 * HEADROOM past the largest capture so far is answered with RuntimeError
 * instead (caxton_run), before the arena can overflow. The buffers are
 * zero pages until used. */
#define ARENA_SIZE (512 * 1024)
#define HEADROOM (32 * 1024)
static char arena[ARENA_SIZE] __attribute__((aligned(16)));
static char *arena_high;         /* the highest byte of the arena ever used */
static size_t largest;           /* the largest capture so far */
static char scratch[ARENA_SIZE] __attribute__((aligned(16)));
static mp_obj_t too_deep;        /* the RuntimeError raised then (engine.c) */

void caxton_set_too_deep(mp_obj_t exc) { too_deep = exc; }
static struct asyncify_data scratch_data;

static void scratch_reset(void) {
	scratch_data.cur = scratch;
	scratch_data.end = scratch + sizeof scratch;
}

int caxton_setjmp(jmp_buf b) {
	if (rewinding) {
		asyncify_stop_rewind();
		rewinding = 0;
		caxton_set_sp(b->sp);
		return b->val;
	}
	/* The nlr_buf that holds b is on top of MicroPython's chain (nlr_push
	 * links it before calling setjmp): its copy goes after the one of the
	 * buffer below it, so the arena is used as a stack. */
	nlr_buf_t *self = (nlr_buf_t *)((char *)b - offsetof(nlr_buf_t, jmpbuf));
	b->data.cur = self->prev ? self->prev->jmpbuf->used : (void *)arena;
	b->data.end = arena + ARENA_SIZE;
	b->sp = caxton_get_sp();
	b->val = 0;
	pending = CAPTURE;
	target = b;
	asyncify_start_unwind(&b->data);
	return 0; /* not seen: the caller unwinds */
}

void caxton_longjmp(jmp_buf b, int v) {
	b->val = v ? v : 1;
	pending = JUMP;
	target = b;
	scratch_reset();
	asyncify_start_unwind(&scratch_data);
}

static void collect_roots(void) {
	gc_collect_start();
	/* Word-aligned ranges: the collector reads them as pointers. */
	gc_collect_root((void **)scratch, ((char *)scratch_data.cur - scratch) / sizeof(void *));
	if (arena_high)
		gc_collect_root((void **)arena, (arena_high - arena) / sizeof(void *));
	uint32_t sp = caxton_get_sp();
	if (stack_top > sp)
		gc_collect_root((void **)(uintptr_t)sp, (stack_top - sp) / sizeof(void *));
	gc_collect_end();
}

void gc_collect(void) {
	if (rewinding) { /* back from a collection */
		asyncify_stop_rewind();
		rewinding = 0;
		return;
	}
	if (depth == 0) { /* between calls: no local holds an object */
		scratch_reset();
		collect_roots();
		return;
	}
	pending = COLLECT;
	scratch_reset();
	asyncify_start_unwind(&scratch_data);
}

void caxton_run(void (*fn)(void *), void *arg) {
	depth++;
	stack_top = caxton_get_sp();
	for (;;) {
		fn(arg);
		if (pending == IDLE)
			break;
		asyncify_stop_unwind();
		struct asyncify_data *data;
		switch (pending) {
		case CAPTURE: {
			nlr_buf_t *self = (nlr_buf_t *)((char *)target - offsetof(nlr_buf_t, jmpbuf));
			char *start = self->prev ? self->prev->jmpbuf->used : arena;
			char *used = target->data.cur;
			size_t size = (size_t)(used - start);
			if (size > largest)
				largest = size;
			if ((char *)used > arena_high)
				arena_high = used;
			if (self->prev && too_deep && arena + ARENA_SIZE - used < (ptrdiff_t)(largest + HEADROOM)) {
				/* Raise in the frame that called setjmp, as if the
				 * exception came before its try: the buffer below
				 * catches it. */
				nlr_buf_t *prev = self->prev;
				MP_STATE_THREAD(nlr_top) = prev;
				mp_obj_exception_clear_traceback(too_deep);
				prev->ret_val = MP_OBJ_TO_PTR(too_deep);
				prev->jmpbuf->val = 1;
				prev->jmpbuf->data.cur = prev->jmpbuf->used;
				data = &prev->jmpbuf->data;
				break;
			}
			target->used = used;
			data = &target->data;
			break;
		}
		case JUMP:
			target->data.cur = target->used;
			data = &target->data;
			break;
		default: /* COLLECT */
			collect_roots();
			data = &scratch_data;
			break;
		}
		pending = IDLE;
		rewinding = 1;
		asyncify_start_rewind(data);
	}
	depth--;
}

/*
 * engine.c - the micro Python engine guest: MicroPython's core (py/, from
 * micropython.lock) behind the Guest ABI v1 (guest/c/caxton.h). The
 * agent's script is the init data (sandbox/ABI.md, "Init data"); it runs
 * after prelude.py (the agent API, the same as the gpython engine's) in one
 * __main__, and handle(msg, ctx) is called for every message.
 *
 * The prelude is built on the built-ins defined here: _host_send(dict),
 * _host_log(level, text), _host_now(), _host_tool(name, args),
 * _host_env(name), _json_loads(text), _json_dumps(value) (json.c).
 *
 * Every call into Python goes through caxton_run (nlr.c), the root that
 * exceptions and the collector unwind to.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "py/compile.h"
#include "py/gc.h"
#include "py/mperrno.h"
#include "py/objstr.h"
#include "py/runtime.h"
#include "py/stackctrl.h"

#define CAXTON_IMPLEMENTATION
#include "caxton.h"

#include "engine.h"
#include "prelude.h"

/* The collector's heap, taken from the allocator at start-up: HEAP_MAX,
 * or half as much until it fits the sandbox's memory limit (at least
 * HEAP_MIN). Its pages are touched only as they are used, but for the
 * allocation table (a 64th of the heap), and a collection runs every
 * GC_THRESHOLD bytes allocated, so an idle agent holds its live objects
 * plus at most that much garbage. A script that needs more than the heap
 * fails as running out of memory does (see handle_run). */
/* The modules an agent can import (mpconfigport.h). */
#define IMPORTABLE "json, math, time, collections"

#define HEAP_MAX (8 * 1024 * 1024)
#define HEAP_MIN (256 * 1024)
#define GC_THRESHOLD (128 * 1024)
/* MicroPython's stack check: below the 256 KiB C stack (Makefile). */
#define STACK_LIMIT (192 * 1024)

static char errbuf[2048];
static int started;

/* The objects kept between calls (MICROPY_PORT_ROOT_POINTERS). */
enum { ROOT_GLOBALS, ROOT_HANDLE, ROOT_MESSAGE, ROOT_CONTEXT, ROOT_PERMANENT, ROOT_TOO_DEEP };
#define ROOT(i) (MP_STATE_PORT(caxton_roots)[i])

/* ---- Console output and errors. ---------------------------------------- */

/* print() is the prelude's (to the log); this is what MicroPython itself
 * prints (nothing but exceptions, which the engine formats itself). */
void mp_hal_stdout_tx_strn_cooked(const char *str, size_t len) {
	caxton_log(CAXTON_LOG_INFO, str, (uint32_t)len);
}

void nlr_jump_fail(void *val) {
	(void)val;
	caxton_log_str(CAXTON_LOG_ERROR, "python: an exception escaped the engine");
	abort();
}

mp_lexer_t *mp_lexer_new_from_file(const char *filename) {
	(void)filename;
	mp_raise_OSError(MP_ENOENT);
}

/* mp_import_stat is asked only for modules that are not built in: there
 * is no file system, so the import fails here, saying what can be
 * imported (as the gpython engine says it). */
mp_import_stat_t mp_import_stat(const char *path) {
	/* MicroPython looks for a package, then a file, before its weak link
	 * from collections to ucollections. */
	if (strcmp(path, "collections") == 0 || strcmp(path, "collections.py") == 0)
		return MP_IMPORT_STAT_NO_EXIST;
	nlr_raise(mp_obj_new_exception_msg_varg(&mp_type_ImportError,
	    "no module named \"%s\" (an agent imports only the engine's modules: %s)", path, IMPORTABLE));
}

/* exc_text formats an exception as Python prints it, traceback first. */
static const char *exc_text(mp_obj_t exc) {
	static vstr_t v;
	vstr_init(&v, 128);
	mp_print_t p = {&v, (mp_print_strn_t)vstr_add_strn};
	mp_obj_print_exception(&p, exc);
	while (v.len > 0 && v.buf[v.len - 1] == '\n')
		v.len--;
	return vstr_null_terminated_str(&v);
}

/* ---- Start-up. ---------------------------------------------------------- */

struct init_call {
	const char *src;
	size_t len;
	const char *failed; /* NULL on success */
};

static void exec_source(qstr name, const char *src, size_t len) {
	mp_lexer_t *lex = mp_lexer_new_from_str_len(name, src, len, 0);
	mp_parse_tree_t pt = mp_parse(lex, MP_PARSE_FILE_INPUT);
	mp_obj_t fun = mp_compile(&pt, name, MP_EMIT_OPT_NONE, false);
	mp_call_function_0(fun);
}

static void init_run(void *arg) {
	struct init_call *c = arg;
	nlr_buf_t nlr;
	if (nlr_push(&nlr) == 0) {
		engine_register(mp_globals_get());
		exec_source(MP_QSTR__lt_prelude_gt_, (const char *)prelude_py, prelude_py_len);
		ROOT(ROOT_MESSAGE) = mp_load_global(MP_QSTR_Message);
		ROOT(ROOT_CONTEXT) = mp_load_global(MP_QSTR_Context);
		ROOT(ROOT_PERMANENT) = mp_load_global(MP_QSTR_PermanentError);
		exec_source(MP_QSTR__lt_agent_gt_, c->src, c->len);
		mp_call_function_0(mp_load_global(MP_QSTR__loaded));
		ROOT(ROOT_HANDLE) = mp_load_global(MP_QSTR_handle);
		nlr_pop();
		c->failed = NULL;
	} else {
		c->failed = exc_text(MP_OBJ_FROM_PTR(nlr.ret_val));
	}
}

static int64_t init_error(const char *msg) {
	snprintf(errbuf, sizeof errbuf, "python: %s", msg);
	return (int64_t)((uint64_t)(uint32_t)(uintptr_t)errbuf << 32 | (uint32_t)strlen(errbuf));
}

CAXTON__EXPORT("caxton_init")
int64_t caxton_init(const uint8_t *ptr, uint32_t len);

int64_t caxton_init(const uint8_t *ptr, uint32_t len) {
	if (started)
		return init_error("caxton_init called twice");
	if (len == 0)
		return init_error("no script: give the agent one (WasmSpec.Python, or a File ending in .py)");
	started = 1;
	/* The script is in the inbound buffer, which the first message
	 * overwrites: the lexer reads it during init only, and the compiled
	 * code keeps no pointer into it. */
	int top;
	mp_stack_set_top(&top);
	mp_stack_set_limit(STACK_LIMIT);
	size_t size = HEAP_MAX;
	char *heap;
	while ((heap = malloc(size)) == NULL && size > HEAP_MIN)
		size /= 2;
	if (!heap)
		return init_error("out of memory for the Python heap: raise the agent's memory limit");
	gc_init(heap, heap + size);
	MP_STATE_MEM(gc_alloc_threshold) = GC_THRESHOLD / MICROPY_BYTES_PER_GC_BLOCK;
	mp_init();
	ROOT(ROOT_GLOBALS) = MP_OBJ_FROM_PTR(mp_globals_get());
	ROOT(ROOT_TOO_DEEP) = mp_obj_new_exception_msg(&mp_type_RuntimeError, "maximum recursion depth exceeded");
	caxton_set_too_deep(ROOT(ROOT_TOO_DEEP));
	struct init_call c = {(const char *)ptr, len, NULL};
	caxton_run(init_run, &c);
	if (c.failed)
		return init_error(c.failed);
	gc_collect();
	return 0;
}

/* ---- Messages. ---------------------------------------------------------- */

static const char *const performatives[] = {
	"", "accept-proposal", "agree", "cancel", "cfp", "confirm", "disconfirm",
	"failure", "inform", "inform-if", "inform-ref", "not-understood",
	"propagate", "propose", "proxy", "query-if", "query-ref", "refuse",
	"reject-proposal", "request", "request-when", "request-whenever",
	"subscribe",
};

int engine_performative(const char *s, size_t n) {
	for (size_t i = 1; i < sizeof performatives / sizeof *performatives; i++)
		if (strlen(performatives[i]) == n && memcmp(performatives[i], s, n) == 0)
			return (int)i;
	return 0;
}

static mp_obj_t str(caxton_str s) { return mp_obj_new_str(s.ptr, s.len, false); }

static mp_obj_t string_map(const caxton_kv *kv, uint32_t n) {
	mp_obj_t d = mp_obj_new_dict(n);
	for (uint32_t i = 0; i < n; i++)
		mp_obj_dict_store(d, str(kv[i].key), str(kv[i].value));
	return d;
}

static mp_obj_t nanos(int64_t t) { return mp_obj_new_int_from_ll(t); }
static mp_obj_t seconds(int64_t t) { return t ? mp_obj_new_float((mp_float_t)t / 1e9) : mp_const_none; }

static const char hex[] = "0123456789abcdef";

static mp_obj_t message_id(const uint8_t id[16]) {
	static const uint8_t zero[16];
	if (memcmp(id, zero, 16) == 0)
		return MP_OBJ_NEW_QSTR(MP_QSTR_);
	char b[36];
	int j = 0;
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			b[j++] = '-';
		b[j++] = hex[id[i] >> 4];
		b[j++] = hex[id[i] & 15];
	}
	return mp_obj_new_str(b, 36, false);
}

/* new_message makes the prelude's Message for m, its fields set as
 * attributes. */
static mp_obj_t new_message(const caxton_msg *m) {
	mp_obj_t msg = mp_call_function_0(ROOT(ROOT_MESSAGE));
	const char *p = m->performative < sizeof performatives / sizeof *performatives ? performatives[m->performative] : "";
	mp_store_attr(msg, MP_QSTR_performative, mp_obj_new_str(p, strlen(p), true));
	mp_store_attr(msg, MP_QSTR_sender, str(m->sender));
	mp_store_attr(msg, MP_QSTR_reply_to, str(m->reply_to));
	mp_store_attr(msg, MP_QSTR_language, str(m->language));
	mp_store_attr(msg, MP_QSTR_encoding, str(m->encoding));
	mp_store_attr(msg, MP_QSTR_ontology, str(m->ontology));
	mp_store_attr(msg, MP_QSTR_protocol, str(m->protocol));
	mp_store_attr(msg, MP_QSTR_conversation_id, str(m->conversation_id));
	mp_store_attr(msg, MP_QSTR_reply_with, str(m->reply_with));
	mp_store_attr(msg, MP_QSTR_in_reply_to, str(m->in_reply_to));
	const char *prio = m->priority < 0 ? "low" : m->priority > 0 ? "high" : "normal";
	mp_store_attr(msg, MP_QSTR_priority, mp_obj_new_str(prio, strlen(prio), true));
	mp_store_attr(msg, MP_QSTR_params, string_map(m->params, m->param_count));
	mp_store_attr(msg, MP_QSTR_trace, string_map(m->trace, m->trace_count));
	mp_store_attr(msg, MP_QSTR_created_at_nanos, nanos(m->created_at));
	mp_store_attr(msg, MP_QSTR_reply_by_nanos, nanos(m->reply_by));
	mp_store_attr(msg, MP_QSTR_created_at, seconds(m->created_at));
	mp_store_attr(msg, MP_QSTR_reply_by, seconds(m->reply_by));
	mp_store_attr(msg, MP_QSTR_id, message_id(m->id));
	mp_obj_t rs = mp_obj_new_list(0, NULL);
	for (uint32_t i = 0; i < m->receiver_count; i++)
		mp_obj_list_append(rs, str(m->receivers[i]));
	mp_store_attr(msg, MP_QSTR_receivers, rs);
	if (utf8_check(m->content, m->content_len)) {
		mp_store_attr(msg, MP_QSTR_text, mp_obj_new_str((const char *)m->content, m->content_len, false));
		mp_store_attr(msg, MP_QSTR_bytes, mp_const_none);
	} else {
		mp_store_attr(msg, MP_QSTR_text, mp_const_none);
		mp_store_attr(msg, MP_QSTR_bytes, mp_obj_new_bytes(m->content, m->content_len));
	}
	return msg;
}

struct handle_call {
	const caxton_msg *m;
	int rc;
};

static void handle_run(void *arg) {
	struct handle_call *c = arg;
	nlr_buf_t nlr;
	if (nlr_push(&nlr) == 0) {
		mp_obj_t msg = new_message(c->m);
		mp_obj_t ctx = mp_call_function_0(ROOT(ROOT_CONTEXT));
		mp_store_attr(ctx, MP_QSTR__msg, msg);
		mp_call_function_2(ROOT(ROOT_HANDLE), msg, ctx);
		nlr_pop();
		c->rc = CAXTON_OK;
		return;
	}
	mp_obj_t exc = MP_OBJ_FROM_PTR(nlr.ret_val);
	if (mp_obj_is_subclass_fast(MP_OBJ_FROM_PTR(mp_obj_get_type(exc)), MP_OBJ_FROM_PTR(&mp_type_MemoryError))) {
		/* As a Go guest does: the sandbox reads this line and reports
		 * the trap as the memory limit (sandbox.KindMemory), and the
		 * runtime starts a fresh instance. */
		fprintf(stderr, "python: out of memory (the heap is %u bytes)\n",
		        (unsigned)(MP_STATE_MEM(gc_pool_end) - MP_STATE_MEM(gc_alloc_table_start)));
		fflush(stderr);
		abort();
	}
	const char *text = exc_text(exc);
	char line[64 + sizeof errbuf];
	int n = snprintf(line, sizeof line, "python: handle failed: %s", text);
	caxton_log(CAXTON_LOG_WARN, line, (uint32_t)(n < (int)sizeof line ? n : (int)sizeof line - 1));
	mp_obj_t type = MP_OBJ_FROM_PTR(mp_obj_get_type(exc));
	c->rc = mp_obj_is_subclass_fast(type, ROOT(ROOT_PERMANENT)) ? CAXTON_PERMANENT : -1;
}

int caxton_on_message(const caxton_msg *m) {
	if (!started || ROOT(ROOT_HANDLE) == MP_OBJ_NULL) {
		caxton_log_str(CAXTON_LOG_ERROR, "python: no script was loaded (caxton_init was not called)");
		return CAXTON_PERMANENT;
	}
	struct handle_call c = {m, 0};
	caxton_run(handle_run, &c);
	return c.rc;
}

/* utf8_check reports whether b is valid UTF-8 (no surrogates, no overlong
 * forms), which is when the content is text. */
int utf8_check(const uint8_t *b, size_t n) {
	size_t i = 0;
	while (i < n) {
		uint8_t c = b[i];
		size_t k;
		uint32_t cp;
		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			k = 1, cp = c & 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			k = 2, cp = c & 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			k = 3, cp = c & 0x07;
		} else {
			return 0;
		}
		if (i + k >= n)
			return 0;
		for (size_t j = 1; j <= k; j++) {
			if ((b[i + j] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (b[i + j] & 0x3f);
		}
		if ((k == 1 && cp < 0x80) || (k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += k + 1;
	}
	return 1;
}

/* The JavaScript engine guest: QuickJS inside a Caxton sandbox.
 *
 * One instance runs one agent's script. The host hands the script over once,
 * through the optional caxton_init export (sandbox/ABI.md, "Init data"); the
 * prelude (prelude.js, compiled in as prelude.h) defines the agent API on top
 * of the few native functions below, then the script runs and must define a
 * global function handle(msg, ctx). Every inbound message becomes a message
 * object (built here, with atoms made once) and goes to the prelude's
 * dispatcher, which calls handle.
 *
 * Native functions, handed to the prelude as an argument (the agent's script
 * never sees them):
 *   send(p, receivers, replyTo, language, encoding, ontology, protocol,
 *        conversationId, replyWith, inReplyTo, replyByNanos, priority, params,
 *        trace, content)  the prelude has validated every argument
 *   log(level, text)     caxton.log
 *   now()                caxton.now, Unix nanoseconds as a BigInt
 *   toolCall(name, json) caxton.tool_call -> [status, text]
 *   runJobs()            runs pending promise jobs (async handlers)
 *   getenv(name)         the environment the host granted (Grants.Env),
 *                        a string or undefined
 */
#define CAXTON_IMPLEMENTATION
#include "caxton.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quickjs.h"
#include "prelude.h"

/* QuickJS's own stack limit, on the C (shadow) stack of 1 MiB (wasm-ld -z
 * stack-size). Each JavaScript call also takes wasm frames on wasmtime's
 * native stack, which runs out (a trap: the instance is replaced) after
 * about 600 nested calls; at 128 KiB QuickJS stops first, after about 450,
 * with an exception the script can catch. */
#define JS_STACK_LIMIT (128 * 1024)
/* The most a tool result may be (guest.ToolBuffer, the host's default). */
#define TOOL_BUFFER (1 << 20)
/* What the prelude's dispatcher returns when the script ran out of memory. */
#define JS_OUT_OF_MEMORY (-100)

static JSRuntime *rt;
static JSContext *cx;
static JSValue dispatch = JS_UNDEFINED; /* the prelude's dispatcher */
static JSValue handler = JS_UNDEFINED;  /* the script's handle */
static JSValue msg_proto = JS_UNDEFINED;
static char *tool_buf;
static char errbuf[4096];

enum {
	A_PERFORMATIVE, A_SENDER, A_RECEIVERS, A_REPLY_TO, A_LANGUAGE, A_ENCODING,
	A_ONTOLOGY, A_PROTOCOL, A_CONVERSATION_ID, A_REPLY_WITH, A_IN_REPLY_TO,
	A_TEXT, A_BYTES, A_ID, A_CREATED_AT, A_REPLY_BY, A_PRIORITY, A_PARAMS,
	A_TRACE, A_COUNT
};
static const char *const atom_names[A_COUNT] = {
	"performative", "sender", "receivers", "replyTo", "language", "encoding",
	"ontology", "protocol", "conversationId", "replyWith", "inReplyTo",
	"text", "bytes", "id", "createdAtNanos", "replyByNanos", "_priority", "params",
	"trace",
};
static JSAtom atoms[A_COUNT];

/* ---- Errors. ------------------------------------------------------------ */

/* describe writes the pending exception (message and stack) to errbuf. */
static const char *describe(void) {
	JSValue ex = JS_GetException(cx);
	const char *s = JS_ToCString(cx, ex);
	snprintf(errbuf, sizeof errbuf, "%s", s ? s : "(exception)");
	if (s)
		JS_FreeCString(cx, s);
	if (JS_IsError(cx, ex)) {
		JSValue st = JS_GetPropertyStr(cx, ex, "stack");
		const char *ss = JS_IsString(st) ? JS_ToCString(cx, st) : NULL;
		if (ss && *ss) {
			size_t n = strlen(errbuf);
			snprintf(errbuf + n, sizeof errbuf - n, "\n%s", ss);
		}
		if (ss)
			JS_FreeCString(cx, ss);
		JS_FreeValue(cx, st);
	}
	JS_FreeValue(cx, ex);
	/* one line per record in the host's log: keep the trailing newline out */
	size_t n = strlen(errbuf);
	while (n > 0 && errbuf[n - 1] == '\n')
		errbuf[--n] = 0;
	return errbuf;
}

/* ---- Native functions. -------------------------------------------------- */

static caxton_str str_arg(JSValueConst v, const char **hold) {
	caxton_str s = {0, 0};
	size_t n = 0;
	*hold = NULL;
	if (JS_IsUndefined(v) || JS_IsNull(v))
		return s;
	*hold = JS_ToCStringLen(cx, &n, v);
	if (*hold) {
		s.ptr = *hold;
		s.len = (uint32_t)n;
	}
	return s;
}

/* kv_arg reads an object of string values into a malloc'd array. */
static int kv_arg(JSValueConst obj, caxton_kv **out, uint32_t *count,
                  const char ***holds, uint32_t *nholds) {
	JSPropertyEnum *props = NULL;
	uint32_t n = 0, i;
	*out = NULL;
	*count = 0;
	if (!JS_IsObject(obj))
		return 0;
	if (JS_GetOwnPropertyNames(cx, &props, &n, obj,
	                           JS_GPN_STRING_MASK | JS_GPN_ENUM_ONLY) < 0)
		return -1;
	if (n == 0) {
		js_free(cx, props);
		return 0;
	}
	caxton_kv *kv = calloc(n, sizeof *kv);
	const char **h = realloc(*holds, (*nholds + 2 * n) * sizeof **holds);
	if (!kv || !h) {
		free(kv);
		if (h)
			*holds = h;
		for (i = 0; i < n; i++)
			JS_FreeAtom(cx, props[i].atom);
		js_free(cx, props);
		JS_ThrowOutOfMemory(cx);
		return -1;
	}
	*holds = h;
	for (i = 0; i < n; i++) {
		size_t kl = 0, vl = 0;
		const char *k = JS_AtomToCString(cx, props[i].atom);
		JSValue v = JS_GetProperty(cx, obj, props[i].atom);
		const char *vs = JS_ToCStringLen(cx, &vl, v);
		JS_FreeValue(cx, v);
		h[(*nholds)++] = k;
		h[(*nholds)++] = vs;
		if (k)
			kl = strlen(k);
		kv[i].key.ptr = k;
		kv[i].key.len = (uint32_t)kl;
		kv[i].value.ptr = vs;
		kv[i].value.len = (uint32_t)vl;
		JS_FreeAtom(cx, props[i].atom);
	}
	js_free(cx, props);
	*out = kv;
	*count = n;
	return 0;
}

static JSValue js_send(JSContext *c, JSValueConst this_val, int argc,
                       JSValueConst *argv) {
	(void)this_val;
	caxton_out o;
	const char *hold[10] = {0};
	const char **kvh = NULL;
	uint32_t nkvh = 0, nrcv = 0, i;
	caxton_str *rcv = NULL;
	caxton_kv *params = NULL, *trace = NULL;
	JSValue ret = JS_UNDEFINED;
	int32_t p = 0, prio = 0;
	int64_t by = 0;

	if (argc < 15)
		return JS_ThrowTypeError(c, "send: internal: %d arguments", argc);
	memset(&o, 0, sizeof o);
	JS_ToInt32(c, &p, argv[0]);
	o.performative = (uint8_t)p;
	JSValue len = JS_GetPropertyStr(c, argv[1], "length");
	JS_ToUint32(c, &nrcv, len);
	JS_FreeValue(c, len);
	const char **rh = calloc(nrcv ? nrcv : 1, sizeof *rh);
	rcv = calloc(nrcv ? nrcv : 1, sizeof *rcv);
	if (!rh || !rcv) {
		free(rh);
		free(rcv);
		return JS_ThrowOutOfMemory(c);
	}
	for (i = 0; i < nrcv; i++) {
		JSValue r = JS_GetPropertyUint32(c, argv[1], i);
		rcv[i] = str_arg(r, &rh[i]);
		JS_FreeValue(c, r);
	}
	o.receivers = rcv;
	o.receiver_count = nrcv;
	o.reply_to = str_arg(argv[2], &hold[0]);
	o.language = str_arg(argv[3], &hold[1]);
	o.encoding = str_arg(argv[4], &hold[2]);
	o.ontology = str_arg(argv[5], &hold[3]);
	o.protocol = str_arg(argv[6], &hold[4]);
	o.conversation_id = str_arg(argv[7], &hold[5]);
	o.reply_with = str_arg(argv[8], &hold[6]);
	o.in_reply_to = str_arg(argv[9], &hold[7]);
	if (JS_ToBigInt64(c, &by, argv[10]) < 0) {
		ret = JS_EXCEPTION;
		goto done;
	}
	o.reply_by = by;
	JS_ToInt32(c, &prio, argv[11]);
	o.priority = (int8_t)prio;
	if (kv_arg(argv[12], &params, &o.param_count, &kvh, &nkvh) < 0 ||
	    kv_arg(argv[13], &trace, &o.trace_count, &kvh, &nkvh) < 0) {
		ret = JS_EXCEPTION;
		goto done;
	}
	o.params = params;
	o.trace = trace;
	if (JS_IsString(argv[14])) {
		caxton_str s = str_arg(argv[14], &hold[8]);
		o.content = s.ptr;
		o.content_len = s.len;
	} else if (JS_IsObject(argv[14])) {
		size_t n = 0;
		uint8_t *b = JS_GetArrayBuffer(c, &n, argv[14]);
		if (!b) {
			ret = JS_EXCEPTION;
			goto done;
		}
		o.content = b;
		o.content_len = (uint32_t)n;
	}
	if (caxton_send(&o) != 0)
		ret = JS_ThrowOutOfMemory(c);
done:
	for (i = 0; i < nrcv; i++)
		if (rh[i])
			JS_FreeCString(c, rh[i]);
	for (i = 0; i < sizeof hold / sizeof hold[0]; i++)
		if (hold[i])
			JS_FreeCString(c, hold[i]);
	for (i = 0; i < nkvh; i++)
		if (kvh[i])
			JS_FreeCString(c, kvh[i]);
	free(kvh);
	free(rh);
	free(rcv);
	free(params);
	free(trace);
	return ret;
}

static JSValue js_log(JSContext *c, JSValueConst this_val, int argc,
                      JSValueConst *argv) {
	(void)this_val;
	int32_t level = 0;
	size_t n = 0;
	if (argc < 2)
		return JS_UNDEFINED;
	JS_ToInt32(c, &level, argv[0]);
	const char *s = JS_ToCStringLen(c, &n, argv[1]);
	if (!s)
		return JS_EXCEPTION;
	if (n > 0)
		caxton_log(level, s, (uint32_t)n);
	JS_FreeCString(c, s);
	return JS_UNDEFINED;
}

static JSValue js_now(JSContext *c, JSValueConst this_val, int argc,
                      JSValueConst *argv) {
	(void)this_val;
	(void)argc;
	(void)argv;
	return JS_NewBigInt64(c, caxton_now());
}

static JSValue js_tool_call(JSContext *c, JSValueConst this_val, int argc,
                            JSValueConst *argv) {
	(void)this_val;
	size_t nl = 0, al = 0;
	if (argc < 2)
		return JS_ThrowTypeError(c, "toolCall: internal: %d arguments", argc);
	if (!tool_buf && !(tool_buf = malloc(TOOL_BUFFER)))
		return JS_ThrowOutOfMemory(c);
	const char *name = JS_ToCStringLen(c, &nl, argv[0]);
	const char *args = name ? JS_ToCStringLen(c, &al, argv[1]) : NULL;
	if (!name || !args) {
		if (name)
			JS_FreeCString(c, name);
		return JS_EXCEPTION;
	}
	int64_t r = caxton_tool_call(name, (uint32_t)nl, args, (uint32_t)al,
	                             tool_buf, TOOL_BUFFER);
	JS_FreeCString(c, name);
	JS_FreeCString(c, args);
	uint32_t n = CAXTON_TOOL_LEN(r);
	if (n > TOOL_BUFFER)
		n = TOOL_BUFFER;
	JSValue out = JS_NewArray(c);
	JS_SetPropertyUint32(c, out, 0, JS_NewInt32(c, CAXTON_TOOL_STATUS(r)));
	JS_SetPropertyUint32(c, out, 1, JS_NewStringLen(c, tool_buf, n));
	return out;
}

static JSValue js_run_jobs(JSContext *c, JSValueConst this_val, int argc,
                           JSValueConst *argv) {
	(void)c;
	(void)this_val;
	(void)argc;
	(void)argv;
	JSContext *jc;
	int r;
	while ((r = JS_ExecutePendingJob(rt, &jc)) > 0) {
	}
	return r < 0 ? JS_EXCEPTION : JS_UNDEFINED;
}

static JSValue js_getenv(JSContext *c, JSValueConst this_val, int argc,
                         JSValueConst *argv) {
	(void)this_val;
	if (argc < 1)
		return JS_UNDEFINED;
	const char *name = JS_ToCString(c, argv[0]);
	if (!name)
		return JS_EXCEPTION;
	const char *v = getenv(name);
	JS_FreeCString(c, name);
	return v ? JS_NewString(c, v) : JS_UNDEFINED;
}

/* ---- Start-up: the host's init data is the agent's script. ------------- */

static int64_t init_failed(const char *what) {
	size_t n = strlen(errbuf), w = strlen(what);
	if (w + 2 + n + 1 > sizeof errbuf)
		n = sizeof errbuf - w - 3;
	memmove(errbuf + w + 2, errbuf, n);
	memcpy(errbuf, what, w);
	errbuf[w] = ':';
	errbuf[w + 1] = ' ';
	errbuf[w + 2 + n] = 0;
	return (int64_t)((uint64_t)(uint32_t)(uintptr_t)errbuf << 32 |
	                 (uint32_t)strlen(errbuf));
}

static int64_t init_error(const char *msg) {
	snprintf(errbuf, sizeof errbuf, "%s", msg);
	return (int64_t)((uint64_t)(uint32_t)(uintptr_t)errbuf << 32 |
	                 (uint32_t)strlen(errbuf));
}

CAXTON__EXPORT("caxton_init")
int64_t caxton_init(const uint8_t *ptr, uint32_t len);

int64_t caxton_init(const uint8_t *ptr, uint32_t len) {
	int i;
	if (rt)
		return init_error("caxton_init called twice");
	if (len == 0)
		return init_error("no script: give the agent one (WasmSpec.JavaScript, or a File ending in .js)");
	if (!(rt = JS_NewRuntime()) || !(cx = JS_NewContext(rt)))
		return init_error("out of memory creating the JavaScript runtime");
	JS_SetMaxStackSize(rt, JS_STACK_LIMIT);
	for (i = 0; i < A_COUNT; i++)
		atoms[i] = JS_NewAtom(cx, atom_names[i]);

	JSValue global = JS_GetGlobalObject(cx);
	JSValue native = JS_NewObject(cx);
	JS_SetPropertyStr(cx, native, "send", JS_NewCFunction(cx, js_send, "send", 15));
	JS_SetPropertyStr(cx, native, "log", JS_NewCFunction(cx, js_log, "log", 2));
	JS_SetPropertyStr(cx, native, "now", JS_NewCFunction(cx, js_now, "now", 0));
	JS_SetPropertyStr(cx, native, "toolCall", JS_NewCFunction(cx, js_tool_call, "toolCall", 2));
	JS_SetPropertyStr(cx, native, "runJobs", JS_NewCFunction(cx, js_run_jobs, "runJobs", 0));
	JS_SetPropertyStr(cx, native, "getenv", JS_NewCFunction(cx, js_getenv, "getenv", 1));

	/* The prelude is an expression: a function of the native object that
	 * returns [dispatcher, message prototype]. */
	JSValue fn = JS_Eval(cx, (const char *)prelude_js, prelude_js_len - 1, /* less its NUL */
	                     "caxton:prelude.js", JS_EVAL_TYPE_GLOBAL);
	if (JS_IsException(fn)) {
		describe();
		JS_FreeValue(cx, native);
		JS_FreeValue(cx, global);
		return init_failed("prelude");
	}
	JSValue pair = JS_Call(cx, fn, JS_UNDEFINED, 1, (JSValueConst *)&native);
	JS_FreeValue(cx, fn);
	JS_FreeValue(cx, native);
	if (JS_IsException(pair)) {
		describe();
		JS_FreeValue(cx, global);
		return init_failed("prelude");
	}
	dispatch = JS_GetPropertyUint32(cx, pair, 0);
	msg_proto = JS_GetPropertyUint32(cx, pair, 1);
	JS_FreeValue(cx, pair);

	/* The script; a copy NUL-terminated, as JS_Eval wants. */
	char *src = malloc((size_t)len + 1);
	if (!src) {
		JS_FreeValue(cx, global);
		return init_error("out of memory copying the script");
	}
	memcpy(src, ptr, len);
	src[len] = 0;
	JSValue r = JS_Eval(cx, src, len, "agent.js", JS_EVAL_TYPE_GLOBAL);
	free(src);
	if (JS_IsException(r)) {
		describe();
		JS_FreeValue(cx, global);
		return init_failed("the script failed to load");
	}
	JS_FreeValue(cx, r);
	JS_FreeValue(cx, global);
	/* handle may be a function declaration or a const/let binding (which
	 * is not a property of the global object): look it up by name, once. */
	static const char lookup[] = "typeof handle === 'function' ? handle : undefined";
	handler = JS_Eval(cx, lookup, sizeof lookup - 1, "caxton:handle", JS_EVAL_TYPE_GLOBAL);
	if (JS_IsException(handler)) {
		describe();
		handler = JS_UNDEFINED;
		return init_failed("the script failed to load");
	}
	if (!JS_IsFunction(cx, handler))
		return init_error("the script does not define a function handle(msg, ctx)");
	return 0;
}

/* ---- Messages. ---------------------------------------------------------- */

static int valid_utf8(const uint8_t *s, uint32_t n) {
	uint32_t i = 0;
	while (i < n) {
		uint8_t c = s[i];
		uint32_t k;
		uint32_t cp;
		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xE0) == 0xC0) {
			k = 1;
			cp = c & 0x1F;
		} else if ((c & 0xF0) == 0xE0) {
			k = 2;
			cp = c & 0x0F;
		} else if ((c & 0xF8) == 0xF0) {
			k = 3;
			cp = c & 0x07;
		} else
			return 0;
		if (n - i <= k) /* the sequence runs past the end */
			return 0;
		for (uint32_t j = 1; j <= k; j++) {
			if ((s[i + j] & 0xC0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + j] & 0x3F);
		}
		if ((k == 1 && cp < 0x80) || (k == 2 && cp < 0x800) ||
		    (k == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
		    (cp >= 0xD800 && cp <= 0xDFFF))
			return 0;
		i += k + 1;
	}
	return 1;
}

static void set(JSValue o, int a, JSValue v) {
	JS_DefinePropertyValue(cx, o, atoms[a], v, JS_PROP_C_W_E);
}

static void set_str(JSValue o, int a, caxton_str s) {
	set(o, a, JS_NewStringLen(cx, s.ptr ? s.ptr : "", s.len));
}

static JSValue kv_object(const caxton_kv *kv, uint32_t n) {
	JSValue o = JS_NewObject(cx);
	for (uint32_t i = 0; i < n; i++) {
		char *k = malloc(kv[i].key.len + 1);
		if (!k)
			continue;
		memcpy(k, kv[i].key.ptr, kv[i].key.len);
		k[kv[i].key.len] = 0;
		JS_SetPropertyStr(cx, o, k,
		                  JS_NewStringLen(cx, kv[i].value.ptr ? kv[i].value.ptr : "",
		                                  kv[i].value.len));
		free(k);
	}
	return o;
}

static JSValue message(const caxton_msg *m) {
	static const char hex[] = "0123456789abcdef";
	char id[37];
	JSValue o = JS_NewObjectProto(cx, msg_proto);
	set(o, A_PERFORMATIVE, JS_NewString(cx, caxton_performative_name(m->performative)));
	set_str(o, A_SENDER, m->sender);
	JSValue rcv = JS_NewArray(cx);
	for (uint32_t i = 0; i < m->receiver_count; i++)
		JS_SetPropertyUint32(cx, rcv, i,
		                     JS_NewStringLen(cx, m->receivers[i].ptr ? m->receivers[i].ptr : "",
		                                     m->receivers[i].len));
	set(o, A_RECEIVERS, rcv);
	set_str(o, A_REPLY_TO, m->reply_to);
	set_str(o, A_LANGUAGE, m->language);
	set_str(o, A_ENCODING, m->encoding);
	set_str(o, A_ONTOLOGY, m->ontology);
	set_str(o, A_PROTOCOL, m->protocol);
	set_str(o, A_CONVERSATION_ID, m->conversation_id);
	set_str(o, A_REPLY_WITH, m->reply_with);
	set_str(o, A_IN_REPLY_TO, m->in_reply_to);
	const char *content = m->content_len ? (const char *)m->content : "";
	set(o, A_TEXT, JS_NewStringLen(cx, content, m->content_len));
	if (!valid_utf8(m->content, m->content_len))
		set(o, A_BYTES, JS_NewArrayBufferCopy(cx, m->content, m->content_len));
	else
		set(o, A_BYTES, JS_NULL);
	for (int i = 0, j = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			id[j++] = '-';
		id[j++] = hex[m->id[i] >> 4];
		id[j++] = hex[m->id[i] & 15];
		id[j] = 0;
	}
	set(o, A_ID, JS_NewString(cx, id));
	set(o, A_CREATED_AT, JS_NewBigInt64(cx, m->created_at));
	set(o, A_REPLY_BY, JS_NewBigInt64(cx, m->reply_by));
	set(o, A_PRIORITY, JS_NewInt32(cx, m->priority));
	set(o, A_PARAMS, kv_object(m->params, m->param_count));
	set(o, A_TRACE, kv_object(m->trace, m->trace_count));
	return o;
}

/* caxton_on_message hands one message to the prelude's dispatcher, which
 * returns 0 (handled), -2 (failed: retry), -3 (permanent failure) or
 * JS_OUT_OF_MEMORY; the dispatcher logs a failure with the script's stack. */
int caxton_on_message(const caxton_msg *m) {
	if (!rt) {
		caxton_log_str(CAXTON_LOG_ERROR, "javascript: no script was loaded (caxton_init was not called)");
		return CAXTON_PERMANENT;
	}
	JSValue msg = message(m);
	JSValueConst args[2] = {msg, handler};
	JSValue r = JS_Call(cx, dispatch, JS_UNDEFINED, 2, args);
	JS_FreeValue(cx, msg);
	if (JS_IsException(r)) {
		/* an exception the dispatcher could not classify (out of memory,
		 * a stack overflow while reporting one): retry */
		caxton_log_str(CAXTON_LOG_WARN, describe());
		return CAXTON_FAILED;
	}
	int32_t rc = 0;
	JS_ToInt32(cx, &rc, r);
	JS_FreeValue(cx, r);
	if (rc == JS_OUT_OF_MEMORY) {
		/* The script filled its heap: trap, so the runtime replaces the
		 * instance (the sandbox reports its memory limit) instead of
		 * running on in a heap with no room. */
		caxton_log_str(CAXTON_LOG_ERROR, "javascript: out of memory: the instance is replaced");
		__builtin_trap();
	}
	return rc == CAXTON_PERMANENT ? CAXTON_PERMANENT : rc == 0 ? CAXTON_OK : CAXTON_FAILED;
}

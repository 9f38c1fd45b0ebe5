/*
 * caxton.h - the Caxton Guest ABI v1 (sandbox/ABI.md) for agents written in C.
 *
 * A single header, stb-style. In exactly ONE .c file of an agent write
 *
 *     #define CAXTON_IMPLEMENTATION
 *     #include "caxton.h"
 *
 * and define the handler
 *
 *     int caxton_on_message(const caxton_msg *m);
 *
 * Other .c files of the same agent include "caxton.h" without the define and
 * get the declarations only. The implementation provides the exports the host
 * needs (caxton_abi_version, caxton_alloc, caxton_handle); `memory` and
 * `_initialize` come from the toolchain. Build a reactor module:
 *
 *     clang-14 --target=wasm32-wasi -mexec-model=reactor -O2 -Wl,--strip-all \
 *         -I guest/c -o agent.wasm agent.c
 *
 * How a batch is handled. The host copies a batch of messages into a buffer
 * obtained from caxton_alloc and calls caxton_handle once. caxton_handle first
 * validates the WHOLE batch (every length is checked against the bytes that
 * are really there; nothing is read out of bounds) and returns -1 if it is
 * malformed, before your handler has seen any of it. It then calls
 * caxton_on_message once per message, in order. Your handler returns
 *
 *     CAXTON_OK (0)          the message is handled;
 *     CAXTON_PERMANENT (-3)  failed, and retrying is pointless (dead-letter);
 *     anything else          failed, retry the batch (caxton_handle returns -2).
 *
 * On failure everything sent during the batch is discarded. Note that the
 * batch will be redelivered (at-least-once), so static state your handler
 * changed for earlier messages of a failed batch will see them again.
 *
 * Lifetimes. Every caxton_str / content pointer in a caxton_msg points into
 * the inbound buffer and is valid only during that caxton_on_message call.
 * Strings are NOT NUL-terminated: print them with "%.*s", (int)s.len, s.ptr,
 * and compare them with caxton_str_eq. caxton_send copies everything it is
 * given, so you may pass pointers into the inbound message or stack buffers.
 * Call caxton_send / caxton_reply only from inside caxton_on_message: the
 * outbox is reset at the start of every batch.
 *
 * Imports. caxton_log, caxton_now and caxton_tool_call are imported from the
 * host only if your code references them (an unreferenced import is not
 * emitted).
 *
 * The header also compiles natively (without __wasm__): the export/import
 * attributes disappear, so agents can be unit-tested or fuzzed on the host by
 * calling caxton_handle directly and inspecting caxton_outbox(); such a test
 * must then define caxton_log / caxton_now itself if the agent uses them.
 */
#ifndef CAXTON_H
#define CAXTON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CAXTON_ABI_VERSION 1

/* The 22 FIPA communicative acts, with the ABI's numbering. */
enum caxton_performative {
	CAXTON_ACCEPT_PROPOSAL = 1,
	CAXTON_AGREE = 2,
	CAXTON_CANCEL = 3,
	CAXTON_CFP = 4,
	CAXTON_CONFIRM = 5,
	CAXTON_DISCONFIRM = 6,
	CAXTON_FAILURE = 7,
	CAXTON_INFORM = 8,
	CAXTON_INFORM_IF = 9,
	CAXTON_INFORM_REF = 10,
	CAXTON_NOT_UNDERSTOOD = 11,
	CAXTON_PROPAGATE = 12,
	CAXTON_PROPOSE = 13,
	CAXTON_PROXY = 14,
	CAXTON_QUERY_IF = 15,
	CAXTON_QUERY_REF = 16,
	CAXTON_REFUSE = 17,
	CAXTON_REJECT_PROPOSAL = 18,
	CAXTON_REQUEST = 19,
	CAXTON_REQUEST_WHEN = 20,
	CAXTON_REQUEST_WHENEVER = 21,
	CAXTON_SUBSCRIBE = 22
};

/* Message priorities (the frame's i8 priority). */
#define CAXTON_PRIORITY_LOW (-1)
#define CAXTON_PRIORITY_NORMAL 0
#define CAXTON_PRIORITY_HIGH 1

/* Return values of caxton_on_message, and status codes of caxton_handle. */
#define CAXTON_OK 0
#define CAXTON_BAD_INPUT (-1) /* caxton_handle only: the batch was malformed */
#define CAXTON_FAILED (-2)    /* failed: retry the batch with backoff */
#define CAXTON_PERMANENT (-3) /* failed: do not retry, dead-letter the batch */

/* slog levels for caxton_log. */
#define CAXTON_LOG_DEBUG (-4)
#define CAXTON_LOG_INFO 0
#define CAXTON_LOG_WARN 4
#define CAXTON_LOG_ERROR 8

/* A string or byte slice: ptr + len, not NUL-terminated. An empty field has
 * len 0 (ptr may then be anything, including NULL). */
typedef struct caxton_str {
	const char *ptr;
	uint32_t len;
} caxton_str;

typedef struct caxton_kv {
	caxton_str key, value;
} caxton_kv;

/* A decoded inbound message: a view into the inbound buffer (see Lifetimes). */
typedef struct caxton_msg {
	uint8_t performative; /* enum caxton_performative (not range-checked) */
	int8_t priority;      /* CAXTON_PRIORITY_* */
	uint8_t id[16];       /* message id (UUID bytes) */
	int64_t created_at;   /* Unix ns; 0 = unset */
	int64_t reply_by;     /* Unix ns; 0 = none */

	caxton_str sender, reply_to, language, encoding, ontology, protocol,
	    conversation_id, reply_with, in_reply_to;

	const caxton_str *receivers;
	uint32_t receiver_count;
	const caxton_kv *params; /* user-defined "X-" parameters, wire order */
	uint32_t param_count;
	const caxton_kv *trace; /* W3C trace context ("traceparent", ...) */
	uint32_t trace_count;

	const uint8_t *content;
	uint32_t content_len;
} caxton_msg;

/* An outbound message for caxton_send. Zero-initialise it and fill what you
 * need. There is no sender (the host stamps the agent's name), no id and no
 * created_at (the host assigns them). */
typedef struct caxton_out {
	uint8_t performative; /* required: enum caxton_performative */
	int8_t priority;      /* CAXTON_PRIORITY_*; 0 = normal */
	int64_t reply_by;     /* Unix ns; 0 = none */

	const caxton_str *receivers; /* required: at least one */
	uint32_t receiver_count;

	caxton_str reply_to, language, encoding, ontology, protocol,
	    conversation_id, reply_with, in_reply_to;

	const caxton_kv *params;
	uint32_t param_count;
	const caxton_kv *trace;
	uint32_t trace_count;

	const void *content;
	uint32_t content_len;
} caxton_out;

/* ---- You write this. ---------------------------------------------------- */

/* Called once per inbound message, in batch order. See the top of the file. */
int caxton_on_message(const caxton_msg *m);

/* ---- Sending. ----------------------------------------------------------- */

/* Appends a message to the outbox. Returns 0, or -1 if out of memory (the
 * batch then fails with CAXTON_FAILED even if the handler returns CAXTON_OK). */
int caxton_send(const caxton_out *o);

/* Fills *o as a reply to in, like acl.Message.CreateReply: receivers =
 * in->reply_to if set, else in->sender; conversation_id, protocol, language,
 * encoding and ontology copied; in_reply_to = in->reply_with; no content and
 * no reply_with (set one yourself if you expect an answer). *o points into
 * *in, so send it before the handler returns. Adjust fields, then
 * caxton_send(o). */
void caxton_reply_init(caxton_out *o, const caxton_msg *in, int performative);

/* caxton_reply_init + content + caxton_send. Returns as caxton_send. */
int caxton_reply(const caxton_msg *in, int performative, const void *content,
                 uint32_t len);

/* The outbox built so far in this batch (for native tests). */
void caxton_outbox(const uint8_t **ptr, uint32_t *len, uint32_t *count);

/* ---- Small helpers. ----------------------------------------------------- */

caxton_str caxton_cstr(const char *z);              /* a view of a C string */
int caxton_str_eq(caxton_str s, const char *z);     /* s == z, byte-wise */
/* The value of a user parameter / trace-context entry (the last one, if the
 * key repeats); .ptr == NULL if absent. */
caxton_str caxton_param(const caxton_msg *m, const char *key);
caxton_str caxton_trace(const caxton_msg *m, const char *key);
/* "accept-proposal" ... "subscribe", or "" for a value outside 1..22. */
const char *caxton_performative_name(int performative);

/* ---- Host imports (module "caxton"), each optional. --------------------- */

#if defined(__wasm__)
#define CAXTON__IMPORT(name) \
	__attribute__((import_module("caxton"), import_name(name)))
#define CAXTON__EXPORT(name) __attribute__((export_name(name)))
#else
#define CAXTON__IMPORT(name)
#define CAXTON__EXPORT(name)
#endif

/* Writes text to the runtime's logger under the agent's name. */
CAXTON__IMPORT("log")
void caxton_log(int32_t level, const char *ptr, uint32_t len);
/* The runtime clock, Unix nanoseconds (a fake clock in tests). */
CAXTON__IMPORT("now")
int64_t caxton_now(void);
/* caxton_log of a NUL-terminated string. */
void caxton_log_str(int32_t level, const char *z);
/* Calls a host tool (sandbox/ABI.md, "tool_call"): name and JSON-object
 * arguments in, the result (or the reason) written to out. Returns the
 * status (CAXTON_TOOL_*) in the high 32 bits and the bytes written in the
 * low 32. A denial or timeout is a status, never a trap. */
CAXTON__IMPORT("tool_call")
int64_t caxton_tool_call(const char *name, uint32_t name_len, const char *args,
                         uint32_t args_len, char *out, uint32_t out_cap);
#define CAXTON_TOOL_OK 0
#define CAXTON_TOOL_ERROR 1
#define CAXTON_TOOL_DENIED 2
#define CAXTON_TOOL_RATE_LIMITED 3
#define CAXTON_TOOL_TIMEOUT 4
#define CAXTON_TOOL_UNAVAILABLE 5
#define CAXTON_TOOL_BAD_ARGUMENTS 6
#define CAXTON_TOOL_TOO_LARGE 7
#define CAXTON_TOOL_STATUS(r) ((int32_t)((uint64_t)(r) >> 32))
#define CAXTON_TOOL_LEN(r) ((uint32_t)(r))

/* ---- The ABI exports (called by the host, not by you). ------------------ */

CAXTON__EXPORT("caxton_abi_version") int32_t caxton_abi_version(void);
CAXTON__EXPORT("caxton_alloc") void *caxton_alloc(uint32_t size);
CAXTON__EXPORT("caxton_handle")
int64_t caxton_handle(const uint8_t *ptr, uint32_t len);

#ifdef __cplusplus
}
#endif
#endif /* CAXTON_H */

/* ======================================================================== */

#ifdef CAXTON_IMPLEMENTATION
#ifndef CAXTON__IMPLEMENTED
#define CAXTON__IMPLEMENTED

#include <stdlib.h>
#include <string.h>

/* Bytes of a frame after frame_len and before the first string:
 * performative(1) priority(1) reserved(2) id(16) created_at(8) reply_by(8). */
#define CAXTON__FIXED 36

static uint8_t *caxton__in;      /* inbound buffer (caxton_alloc) */
static uint32_t caxton__in_cap;
static uint8_t *caxton__out;     /* outbox: u32 count, then frames */
static uint32_t caxton__out_len; /* 0 until the first send of a batch */
static uint32_t caxton__out_cap;
static uint32_t caxton__out_count;
static int caxton__out_failed; /* a send ran out of memory in this batch */
/* Scratch arrays for the receivers/params/trace of the current message,
 * grown to the largest counts seen; reused for every message. */
static caxton_str *caxton__rcv;
static caxton_kv *caxton__prm, *caxton__trc;
static uint32_t caxton__rcv_cap, caxton__prm_cap, caxton__trc_cap;

static uint32_t caxton__get32(const uint8_t *p) {
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static int64_t caxton__get64(const uint8_t *p) {
	return (int64_t)((uint64_t)caxton__get32(p) |
	                 (uint64_t)caxton__get32(p + 4) << 32);
}

static uint8_t *caxton__put32(uint8_t *p, uint32_t v) {
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
	return p + 4;
}

static uint8_t *caxton__put64(uint8_t *p, int64_t v) {
	p = caxton__put32(p, (uint32_t)(uint64_t)v);
	return caxton__put32(p, (uint32_t)((uint64_t)v >> 32));
}

/* ---- Decoding. ---------------------------------------------------------- */

/* A bounds-checked cursor over one frame. Once bad is set every read returns
 * zero values, so a parse can run to its end and check bad once. */
typedef struct caxton__rd {
	const uint8_t *b;
	uint32_t len, off;
	int bad;
} caxton__rd;

static uint32_t caxton__u32(caxton__rd *r) {
	uint32_t v;
	if (r->bad || r->len - r->off < 4) {
		r->bad = 1;
		return 0;
	}
	v = caxton__get32(r->b + r->off);
	r->off += 4;
	return v;
}

static caxton_str caxton__str(caxton__rd *r) {
	caxton_str s = {0, 0};
	uint32_t n = caxton__u32(r);
	if (r->bad || n > r->len - r->off) {
		r->bad = 1;
		return s;
	}
	s.ptr = (const char *)(r->b + r->off);
	s.len = n;
	r->off += n;
	return s;
}

/* A count of elements of at least min_size bytes each that must fit in what
 * is left of the frame (this bounds the scratch arrays by the frame size). */
static uint32_t caxton__count(caxton__rd *r, uint32_t min_size) {
	uint32_t n = caxton__u32(r);
	if (!r->bad && n > (r->len - r->off) / min_size)
		r->bad = 1;
	return r->bad ? 0 : n;
}

/* Parses the frame body b[0, n). With m == NULL it only validates and stores
 * the receiver/param/trace counts in counts[0..2]; with m it fills *m (the
 * scratch arrays must already hold counts[] elements). Returns 0 or -1. */
static int caxton__frame(const uint8_t *b, uint32_t n, caxton_msg *m,
                         uint32_t counts[3]) {
	caxton__rd r;
	caxton_str s;
	uint32_t i, c;
	if (n < CAXTON__FIXED)
		return -1;
	r.b = b;
	r.len = n;
	r.off = CAXTON__FIXED;
	r.bad = 0;
	if (m) {
		m->performative = b[0];
		m->priority = (int8_t)b[1];
		memcpy(m->id, b + 4, 16);
		m->created_at = caxton__get64(b + 20);
		m->reply_by = caxton__get64(b + 28);
	}
	for (i = 0; i < 9; i++) {
		s = caxton__str(&r);
		if (!m)
			continue;
		switch (i) {
		case 0: m->sender = s; break;
		case 1: m->reply_to = s; break;
		case 2: m->language = s; break;
		case 3: m->encoding = s; break;
		case 4: m->ontology = s; break;
		case 5: m->protocol = s; break;
		case 6: m->conversation_id = s; break;
		case 7: m->reply_with = s; break;
		default: m->in_reply_to = s; break;
		}
	}
	c = counts[0] = caxton__count(&r, 4); /* receivers: str >= 4 bytes */
	for (i = 0; i < c; i++) {
		s = caxton__str(&r);
		if (m)
			caxton__rcv[i] = s;
	}
	c = counts[1] = caxton__count(&r, 8); /* params: 2 str >= 8 bytes */
	for (i = 0; i < c; i++) {
		caxton_kv kv;
		kv.key = caxton__str(&r);
		kv.value = caxton__str(&r);
		if (m)
			caxton__prm[i] = kv;
	}
	c = counts[2] = caxton__count(&r, 8); /* trace context */
	for (i = 0; i < c; i++) {
		caxton_kv kv;
		kv.key = caxton__str(&r);
		kv.value = caxton__str(&r);
		if (m)
			caxton__trc[i] = kv;
	}
	s = caxton__str(&r); /* content */
	if (r.bad || r.off != r.len) /* a frame must be consumed exactly */
		return -1;
	if (m) {
		m->receivers = caxton__rcv;
		m->receiver_count = counts[0];
		m->params = caxton__prm;
		m->param_count = counts[1];
		m->trace = caxton__trc;
		m->trace_count = counts[2];
		m->content = (const uint8_t *)s.ptr;
		m->content_len = s.len;
	}
	return 0;
}

/* Grows *arr to hold n elements of size sz. Returns 0 or -1. */
static int caxton__grow(void **arr, uint32_t *cap, uint32_t n, size_t sz) {
	void *p;
	if (n <= *cap)
		return 0;
	p = realloc(*arr, (size_t)n * sz);
	if (!p)
		return -1;
	*arr = p;
	*cap = n;
	return 0;
}

/* ---- Exports. ----------------------------------------------------------- */

int32_t caxton_abi_version(void) { return CAXTON_ABI_VERSION; }

void *caxton_alloc(uint32_t size) {
	if (caxton__in && size <= caxton__in_cap)
		return caxton__in;
	free(caxton__in); /* the old contents need not survive: no realloc */
	caxton__in_cap = 0;
	caxton__in = (uint8_t *)malloc(size ? size : 1);
	if (caxton__in)
		caxton__in_cap = size;
	return caxton__in;
}

int64_t caxton_handle(const uint8_t *ptr, uint32_t len) {
	uint32_t n, i, off, size, counts[3], maxc[3] = {0, 0, 0};
	caxton_msg m;
	int rc;

	caxton__out_len = 0;
	caxton__out_count = 0;
	caxton__out_failed = 0;

	if (len < 4 || !ptr)
		return CAXTON_BAD_INPUT;
#if defined(__wasm__)
	/* The region itself must lie inside linear memory. */
	if ((uint64_t)(uintptr_t)ptr + len >
	    (uint64_t)__builtin_wasm_memory_size(0) * 65536u)
		return CAXTON_BAD_INPUT;
#endif
	n = caxton__get32(ptr);
	if (n > (len - 4) / (4 + CAXTON__FIXED))
		return CAXTON_BAD_INPUT;

	/* Pass 1: validate the whole batch before the handler sees any of it. */
	for (i = 0, off = 4; i < n; i++) {
		if (len - off < 4)
			return CAXTON_BAD_INPUT;
		size = caxton__get32(ptr + off);
		off += 4;
		if (size > len - off || caxton__frame(ptr + off, size, NULL, counts))
			return CAXTON_BAD_INPUT;
		off += size;
		if (counts[0] > maxc[0]) maxc[0] = counts[0];
		if (counts[1] > maxc[1]) maxc[1] = counts[1];
		if (counts[2] > maxc[2]) maxc[2] = counts[2];
	}
	if (off != len) /* trailing bytes */
		return CAXTON_BAD_INPUT;
	if (caxton__grow((void **)&caxton__rcv, &caxton__rcv_cap, maxc[0],
	                 sizeof(caxton_str)) ||
	    caxton__grow((void **)&caxton__prm, &caxton__prm_cap, maxc[1],
	                 sizeof(caxton_kv)) ||
	    caxton__grow((void **)&caxton__trc, &caxton__trc_cap, maxc[2],
	                 sizeof(caxton_kv)))
		return CAXTON_FAILED;

	/* Pass 2: decode (cannot fail now) and dispatch. */
	for (i = 0, off = 4; i < n; i++) {
		size = caxton__get32(ptr + off);
		off += 4;
		caxton__frame(ptr + off, size, &m, counts);
		off += size;
		rc = caxton_on_message(&m);
		if (rc != CAXTON_OK) {
			caxton__out_len = caxton__out_count = 0;
			return rc == CAXTON_PERMANENT ? CAXTON_PERMANENT : CAXTON_FAILED;
		}
	}
	if (caxton__out_failed) {
		caxton__out_len = caxton__out_count = 0;
		return CAXTON_FAILED;
	}
	if (caxton__out_count == 0)
		return 0; /* nothing to send */
	caxton__put32(caxton__out, caxton__out_count);
	return (int64_t)((uint64_t)(uint32_t)(uintptr_t)caxton__out << 32 |
	                 caxton__out_len);
}

/* ---- Encoding. ---------------------------------------------------------- */

static uint8_t *caxton__wstr(uint8_t *p, caxton_str s) {
	p = caxton__put32(p, s.len);
	if (s.len)
		memcpy(p, s.ptr, s.len);
	return p + s.len;
}

static uint8_t *caxton__wmap(uint8_t *p, const caxton_kv *kv, uint32_t n) {
	uint32_t i;
	p = caxton__put32(p, n);
	for (i = 0; i < n; i++) {
		p = caxton__wstr(p, kv[i].key);
		p = caxton__wstr(p, kv[i].value);
	}
	return p;
}

int caxton_send(const caxton_out *o) {
	uint64_t need; /* bytes of this frame, frame_len included */
	uint32_t i, start;
	uint8_t *p;
	const caxton_str *ss[8];

	if (caxton__out_failed)
		return -1;
	ss[0] = &o->reply_to; ss[1] = &o->language; ss[2] = &o->encoding;
	ss[3] = &o->ontology; ss[4] = &o->protocol; ss[5] = &o->conversation_id;
	ss[6] = &o->reply_with; ss[7] = &o->in_reply_to;

	need = 4 + CAXTON__FIXED + 9 * 4 + 4 + 4 + 4 + 4 + (uint64_t)o->content_len;
	for (i = 0; i < 8; i++)
		need += ss[i]->len;
	for (i = 0; i < o->receiver_count; i++)
		need += 4 + (uint64_t)o->receivers[i].len;
	for (i = 0; i < o->param_count; i++)
		need += 8 + (uint64_t)o->params[i].key.len + o->params[i].value.len;
	for (i = 0; i < o->trace_count; i++)
		need += 8 + (uint64_t)o->trace[i].key.len + o->trace[i].value.len;

	start = caxton__out_len ? caxton__out_len : 4; /* room for the count */
	if (need > (uint64_t)UINT32_MAX - start)
		goto fail;
	if (start + need > caxton__out_cap) {
		uint64_t cap = caxton__out_cap ? caxton__out_cap : 256;
		while (cap < start + need)
			cap *= 2;
		if (cap > UINT32_MAX)
			cap = start + need;
		p = (uint8_t *)realloc(caxton__out, (size_t)cap);
		if (!p)
			goto fail;
		caxton__out = p;
		caxton__out_cap = (uint32_t)cap;
	}

	p = caxton__out + start;
	p = caxton__put32(p, (uint32_t)(need - 4));
	*p++ = o->performative;
	*p++ = (uint8_t)o->priority;
	*p++ = 0; /* reserved */
	*p++ = 0;
	memset(p, 0, 16); /* message_id: the host assigns one */
	p += 16;
	p = caxton__put64(p, 0); /* created_at: the host sets it */
	p = caxton__put64(p, o->reply_by);
	p = caxton__put32(p, 0); /* sender: the host stamps the agent's name */
	for (i = 0; i < 8; i++)
		p = caxton__wstr(p, *ss[i]);
	p = caxton__put32(p, o->receiver_count);
	for (i = 0; i < o->receiver_count; i++)
		p = caxton__wstr(p, o->receivers[i]);
	p = caxton__wmap(p, o->params, o->param_count);
	p = caxton__wmap(p, o->trace, o->trace_count);
	p = caxton__put32(p, o->content_len);
	if (o->content_len)
		memcpy(p, o->content, o->content_len);
	p += o->content_len;
	caxton__out_len = start + (uint32_t)need;
	caxton__out_count++;
	return 0;
fail:
	caxton__out_failed = 1;
	return -1;
}

void caxton_reply_init(caxton_out *o, const caxton_msg *in, int performative) {
	const caxton_str *to = in->reply_to.len ? &in->reply_to : &in->sender;
	memset(o, 0, sizeof *o);
	o->performative = (uint8_t)performative;
	if (to->len) { /* else no receiver: the host will reject the reply */
		o->receivers = to;
		o->receiver_count = 1;
	}
	o->conversation_id = in->conversation_id;
	o->protocol = in->protocol;
	o->language = in->language;
	o->encoding = in->encoding;
	o->ontology = in->ontology;
	o->in_reply_to = in->reply_with;
}

int caxton_reply(const caxton_msg *in, int performative, const void *content,
                 uint32_t len) {
	caxton_out o;
	caxton_reply_init(&o, in, performative);
	o.content = content;
	o.content_len = len;
	return caxton_send(&o);
}

void caxton_outbox(const uint8_t **ptr, uint32_t *len, uint32_t *count) {
	if (caxton__out_len)
		caxton__put32(caxton__out, caxton__out_count);
	*ptr = caxton__out;
	*len = caxton__out_len;
	*count = caxton__out_count;
}

/* ---- Helpers. ----------------------------------------------------------- */

caxton_str caxton_cstr(const char *z) {
	caxton_str s;
	s.ptr = z;
	s.len = z ? (uint32_t)strlen(z) : 0;
	return s;
}

int caxton_str_eq(caxton_str s, const char *z) {
	size_t n = strlen(z);
	return n == s.len && (n == 0 || memcmp(s.ptr, z, n) == 0);
}

static caxton_str caxton__lookup(const caxton_kv *kv, uint32_t n,
                                 const char *key) {
	caxton_str none = {0, 0};
	while (n-- > 0)
		if (caxton_str_eq(kv[n].key, key))
			return kv[n].value; /* decoded: ptr is never NULL */
	return none;
}

caxton_str caxton_param(const caxton_msg *m, const char *key) {
	return caxton__lookup(m->params, m->param_count, key);
}

caxton_str caxton_trace(const caxton_msg *m, const char *key) {
	return caxton__lookup(m->trace, m->trace_count, key);
}

const char *caxton_performative_name(int p) {
	static const char *const names[23] = {
	    "", "accept-proposal", "agree", "cancel", "cfp", "confirm",
	    "disconfirm", "failure", "inform", "inform-if", "inform-ref",
	    "not-understood", "propagate", "propose", "proxy", "query-if",
	    "query-ref", "refuse", "reject-proposal", "request", "request-when",
	    "request-whenever", "subscribe"};
	return p >= 1 && p <= 22 ? names[p] : "";
}

void caxton_log_str(int32_t level, const char *z) {
	caxton_log(level, z, (uint32_t)strlen(z));
}

#endif /* CAXTON__IMPLEMENTED */
#endif /* CAXTON_IMPLEMENTATION */

/* bidder: takes part in Contract Net (fipa-contract-net) like the
 * marketplace's Go bidder and guest/rust's. A call's content is a task,
 * {"name":"…","kind":"text"|"video","size":N}; the bid is {"cost": RATE ×
 * size}, where RATE comes from the environment variable RATE if the host
 * grants one (default 1). Video needs a GPU, which it has only if GPU=yes is
 * granted; otherwise it refuses. An accepted bid is answered with an
 * `inform` "<name>: <size> units done by a C agent for <cost>"; a rejected
 * one is forgotten. Open bids are kept per conversation and caller, the
 * oldest dropped beyond MAX_OPEN. */
#define CAXTON_IMPLEMENTATION
#include "caxton.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_OPEN 64
#define MAX_KEY 256
#define MAX_NAME 128

typedef struct {
	int used;
	unsigned long seq;
	char conv[MAX_KEY], from[MAX_KEY], name[MAX_NAME];
	double size, cost;
} bid;

static bid open_bids[MAX_OPEN];
static unsigned long seq;

static int same(caxton_str s, const char *z) { return s.len < MAX_KEY && caxton_str_eq(s, z); }

static bid *find(const caxton_msg *m) {
	for (int i = 0; i < MAX_OPEN; i++)
		if (open_bids[i].used && same(m->conversation_id, open_bids[i].conv) && same(m->sender, open_bids[i].from))
			return &open_bids[i];
	return NULL;
}

/* field finds "key": in the JSON object s and returns what follows the
 * colon, or a zero-length string. Enough for the task's flat object. */
static caxton_str field(caxton_str s, const char *key) {
	size_t k = strlen(key);
	for (uint32_t i = 0; i + k + 2 < s.len; i++) {
		if (s.ptr[i] != '"' || memcmp(s.ptr + i + 1, key, k) || s.ptr[i + k + 1] != '"')
			continue;
		uint32_t j = i + (uint32_t)k + 2;
		while (j < s.len && (s.ptr[j] == ' ' || s.ptr[j] == ':'))
			j++;
		return (caxton_str){s.ptr + j, s.len - j};
	}
	return (caxton_str){0, 0};
}

/* text copies the JSON string at v (without escapes) into out. */
static int text(caxton_str v, char *out, size_t cap) {
	if (!v.len || v.ptr[0] != '"')
		return -1;
	for (uint32_t i = 1; i < v.len && i < cap; i++) {
		if (v.ptr[i] == '"') {
			memcpy(out, v.ptr + 1, i - 1);
			out[i - 1] = 0;
			return 0;
		}
		if (v.ptr[i] == '\\')
			return -1;
	}
	return -1;
}

static double number(caxton_str v) {
	char buf[32];
	uint32_t n = 0;
	while (n < v.len && n < sizeof buf - 1 && strchr("0123456789.eE+-", v.ptr[n]))
		n++;
	memcpy(buf, v.ptr, n);
	buf[n] = 0;
	return n ? strtod(buf, NULL) : 0;
}

static int reply_text(const caxton_msg *m, int performative, const char *z) {
	return caxton_reply(m, performative, z, (uint32_t)strlen(z)) ? CAXTON_FAILED : CAXTON_OK;
}

static int call(const caxton_msg *m) {
	caxton_str task = {(const char *)m->content, m->content_len};
	char name[MAX_NAME], kind[16] = "text";
	double size = number(field(task, "size"));
	caxton_str k = field(task, "kind");
	if (text(field(task, "name"), name, sizeof name) || !name[0] || !(size > 0) ||
	    (k.len && text(k, kind, sizeof kind)))
		return reply_text(m, CAXTON_NOT_UNDERSTOOD, "task needs a name and a positive size");
	const char *gpu = getenv("GPU");
	if (!strcmp(kind, "video") && !(gpu && !strcmp(gpu, "yes")))
		return reply_text(m, CAXTON_REFUSE, "no GPU in this sandbox");
	if (m->conversation_id.len >= MAX_KEY || m->sender.len >= MAX_KEY)
		return reply_text(m, CAXTON_REFUSE, "conversation id too long");
	const char *r = getenv("RATE");
	double rate = r ? strtod(r, NULL) : 1;
	if (!(rate > 0))
		rate = 1;

	bid *b = find(m);
	if (!b) { /* a free slot, else the oldest */
		b = &open_bids[0];
		for (int i = 0; i < MAX_OPEN; i++) {
			if (!open_bids[i].used) {
				b = &open_bids[i];
				break;
			}
			if (open_bids[i].seq < b->seq)
				b = &open_bids[i];
		}
	}
	*b = (bid){.used = 1, .seq = ++seq, .size = size, .cost = rate * size};
	memcpy(b->conv, m->conversation_id.ptr, m->conversation_id.len);
	memcpy(b->from, m->sender.ptr, m->sender.len);
	strcpy(b->name, name);

	char offer[64];
	snprintf(offer, sizeof offer, "{\"cost\":%.6g}", b->cost);
	caxton_out o;
	caxton_reply_init(&o, m, CAXTON_PROPOSE);
	o.language = caxton_cstr("json");
	o.encoding = (caxton_str){0, 0};
	o.content = offer;
	o.content_len = (uint32_t)strlen(offer);
	return caxton_send(&o) ? CAXTON_FAILED : CAXTON_OK;
}

int caxton_on_message(const caxton_msg *m) {
	bid *b;
	switch (m->performative) {
	case CAXTON_CFP:
		return call(m);
	case CAXTON_ACCEPT_PROPOSAL: {
		if (!(b = find(m)))
			return reply_text(m, CAXTON_NOT_UNDERSTOOD, "no open proposal in this conversation");
		char out[MAX_NAME + 96];
		snprintf(out, sizeof out, "%s: %g units done by a C agent for %.2f", b->name, b->size, b->cost);
		int st = reply_text(m, CAXTON_INFORM, out);
		if (st == CAXTON_OK) /* forgotten once the report is queued */
			b->used = 0;
		return st;
	}
	case CAXTON_REJECT_PROPOSAL:
		if ((b = find(m)))
			b->used = 0;
		return CAXTON_OK;
	case CAXTON_CANCEL:
		if (!(b = find(m)))
			return reply_text(m, CAXTON_FAILURE, "no open proposal in this conversation");
		b->used = 0;
		return reply_text(m, CAXTON_INFORM, "");
	}
	return reply_text(m, CAXTON_NOT_UNDERSTOOD, "not part of contract net for a participant");
}

/* mirror: sends every message back as it came, so a host can check that each
 * ACL field crosses the ABI both ways (internal/conformance). The copy goes
 * to the message's reply_to (else its sender) with the same performative,
 * priority, reply-by, reply-to, language, encoding, ontology, protocol,
 * conversation id, reply-with, in-reply-to, params, trace context and
 * content; what an agent cannot send itself travels in params: X-Sender,
 * X-Id (the UUID's text), X-Created-At (Unix nanoseconds) and X-Receivers
 * (comma-separated). */
#define CAXTON_IMPLEMENTATION
#include "caxton.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int caxton_on_message(const caxton_msg *m) {
	char id[37], created[24];
	static const char hex[] = "0123456789abcdef";
	char *p = id;
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*p++ = '-';
		*p++ = hex[m->id[i] >> 4];
		*p++ = hex[m->id[i] & 15];
	}
	*p = 0;
	snprintf(created, sizeof created, "%lld", (long long)m->created_at);

	size_t rlen = 0;
	for (uint32_t i = 0; i < m->receiver_count; i++)
		rlen += m->receivers[i].len + 1;
	char *rcpt = malloc(rlen + 1);
	caxton_kv *params = malloc((m->param_count + 4) * sizeof *params);
	if (!rcpt || !params) {
		free(rcpt);
		free(params);
		return CAXTON_FAILED;
	}
	char *q = rcpt;
	for (uint32_t i = 0; i < m->receiver_count; i++) {
		if (i)
			*q++ = ',';
		memcpy(q, m->receivers[i].ptr, m->receivers[i].len);
		q += m->receivers[i].len;
	}
	memcpy(params, m->params, m->param_count * sizeof *params);
	caxton_kv extra[4] = {
	    {caxton_cstr("X-Sender"), m->sender},
	    {caxton_cstr("X-Id"), caxton_cstr(id)},
	    {caxton_cstr("X-Created-At"), caxton_cstr(created)},
	    {caxton_cstr("X-Receivers"), {rcpt, (uint32_t)(q - rcpt)}},
	};
	memcpy(params + m->param_count, extra, sizeof extra);

	caxton_out o = {
	    .performative = m->performative,
	    .priority = m->priority,
	    .reply_by = m->reply_by,
	    .receivers = m->reply_to.len ? &m->reply_to : &m->sender,
	    .receiver_count = 1,
	    .reply_to = m->reply_to,
	    .language = m->language,
	    .encoding = m->encoding,
	    .ontology = m->ontology,
	    .protocol = m->protocol,
	    .conversation_id = m->conversation_id,
	    .reply_with = m->reply_with,
	    .in_reply_to = m->in_reply_to,
	    .params = params,
	    .param_count = m->param_count + 4,
	    .trace = m->trace,
	    .trace_count = m->trace_count,
	    .content = m->content,
	    .content_len = m->content_len,
	};
	int err = caxton_send(&o); /* copies everything */
	free(rcpt);
	free(params);
	return err ? CAXTON_FAILED : CAXTON_OK;
}

/* probe: the conformance suite's test agent (internal/conformance). It does
 * what the content says and answers `inform` to reply_to or sender:
 *
 *   fail            fails, worth retrying (nothing is answered)
 *   fatal           fails permanently
 *   log:TEXT        logs TEXT at info level; answers "logged"
 *   tool:NAME:ARGS  calls host tool NAME with the JSON ARGS; answers
 *                   "STATUS:RESULT"
 *   grow:N          allocates and touches N MiB, kept; answers "grew"
 *                   (traps when memory runs out)
 *   spin            loops forever (until the deadline or the fuel ends)
 *   anything else   answers "ok:" and the content */
#define CAXTON_IMPLEMENTATION
#include "caxton.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char tool_out[64 << 10];
static void *kept; /* grow's chunks, linked through their first word */

/* is reports whether content starts with cmd; *arg is what follows it. */
static int is(const caxton_msg *m, const char *cmd, caxton_str *arg) {
	size_t n = strlen(cmd);
	if (m->content_len < n || memcmp(m->content, cmd, n))
		return 0;
	arg->ptr = (const char *)m->content + n;
	arg->len = m->content_len - (uint32_t)n;
	return 1;
}

static int answer(const caxton_msg *m, const char *prefix, const char *s, uint32_t len) {
	size_t pn = strlen(prefix);
	char *out = malloc(pn + len + 1);
	if (!out)
		return CAXTON_FAILED;
	memcpy(out, prefix, pn);
	memcpy(out + pn, s, len);
	int err = caxton_reply(m, CAXTON_INFORM, out, (uint32_t)(pn + len));
	free(out);
	return err ? CAXTON_FAILED : CAXTON_OK;
}

int caxton_on_message(const caxton_msg *m) {
	caxton_str arg;
	if (m->content_len == 4 && is(m, "fail", &arg))
		return CAXTON_FAILED;
	if (m->content_len == 5 && is(m, "fatal", &arg))
		return CAXTON_PERMANENT;
	if (is(m, "log:", &arg)) {
		caxton_log(CAXTON_LOG_INFO, arg.ptr, arg.len);
		return answer(m, "", "logged", 6);
	}
	if (is(m, "tool:", &arg)) {
		const char *colon = memchr(arg.ptr, ':', arg.len);
		uint32_t nlen = colon ? (uint32_t)(colon - arg.ptr) : arg.len;
		const char *args = colon ? colon + 1 : "{}";
		uint32_t alen = colon ? arg.len - nlen - 1 : 2;
		int64_t r = caxton_tool_call(arg.ptr, nlen, args, alen, tool_out, sizeof tool_out);
		char prefix[16];
		snprintf(prefix, sizeof prefix, "%d:", (int)CAXTON_TOOL_STATUS(r));
		return answer(m, prefix, tool_out, CAXTON_TOOL_LEN(r));
	}
	if (is(m, "grow:", &arg)) {
		uint32_t mib = 0;
		for (uint32_t i = 0; i < arg.len && arg.ptr[i] >= '0' && arg.ptr[i] <= '9'; i++)
			mib = mib * 10 + (uint32_t)(arg.ptr[i] - '0');
		for (uint32_t i = 0; i < mib; i++) {
			char *p = malloc(1 << 20);
			if (!p)
				abort(); /* out of memory: trap, as Rust and Go agents do */
			memset(p, 1, 1 << 20);
			*(void **)p = kept; /* kept: reachable, never freed */
			kept = p;
		}
		return answer(m, "", "grew", 4);
	}
	if (m->content_len == 4 && is(m, "spin", &arg)) {
		volatile unsigned long n = 0;
		for (;;)
			n++;
	}
	return answer(m, "ok:", (const char *)m->content, m->content_len);
}

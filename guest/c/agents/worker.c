/* worker: does what it is asked. A `request` is answered with an `inform`
 * whose content is "done:" followed by the request's content; anything else
 * is answered with `not-understood` (content: the performative's name). */
#define CAXTON_IMPLEMENTATION
#include "caxton.h"

#include <stdlib.h>
#include <string.h>

int caxton_on_message(const caxton_msg *m) {
	if (m->performative != CAXTON_REQUEST) {
		const char *what = caxton_performative_name(m->performative);
		caxton_reply(m, CAXTON_NOT_UNDERSTOOD, what, (uint32_t)strlen(what));
		return CAXTON_OK;
	}

	size_t n = 5 + (size_t)m->content_len;
	char *out = malloc(n);
	if (!out)
		return CAXTON_FAILED; /* retry the batch later */
	memcpy(out, "done:", 5);
	memcpy(out + 5, m->content, m->content_len);
	caxton_reply(m, CAXTON_INFORM, out, (uint32_t)n); /* copies out */
	free(out);
	return CAXTON_OK;
}

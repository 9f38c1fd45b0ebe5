/* echo: answers every message with an `inform` carrying the same content. */
#define CAXTON_IMPLEMENTATION
#include "caxton.h"

int caxton_on_message(const caxton_msg *m) {
	caxton_reply(m, CAXTON_INFORM, m->content, m->content_len);
	return CAXTON_OK;
}

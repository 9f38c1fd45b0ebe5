/* counter: counts the messages it has received and answers each with an
 * `inform` whose content is the count so far, in decimal ("1", "2", ...).
 * The count lives in a static variable, so it survives across batches for
 * as long as the instance lives (a trap or ABI violation replaces the
 * instance, which starts again from zero). */
#define CAXTON_IMPLEMENTATION
#include "caxton.h"

static uint64_t count;

int caxton_on_message(const caxton_msg *m) {
	char buf[20], *p = buf + sizeof buf; /* decimal digits, written backwards */
	uint64_t n = ++count;
	do
		*--p = (char)('0' + n % 10);
	while (n /= 10);
	caxton_reply(m, CAXTON_INFORM, p, (uint32_t)(buf + sizeof buf - p));
	return CAXTON_OK;
}

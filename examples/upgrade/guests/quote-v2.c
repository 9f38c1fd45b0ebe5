/* quote v2: the spring discount — a price of 90. */
#define CAXTON_IMPLEMENTATION
#include "caxton.h"

static const char quote[] = "quote v2: 90 EUR";

int caxton_on_message(const caxton_msg *m) {
	caxton_reply(m, CAXTON_INFORM, quote, sizeof quote - 1);
	return CAXTON_OK;
}

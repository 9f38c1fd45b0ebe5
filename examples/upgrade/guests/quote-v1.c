/* quote v1: answers every request with a price of 100. */
#define CAXTON_IMPLEMENTATION
#include "caxton.h"

static const char quote[] = "quote v1: 100 EUR";

int caxton_on_message(const caxton_msg *m) {
	caxton_reply(m, CAXTON_INFORM, quote, sizeof quote - 1);
	return CAXTON_OK;
}

/* quote v3: a bad build — it traps on every message (a null dereference
 * standing in for a real bug), so an upgrade to it is rolled back. */
#define CAXTON_IMPLEMENTATION
#include "caxton.h"

int caxton_on_message(const caxton_msg *m) {
	(void)m;
	__builtin_trap();
}

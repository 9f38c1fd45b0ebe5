/* Included before every QuickJS source: WebAssembly has only the
 * round-to-nearest mode, so wasi-libc's <fenv.h> defines no other.
 * QuickJS's number formatting names FE_DOWNWARD and FE_UPWARD to find
 * exact ties; with these values fesetround fails and leaves rounding to
 * nearest, so a tie is told from a near-tie by printf's digits alone
 * (see README.md, "Numbers"). */
#include <fenv.h>
#ifndef FE_DOWNWARD
#define FE_DOWNWARD 0x400
#endif
#ifndef FE_UPWARD
#define FE_UPWARD 0x800
#endif

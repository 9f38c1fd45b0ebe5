// The hardware abstraction MicroPython's core wants: only console output,
// which engine.c sends to the runtime's log.
#include <stddef.h>
static inline void mp_hal_set_interrupt_char(char c) { (void)c; }
#define mp_hal_pin_obj_t void *
void mp_hal_stdout_tx_strn_cooked(const char *str, size_t len);

/* engine.h - what engine.c, host.c and json.c share. */
#ifndef CAXTON_MICRO_ENGINE_H
#define CAXTON_MICRO_ENGINE_H
#include <stddef.h>
#include <stdint.h>

#include "py/obj.h"
#include "py/mpprint.h"

/* engine_register defines the host built-ins (_host_send, ...) in globals. */
void engine_register(mp_obj_dict_t *globals);
/* engine_performative is the ABI number of a performative's name, 0 if
 * there is none. */
int engine_performative(const char *s, size_t n);
/* utf8_check reports whether b is valid UTF-8. */
int utf8_check(const uint8_t *b, size_t n);
/* json_dumps writes v as JSON (TypeError for what JSON cannot hold). */
void json_dumps(vstr_t *out, mp_obj_t v);
/* json_loads parses text as one JSON value (ValueError if it is not). */
mp_obj_t json_loads(const char *s, size_t n);
/* caxton_set_too_deep gives nlr.c the exception it raises when the call
 * stack is too deep to capture (nlr.c). */
void caxton_set_too_deep(mp_obj_t exc);
#endif

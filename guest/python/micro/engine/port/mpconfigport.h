// MicroPython's build options for the micro engine guest (wasm32-wasi),
// overriding py/mpconfig.h's defaults: the core language with the
// compiler, no file system, no REPL, no native emitters.
#include <stdint.h>
#include <alloca.h>

#define MICROPY_OBJ_REPR            (MICROPY_OBJ_REPR_A)
// Non-local returns through setjmp.h (Asyncify-based, nlr.c).
#define MICROPY_NLR_SETJMP          (1)
#define MICROPY_ALLOC_PATH_MAX      (64)
#define MICROPY_QSTR_BYTES_IN_HASH  (1)
#define MICROPY_USE_SMALL_HEAP_COMPILER (0)
#define MICROPY_ENABLE_COMPILER     (1)
#define MICROPY_ENABLE_GC           (1)
#define MICROPY_STACK_CHECK         (1)
#define MICROPY_ENABLE_SOURCE_LINE  (1)
#define MICROPY_ERROR_REPORTING     (MICROPY_ERROR_REPORTING_DETAILED)
#define MICROPY_LONGINT_IMPL        (MICROPY_LONGINT_IMPL_MPZ)
#define MICROPY_FLOAT_IMPL          (MICROPY_FLOAT_IMPL_DOUBLE)
#define MICROPY_PY_BUILTINS_COMPLEX (1)
#define MICROPY_CPYTHON_COMPAT      (1)
#define MICROPY_PY_BUILTINS_STR_UNICODE (1)
#define MICROPY_PY_BUILTINS_BYTEARRAY (1)
#define MICROPY_PY_BUILTINS_ENUMERATE (1)
#define MICROPY_PY_BUILTINS_FROZENSET (1)
#define MICROPY_PY_BUILTINS_REVERSED (1)
#define MICROPY_PY_BUILTINS_SET     (1)
#define MICROPY_PY_BUILTINS_SLICE   (1)
#define MICROPY_PY_BUILTINS_PROPERTY (1)
#define MICROPY_PY_BUILTINS_MIN_MAX (1)
#define MICROPY_PY_BUILTINS_STR_OP_MODULO (1)
#define MICROPY_PY___FILE__         (0)
#define MICROPY_PY_GC               (0)
#define MICROPY_PY_ARRAY            (0)
#define MICROPY_PY_ATTRTUPLE        (1)
#define MICROPY_PY_COLLECTIONS      (1)
#define MICROPY_PY_COLLECTIONS_ORDEREDDICT (1)
#define MICROPY_PY_MATH             (1)
#define MICROPY_PY_IO               (0)
#define MICROPY_PY_STRUCT           (0)
#define MICROPY_PY_SYS              (0)
#define MICROPY_MODULE_FROZEN_MPY   (0)
#define MICROPY_HELPER_REPL         (0)
#define MICROPY_KBD_EXCEPTION       (0)
#define MICROPY_CAN_OVERRIDE_BUILTINS (0)
#define MICROPY_ENABLE_EXTERNAL_IMPORT (0)
#define MICROPY_PERSISTENT_CODE_LOAD (0)

#define MP_SSIZE_MAX (0x7fffffff)
typedef intptr_t mp_int_t;
typedef uintptr_t mp_uint_t;
typedef long mp_off_t;
#define UINT_FMT "%u"
#define INT_FMT "%d"

#define MICROPY_HW_BOARD_NAME "caxton"
#define MICROPY_HW_MCU_NAME "wasm32"
// The engine's Python objects that live between calls: the script's
// handle and the prelude's classes (engine.c).
#define MICROPY_PORT_ROOT_POINTERS void *caxton_roots[8];

#define MP_PLAT_PRINT_STRN(str, len) mp_hal_stdout_tx_strn_cooked(str, len)
#define MP_STATE_PORT MP_STATE_VM

// Modules an agent can import beyond MicroPython's own math and
// collections (MicroPython's ucollections under its CPython name): json
// and time (host.c).
extern const struct _mp_obj_module_t caxton_json_module;
extern const struct _mp_obj_module_t caxton_time_module;
#define MICROPY_PORT_BUILTIN_MODULES \
    { MP_ROM_QSTR(MP_QSTR_json), MP_ROM_PTR(&caxton_json_module) }, \
    { MP_ROM_QSTR(MP_QSTR_time), MP_ROM_PTR(&caxton_time_module) },
#define MICROPY_MODULE_WEAK_LINKS   (1)
#define MICROPY_PORT_BUILTIN_MODULE_WEAK_LINKS \
    { MP_ROM_QSTR(MP_QSTR_collections), MP_ROM_PTR(&mp_module_collections) },

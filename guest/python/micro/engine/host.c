/*
 * host.c - the built-ins the prelude builds the agent API on: sending,
 * logging, the clock, tools, the environment and JSON. Their names start
 * with an underscore: they are the engine's, not the API.
 */
#include <stdlib.h>
#include <string.h>

#include "py/objint.h"
#include "py/objstr.h"
#include "py/runtime.h"
#include "py/runtime0.h"

#include "caxton.h"
#include "engine.h"

/* field_str is a str field's bytes; TypeError names the field. */
static caxton_str field_str(qstr field, mp_obj_t v) {
	if (!MP_OBJ_IS_STR(v))
		nlr_raise(mp_obj_new_exception_msg_varg(&mp_type_TypeError,
		    "message field %q must be a str, not %s", field, mp_obj_get_type_str(v)));
	size_t n;
	const char *s = mp_obj_str_get_data(v, &n);
	caxton_str r = {s, (uint32_t)n};
	return r;
}

static int64_t field_int(qstr field, mp_obj_t v) {
	if (!mp_obj_is_integer(v))
		nlr_raise(mp_obj_new_exception_msg_varg(&mp_type_TypeError,
		    "message field %q must be an int, not %s", field, mp_obj_get_type_str(v)));
	if (MP_OBJ_IS_SMALL_INT(v))
		return MP_OBJ_SMALL_INT_VALUE(v);
	/* A big int: its low 64 bits, two's complement, after a range check
	 * (nanoseconds since 1970 fit until 2262). */
	if (mp_binary_op(MP_BINARY_OP_LESS, v, mp_obj_new_int_from_ll(INT64_MIN)) == mp_const_true ||
	    mp_binary_op(MP_BINARY_OP_MORE, v, mp_obj_new_int_from_ll(INT64_MAX)) == mp_const_true)
		nlr_raise(mp_obj_new_exception_msg_varg(&mp_type_OverflowError,
		    "message field %q is out of range", field));
	uint8_t b[8];
	mp_obj_int_to_bytes_impl(v, false, sizeof b, b);
	uint64_t u = 0;
	for (int i = 7; i >= 0; i--)
		u = u << 8 | b[i];
	return (int64_t)u;
}

static caxton_kv *string_pairs(qstr field, mp_obj_t v, uint32_t *count) {
	if (!MP_OBJ_IS_TYPE(v, &mp_type_dict))
		nlr_raise(mp_obj_new_exception_msg_varg(&mp_type_TypeError,
		    "message field %q must be a dict of str, not %s", field, mp_obj_get_type_str(v)));
	mp_map_t *map = mp_obj_dict_get_map(v);
	caxton_kv *kv = m_new(caxton_kv, map->used ? map->used : 1);
	uint32_t n = 0;
	for (size_t i = 0; i < map->alloc; i++) {
		if (!MP_MAP_SLOT_IS_FILLED(map, i))
			continue;
		kv[n].key = field_str(field, map->table[i].key);
		kv[n].value = field_str(field, map->table[i].value);
		n++;
	}
	*count = n;
	return kv;
}

/* _host_send(fields): fields is a dict of message fields (README.md);
 * content that is not str, bytes or None is sent as JSON. */
static mp_obj_t host_send(mp_obj_t fields) {
	if (!MP_OBJ_IS_TYPE(fields, &mp_type_dict))
		nlr_raise(mp_obj_new_exception_msg_varg(&mp_type_TypeError,
		    "send takes a dict of message fields, not %s", mp_obj_get_type_str(fields)));
	caxton_out o;
	memset(&o, 0, sizeof o);
	mp_obj_t content = mp_const_none;
	mp_map_t *map = mp_obj_dict_get_map(fields);
	for (size_t i = 0; i < map->alloc; i++) {
		if (!MP_MAP_SLOT_IS_FILLED(map, i))
			continue;
		mp_obj_t k = map->table[i].key, v = map->table[i].value;
		if (!MP_OBJ_IS_QSTR(k) && !MP_OBJ_IS_STR(k))
			mp_raise_TypeError("message field names are str");
		qstr f = mp_obj_str_get_qstr(k);
		if (f == MP_QSTR_content) {
			content = v;
			continue;
		}
		if (v == mp_const_none)
			continue;
		switch (f) {
		case MP_QSTR_performative: {
			caxton_str s = field_str(f, v);
			o.performative = (uint8_t)engine_performative(s.ptr, s.len);
			if (!o.performative)
				nlr_raise(mp_obj_new_exception_msg_varg(&mp_type_ValueError,
				    "message field performative: unknown performative '%s'", mp_obj_str_get_str(v)));
			break;
		}
		case MP_QSTR_receivers: {
			size_t n;
			mp_obj_t *items;
			if (MP_OBJ_IS_TYPE(v, &mp_type_list))
				mp_obj_list_get(v, &n, &items);
			else if (MP_OBJ_IS_TYPE(v, &mp_type_tuple))
				mp_obj_tuple_get(v, &n, &items);
			else
				nlr_raise(mp_obj_new_exception_msg_varg(&mp_type_TypeError,
				    "message field receivers must be a list of str, not %s", mp_obj_get_type_str(v)));
			caxton_str *rs = m_new(caxton_str, n ? n : 1);
			for (size_t j = 0; j < n; j++)
				rs[j] = field_str(f, items[j]);
			o.receivers = rs;
			o.receiver_count = (uint32_t)n;
			break;
		}
		case MP_QSTR_reply_to: o.reply_to = field_str(f, v); break;
		case MP_QSTR_language: o.language = field_str(f, v); break;
		case MP_QSTR_encoding: o.encoding = field_str(f, v); break;
		case MP_QSTR_ontology: o.ontology = field_str(f, v); break;
		case MP_QSTR_protocol: o.protocol = field_str(f, v); break;
		case MP_QSTR_conversation_id: o.conversation_id = field_str(f, v); break;
		case MP_QSTR_reply_with: o.reply_with = field_str(f, v); break;
		case MP_QSTR_in_reply_to: o.in_reply_to = field_str(f, v); break;
		case MP_QSTR_priority: {
			caxton_str s = field_str(f, v);
			if (s.len == 0 || (s.len == 6 && memcmp(s.ptr, "normal", 6) == 0))
				o.priority = CAXTON_PRIORITY_NORMAL;
			else if (s.len == 3 && memcmp(s.ptr, "low", 3) == 0)
				o.priority = CAXTON_PRIORITY_LOW;
			else if (s.len == 4 && memcmp(s.ptr, "high", 4) == 0)
				o.priority = CAXTON_PRIORITY_HIGH;
			else
				mp_raise_ValueError("message field priority: want low, normal or high");
			break;
		}
		case MP_QSTR_reply_by_nanos: o.reply_by = field_int(f, v); break;
		case MP_QSTR_reply_by:
			o.reply_by = (int64_t)(mp_obj_get_float(v) * 1e9);
			break;
		case MP_QSTR_params: o.params = string_pairs(f, v, &o.param_count); break;
		case MP_QSTR_trace: o.trace = string_pairs(f, v, &o.trace_count); break;
		default:
			nlr_raise(mp_obj_new_exception_msg_varg(&mp_type_TypeError,
			    "unknown message field %q", f));
		}
	}
	vstr_t json;
	if (content == mp_const_none) {
	} else if (MP_OBJ_IS_STR(content) || MP_OBJ_IS_TYPE(content, &mp_type_bytes)) {
		size_t n;
		o.content = mp_obj_str_get_data(content, &n);
		o.content_len = (uint32_t)n;
	} else {
		vstr_init(&json, 64);
		json_dumps(&json, content);
		o.content = json.buf;
		o.content_len = (uint32_t)json.len;
		if (o.language.len == 0)
			o.language = caxton_cstr("json");
	}
	if (o.performative == 0)
		mp_raise_ValueError("message field performative is required");
	if (o.receiver_count == 0)
		mp_raise_ValueError("message field receivers: at least one is required");
	if (caxton_send(&o) != 0)
		mp_raise_ValueError("the message is too large for the outbox");
	return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(host_send_obj, host_send);

static mp_obj_t host_log(mp_obj_t level, mp_obj_t text) {
	size_t n;
	const char *s = mp_obj_str_get_data(text, &n);
	caxton_log((int32_t)mp_obj_get_int(level), s, (uint32_t)n);
	return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_2(host_log_obj, host_log);

static mp_obj_t host_now(void) { return mp_obj_new_int_from_ll(caxton_now()); }
static MP_DEFINE_CONST_FUN_OBJ_0(host_now_obj, host_now);

/* tool.Status's names, in the ABI's order. */
static const char *const tool_status[] = {
	"ok", "tool error", "denied", "rate limited", "timeout", "unavailable", "bad arguments", "too large",
};

/* _host_tool(name, args) -> (status, code, text). */
static mp_obj_t host_tool(mp_obj_t name, mp_obj_t args) {
	if (!MP_OBJ_IS_STR(name))
		nlr_raise(mp_obj_new_exception_msg_varg(&mp_type_TypeError,
		    "a tool's name is a str, not %s", mp_obj_get_type_str(name)));
	size_t nlen;
	const char *n = mp_obj_str_get_data(name, &nlen);
	vstr_t a;
	vstr_init(&a, 64);
	json_dumps(&a, args);
	size_t cap = 64 * 1024;
	char *out = m_new(char, cap);
	int64_t r = caxton_tool_call(n, (uint32_t)nlen, a.buf, (uint32_t)a.len, out, (uint32_t)cap);
	int32_t st = CAXTON_TOOL_STATUS(r);
	uint32_t len = CAXTON_TOOL_LEN(r);
	if (len > cap)
		len = (uint32_t)cap;
	const char *sname = st >= 0 && st < (int32_t)(sizeof tool_status / sizeof *tool_status) ? tool_status[st] : "unknown";
	mp_obj_t t[3] = {
		mp_obj_new_str(sname, strlen(sname), true),
		MP_OBJ_NEW_SMALL_INT(st),
		mp_obj_new_str(out, len, false),
	};
	m_del(char, out, cap);
	return mp_obj_new_tuple(3, t);
}
static MP_DEFINE_CONST_FUN_OBJ_2(host_tool_obj, host_tool);

static mp_obj_t host_env(mp_obj_t name) {
	const char *v = getenv(mp_obj_str_get_str(name));
	return v ? mp_obj_new_str(v, strlen(v), false) : mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(host_env_obj, host_env);

static mp_obj_t host_json_loads(mp_obj_t text) {
	size_t n;
	const char *s = mp_obj_str_get_data(text, &n);
	return json_loads(s, n);
}
static MP_DEFINE_CONST_FUN_OBJ_1(host_json_loads_obj, host_json_loads);

static mp_obj_t host_json_dumps(mp_obj_t v) {
	vstr_t out;
	vstr_init(&out, 64);
	json_dumps(&out, v);
	return mp_obj_new_str_from_vstr(&mp_type_str, &out);
}
static MP_DEFINE_CONST_FUN_OBJ_1(host_json_dumps_obj, host_json_dumps);

void engine_register(mp_obj_dict_t *globals) {
	mp_obj_t g = MP_OBJ_FROM_PTR(globals);
	mp_obj_dict_store(g, MP_OBJ_NEW_QSTR(MP_QSTR__host_send), MP_OBJ_FROM_PTR(&host_send_obj));
	mp_obj_dict_store(g, MP_OBJ_NEW_QSTR(MP_QSTR__host_log), MP_OBJ_FROM_PTR(&host_log_obj));
	mp_obj_dict_store(g, MP_OBJ_NEW_QSTR(MP_QSTR__host_now), MP_OBJ_FROM_PTR(&host_now_obj));
	mp_obj_dict_store(g, MP_OBJ_NEW_QSTR(MP_QSTR__host_tool), MP_OBJ_FROM_PTR(&host_tool_obj));
	mp_obj_dict_store(g, MP_OBJ_NEW_QSTR(MP_QSTR__host_env), MP_OBJ_FROM_PTR(&host_env_obj));
	mp_obj_dict_store(g, MP_OBJ_NEW_QSTR(MP_QSTR__json_loads), MP_OBJ_FROM_PTR(&host_json_loads_obj));
	mp_obj_dict_store(g, MP_OBJ_NEW_QSTR(MP_QSTR__json_dumps), MP_OBJ_FROM_PTR(&host_json_dumps_obj));
}

/* The json module (`import json`): loads and dumps. */
static const mp_rom_map_elem_t json_globals_table[] = {
	{MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR_json)},
	{MP_ROM_QSTR(MP_QSTR_loads), MP_ROM_PTR(&host_json_loads_obj)},
	{MP_ROM_QSTR(MP_QSTR_dumps), MP_ROM_PTR(&host_json_dumps_obj)},
};
static MP_DEFINE_CONST_DICT(json_globals, json_globals_table);

const mp_obj_module_t caxton_json_module = {
	.base = {&mp_type_module},
	.globals = (mp_obj_dict_t *)&json_globals,
};

/* The time module: time() is the runtime's clock in seconds (a float), as
 * ctx.now() is, so tests that fake the clock fake it too. */
static mp_obj_t time_time(void) { return mp_obj_new_float((mp_float_t)caxton_now() / 1e9); }
static MP_DEFINE_CONST_FUN_OBJ_0(time_time_obj, time_time);

static const mp_rom_map_elem_t time_globals_table[] = {
	{MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR_time)},
	{MP_ROM_QSTR(MP_QSTR_time), MP_ROM_PTR(&time_time_obj)},
};
static MP_DEFINE_CONST_DICT(time_globals, time_globals_table);

const mp_obj_module_t caxton_time_module = {
	.base = {&mp_type_module},
	.globals = (mp_obj_dict_t *)&time_globals,
};

/*
 * json.c - JSON for message content and tool arguments: the MicroPython
 * core here has no json module. dumps writes dicts, lists, tuples, str,
 * int, float, bool and None; loads parses one value (objects become
 * dicts).
 */
#include <stdio.h>
#include <string.h>

#include "py/objstr.h"
#include "py/parsenum.h"
#include "py/runtime.h"

#include "engine.h"

#define MAX_DEPTH 64

static void dump_str(vstr_t *out, const char *s, size_t n) {
	vstr_add_byte(out, '"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		switch (c) {
		case '"': vstr_add_strn(out, "\\\"", 2); break;
		case '\\': vstr_add_strn(out, "\\\\", 2); break;
		case '\n': vstr_add_strn(out, "\\n", 2); break;
		case '\r': vstr_add_strn(out, "\\r", 2); break;
		case '\t': vstr_add_strn(out, "\\t", 2); break;
		default:
			if (c < 0x20) {
				char b[8];
				snprintf(b, sizeof b, "\\u%04x", c);
				vstr_add_strn(out, b, 6);
			} else {
				vstr_add_byte(out, (byte)c);
			}
		}
	}
	vstr_add_byte(out, '"');
}

static void dump(vstr_t *out, mp_obj_t v, int depth) {
	if (depth > MAX_DEPTH)
		mp_raise_ValueError("json: nested too deeply");
	if (v == mp_const_none) {
		vstr_add_strn(out, "null", 4);
	} else if (v == mp_const_true) {
		vstr_add_strn(out, "true", 4);
	} else if (v == mp_const_false) {
		vstr_add_strn(out, "false", 5);
	} else if (MP_OBJ_IS_STR(v)) {
		size_t n;
		const char *s = mp_obj_str_get_data(v, &n);
		dump_str(out, s, n);
	} else if (mp_obj_is_integer(v) || mp_obj_is_float(v)) {
		if (mp_obj_is_float(v)) {
			mp_float_t f = mp_obj_get_float(v);
			if (f != f || f - f != 0)
				mp_raise_ValueError("json: NaN and infinities are not JSON");
		}
		mp_print_t p = {out, (mp_print_strn_t)vstr_add_strn};
		mp_obj_print_helper(&p, v, PRINT_REPR);
	} else if (MP_OBJ_IS_TYPE(v, &mp_type_list) || MP_OBJ_IS_TYPE(v, &mp_type_tuple)) {
		size_t n;
		mp_obj_t *items;
		if (MP_OBJ_IS_TYPE(v, &mp_type_list))
			mp_obj_list_get(v, &n, &items);
		else
			mp_obj_tuple_get(v, &n, &items);
		vstr_add_byte(out, '[');
		for (size_t i = 0; i < n; i++) {
			if (i)
				vstr_add_byte(out, ',');
			dump(out, items[i], depth + 1);
		}
		vstr_add_byte(out, ']');
	} else if (MP_OBJ_IS_TYPE(v, &mp_type_dict)) {
		mp_map_t *map = mp_obj_dict_get_map(v);
		vstr_add_byte(out, '{');
		int first = 1;
		for (size_t i = 0; i < map->alloc; i++) {
			if (!MP_MAP_SLOT_IS_FILLED(map, i))
				continue;
			mp_obj_t k = map->table[i].key;
			if (!MP_OBJ_IS_STR(k))
				nlr_raise(mp_obj_new_exception_msg_varg(&mp_type_TypeError,
				    "json: object keys must be str, not %s", mp_obj_get_type_str(k)));
			if (!first)
				vstr_add_byte(out, ',');
			first = 0;
			size_t n;
			const char *s = mp_obj_str_get_data(k, &n);
			dump_str(out, s, n);
			vstr_add_byte(out, ':');
			dump(out, map->table[i].value, depth + 1);
		}
		vstr_add_byte(out, '}');
	} else {
		nlr_raise(mp_obj_new_exception_msg_varg(&mp_type_TypeError,
		    "json: %s is not JSON serializable", mp_obj_get_type_str(v)));
	}
}

void json_dumps(vstr_t *out, mp_obj_t v) { dump(out, v, 0); }

/* ---- loads. ------------------------------------------------------------- */

typedef struct {
	const char *s, *end;
} reader;

NORETURN static void bad(reader *r, const char *what) {
	(void)r;
	nlr_raise(mp_obj_new_exception_msg_varg(&mp_type_ValueError, "json: %s", what));
}

static void ws(reader *r) {
	while (r->s < r->end && (*r->s == ' ' || *r->s == '\t' || *r->s == '\n' || *r->s == '\r'))
		r->s++;
}

static int hexval(char c) {
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static unsigned hex4(reader *r) {
	if (r->end - r->s < 4)
		bad(r, "short \\u escape");
	unsigned v = 0;
	for (int i = 0; i < 4; i++) {
		int h = hexval(r->s[i]);
		if (h < 0)
			bad(r, "bad \\u escape");
		v = v << 4 | (unsigned)h;
	}
	r->s += 4;
	return v;
}

static void add_utf8(vstr_t *v, unsigned cp) {
	if (cp < 0x80) {
		vstr_add_byte(v, (byte)cp);
	} else if (cp < 0x800) {
		vstr_add_byte(v, (byte)(0xc0 | cp >> 6));
		vstr_add_byte(v, (byte)(0x80 | (cp & 0x3f)));
	} else if (cp < 0x10000) {
		vstr_add_byte(v, (byte)(0xe0 | cp >> 12));
		vstr_add_byte(v, (byte)(0x80 | ((cp >> 6) & 0x3f)));
		vstr_add_byte(v, (byte)(0x80 | (cp & 0x3f)));
	} else {
		vstr_add_byte(v, (byte)(0xf0 | cp >> 18));
		vstr_add_byte(v, (byte)(0x80 | ((cp >> 12) & 0x3f)));
		vstr_add_byte(v, (byte)(0x80 | ((cp >> 6) & 0x3f)));
		vstr_add_byte(v, (byte)(0x80 | (cp & 0x3f)));
	}
}

static mp_obj_t load_str(reader *r) {
	vstr_t v;
	vstr_init(&v, 16);
	r->s++; /* the opening quote */
	for (;;) {
		if (r->s >= r->end)
			bad(r, "unterminated string");
		char c = *r->s++;
		if (c == '"')
			break;
		if ((unsigned char)c < 0x20)
			bad(r, "control character in string");
		if (c != '\\') {
			vstr_add_byte(&v, (byte)c);
			continue;
		}
		if (r->s >= r->end)
			bad(r, "unterminated string");
		c = *r->s++;
		switch (c) {
		case '"': case '\\': case '/': vstr_add_byte(&v, (byte)c); break;
		case 'b': vstr_add_byte(&v, '\b'); break;
		case 'f': vstr_add_byte(&v, '\f'); break;
		case 'n': vstr_add_byte(&v, '\n'); break;
		case 'r': vstr_add_byte(&v, '\r'); break;
		case 't': vstr_add_byte(&v, '\t'); break;
		case 'u': {
			unsigned cp = hex4(r);
			if (cp >= 0xd800 && cp < 0xdc00 && r->end - r->s >= 6 && r->s[0] == '\\' && r->s[1] == 'u') {
				r->s += 2;
				unsigned lo = hex4(r);
				if (lo < 0xdc00 || lo > 0xdfff)
					bad(r, "unpaired surrogate");
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			} else if (cp >= 0xd800 && cp <= 0xdfff) {
				bad(r, "unpaired surrogate");
			}
			add_utf8(&v, cp);
			break;
		}
		default:
			bad(r, "bad escape");
		}
	}
	if (!utf8_check((const uint8_t *)v.buf, v.len))
		bad(r, "string is not UTF-8");
	return mp_obj_new_str_from_vstr(&mp_type_str, &v);
}

static mp_obj_t load_num(reader *r) {
	const char *start = r->s;
	int is_float = 0;
	if (r->s < r->end && *r->s == '-')
		r->s++;
	if (r->s >= r->end || *r->s < '0' || *r->s > '9')
		bad(r, "bad number");
	if (*r->s == '0' && r->end - r->s > 1 && r->s[1] >= '0' && r->s[1] <= '9')
		bad(r, "leading zero");
	while (r->s < r->end) {
		char c = *r->s;
		if (c >= '0' && c <= '9') {
		} else if (c == '.' || c == 'e' || c == 'E' || c == '+' || (c == '-' && r->s > start)) {
			is_float = 1;
		} else {
			break;
		}
		r->s++;
	}
	if (is_float)
		return mp_parse_num_decimal(start, r->s - start, false, false, NULL);
	return mp_parse_num_integer(start, r->s - start, 10, NULL);
}

static mp_obj_t load(reader *r, int depth) {
	if (depth > MAX_DEPTH)
		bad(r, "nested too deeply");
	ws(r);
	if (r->s >= r->end)
		bad(r, "unexpected end of input");
	char c = *r->s;
	if (c == '{') {
		mp_obj_t d = mp_obj_new_dict(0);
		r->s++;
		ws(r);
		if (r->s < r->end && *r->s == '}') {
			r->s++;
			return d;
		}
		for (;;) {
			ws(r);
			if (r->s >= r->end || *r->s != '"')
				bad(r, "object keys must be strings");
			mp_obj_t k = load_str(r);
			ws(r);
			if (r->s >= r->end || *r->s != ':')
				bad(r, "':' expected");
			r->s++;
			mp_obj_dict_store(d, k, load(r, depth + 1));
			ws(r);
			if (r->s < r->end && *r->s == ',') {
				r->s++;
				continue;
			}
			if (r->s < r->end && *r->s == '}') {
				r->s++;
				return d;
			}
			bad(r, "',' or '}' expected");
		}
	}
	if (c == '[') {
		mp_obj_t l = mp_obj_new_list(0, NULL);
		r->s++;
		ws(r);
		if (r->s < r->end && *r->s == ']') {
			r->s++;
			return l;
		}
		for (;;) {
			mp_obj_list_append(l, load(r, depth + 1));
			ws(r);
			if (r->s < r->end && *r->s == ',') {
				r->s++;
				continue;
			}
			if (r->s < r->end && *r->s == ']') {
				r->s++;
				return l;
			}
			bad(r, "',' or ']' expected");
		}
	}
	if (c == '"')
		return load_str(r);
	if (r->end - r->s >= 4 && memcmp(r->s, "null", 4) == 0) {
		r->s += 4;
		return mp_const_none;
	}
	if (r->end - r->s >= 4 && memcmp(r->s, "true", 4) == 0) {
		r->s += 4;
		return mp_const_true;
	}
	if (r->end - r->s >= 5 && memcmp(r->s, "false", 5) == 0) {
		r->s += 5;
		return mp_const_false;
	}
	return load_num(r);
}

mp_obj_t json_loads(const char *s, size_t n) {
	reader r = {s, s + n};
	mp_obj_t v = load(&r, 0);
	ws(&r);
	if (r.s != r.end)
		bad(&r, "extra data after the value");
	return v;
}

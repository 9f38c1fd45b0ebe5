// Small JSON helpers for flat objects such as a task or an offer: enough
// for agents that read a few fields, without a JSON library.

/** Quotes s as a JSON string. */
export function quote(s: string): string {
  let out = "\"";
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c == 0x22) out += "\\\"";
    else if (c == 0x5c) out += "\\\\";
    else if (c < 0x20) {
      const hex = "0123456789abcdef";
      out += "\\u00" + hex.charAt(c >> 4) + hex.charAt(c & 15);
    } else out += String.fromCharCode(c);
  }
  return out + "\"";
}

/** The raw text after "key": in a flat JSON object, or null. */
function rawField(json: string, key: string): string | null {
  const k = quote(key);
  let i = 0;
  while ((i = json.indexOf(k, i)) >= 0) {
    let j = i + k.length;
    while (j < json.length && json.charCodeAt(j) == 0x20) j++;
    if (j < json.length && json.charCodeAt(j) == 0x3a) {
      j++;
      while (j < json.length && json.charCodeAt(j) == 0x20) j++;
      return json.substring(j);
    }
    i = j;
  }
  return null;
}

/** The string value of key in a flat JSON object (no escapes), or null. */
export function getString(json: string, key: string): string | null {
  const raw = rawField(json, key);
  if (raw == null || raw.length == 0 || raw.charCodeAt(0) != 0x22) return null;
  const end = raw.indexOf("\"", 1);
  if (end < 0) return null;
  const s = raw.substring(1, end);
  return s.indexOf("\\") >= 0 ? null : s;
}

/** The number value of key in a flat JSON object, or NaN. */
export function getNumber(json: string, key: string): f64 {
  const raw = rawField(json, key);
  if (raw == null) return NaN;
  let n = 0;
  while (n < raw.length && "0123456789.eE+-".indexOf(raw.charAt(n)) >= 0) n++;
  return n == 0 ? NaN : parseFloat(raw.substring(0, n));
}

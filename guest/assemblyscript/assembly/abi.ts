// The Guest ABI v1 codec (sandbox/ABI.md, "Encoding"): little-endian
// batches of frames. Decoding checks structure, as the Go and C decoders
// do, and text for UTF-8 (an AssemblyScript string cannot carry invalid
// UTF-8 without silently replacing bytes).
import { Message } from "./message";
import { Performative, Priority } from "./performative";

/** The ABI version this library implements. */
export const ABI_VERSION: i32 = 1;

export const STATUS_BAD_INPUT: i64 = -1;
export const STATUS_FAILED: i64 = -2;
export const STATUS_PERMANENT: i64 = -3;

const FIXED: u32 = 36;

/** Why a batch could not be decoded. */
export class DecodeError {
  constructor(public malformed: bool, public reason: string) {}
}

/** Reads a batch in [ptr, ptr+len); the first failure is kept in error. */
export class Reader {
  error: DecodeError | null = null;
  constructor(private ptr: usize, private end: usize) {}

  /** Reports whether everything was read. */
  done(): bool {
    return this.ptr == this.end;
  }

  fail(malformed: bool, reason: string): void {
    if (this.error == null) this.error = new DecodeError(malformed, reason);
  }

  need(n: usize): bool {
    if (this.error != null) return false;
    if (this.end - this.ptr < n) {
      this.fail(true, "a length runs past the end of its frame");
      return false;
    }
    return true;
  }

  u32(): u32 {
    if (!this.need(4)) return 0;
    const v = load<u32>(this.ptr);
    this.ptr += 4;
    return v;
  }

  bytes(n: usize): Uint8Array {
    if (!this.need(n)) return new Uint8Array(0);
    const out = new Uint8Array(<i32>n);
    memory.copy(out.dataStart, this.ptr, n);
    this.ptr += n;
    return out;
  }

  str(field: string): string {
    const n = <usize>this.u32();
    if (!this.need(n)) return "";
    if (!validUTF8(this.ptr, n)) {
      this.fail(false, field + " is not valid UTF-8");
      return "";
    }
    const s = String.UTF8.decodeUnsafe(this.ptr, n);
    this.ptr += n;
    return s;
  }

  /** A count of items each at least minSize bytes, checked against what remains. */
  count(minSize: usize): u32 {
    const n = this.u32();
    if (this.error == null && <u64>n * <u64>minSize > <u64>(this.end - this.ptr)) {
      this.fail(true, "a count exceeds what remains of its frame");
      return 0;
    }
    return n;
  }

  map(field: string, into: Map<string, string>): void {
    const n = this.count(8);
    for (let i: u32 = 0; i < n && this.error == null; i++) {
      const k = this.str(field + " key");
      const v = this.str(field + " value");
      into.set(k, v);
    }
  }

  frame(): Message | null {
    const flen = <usize>this.u32();
    if (!this.need(flen)) return null;
    if (flen < FIXED) {
      this.fail(true, "a frame is shorter than its fixed part");
      return null;
    }
    const frameEnd = this.ptr + flen;
    const outerEnd = this.end;
    this.end = frameEnd;
    const m = new Message(<Performative>load<u8>(this.ptr));
    m.priority = <Priority>load<i8>(this.ptr + 1);
    memory.copy(m.id.dataStart, this.ptr + 4, 16);
    m.createdAt = load<i64>(this.ptr + 20);
    m.replyBy = load<i64>(this.ptr + 28);
    this.ptr += FIXED;
    m.sender = this.str("sender");
    m.replyTo = this.str("reply_to");
    m.language = this.str("language");
    m.encoding = this.str("encoding");
    m.ontology = this.str("ontology");
    m.protocol = this.str("protocol");
    m.conversationId = this.str("conversation_id");
    m.replyWith = this.str("reply_with");
    m.inReplyTo = this.str("in_reply_to");
    const nr = this.count(4);
    for (let i: u32 = 0; i < nr && this.error == null; i++) m.receivers.push(this.str("receiver"));
    this.map("param", m.params);
    this.map("trace context", m.traceContext);
    m.content = this.bytes(<usize>this.u32());
    if (this.error == null && this.ptr != frameEnd) this.fail(true, "bytes left over at the end of a frame");
    this.end = outerEnd;
    return m;
  }
}

/** Decodes a whole batch; null with r.error set if it is not one. */
export function decodeBatch(r: Reader): Message[] | null {
  const n = r.count(4);
  const out = new Array<Message>();
  for (let i: u32 = 0; i < n && r.error == null; i++) {
    const m = r.frame();
    if (m != null) out.push(m);
  }
  if (r.error == null && !r.done()) r.fail(true, "bytes left over after the last frame");
  return r.error == null ? out : null;
}

/** A growable byte buffer that stays put until the next batch. */
export class Writer {
  buf: ArrayBuffer = new ArrayBuffer(1024);
  len: usize = 0;

  reset(): void {
    this.len = 0;
  }

  grow(n: usize): void {
    const cap = <usize>this.buf.byteLength;
    if (this.len + n <= cap) return;
    let next = cap * 2;
    while (next < this.len + n) next *= 2;
    const nb = new ArrayBuffer(<i32>next);
    memory.copy(changetype<usize>(nb), changetype<usize>(this.buf), this.len);
    this.buf = nb;
  }

  at(): usize {
    return changetype<usize>(this.buf) + this.len;
  }

  u8(v: u8): void { this.grow(1); store<u8>(this.at(), v); this.len += 1; }
  u32(v: u32): void { this.grow(4); store<u32>(this.at(), v); this.len += 4; }
  i64(v: i64): void { this.grow(8); store<i64>(this.at(), v); this.len += 8; }

  raw(ptr: usize, n: usize): void {
    this.grow(n);
    memory.copy(this.at(), ptr, n);
    this.len += n;
  }

  str(s: string): void {
    const b = String.UTF8.encode(s);
    this.u32(<u32>b.byteLength);
    this.raw(changetype<usize>(b), <usize>b.byteLength);
  }

  /** Writes a map in key order, so the bytes are reproducible. */
  map(m: Map<string, string>): void {
    const keys = m.keys();
    keys.sort((a: string, b: string): i32 => (a < b ? -1 : a > b ? 1 : 0));
    this.u32(<u32>keys.length);
    for (let i = 0; i < keys.length; i++) {
      this.str(keys[i]);
      this.str(m.get(keys[i]));
    }
  }

  /** Appends m as a frame. */
  frame(m: Message): void {
    this.u32(0); // frame_len, patched below
    const start = this.len;
    this.u8(<u8>m.performative);
    this.u8(<u8>(<i8>m.priority));
    this.u8(0);
    this.u8(0);
    this.raw(m.id.dataStart, 16);
    this.i64(m.createdAt);
    this.i64(m.replyBy);
    this.str(m.sender);
    this.str(m.replyTo);
    this.str(m.language);
    this.str(m.encoding);
    this.str(m.ontology);
    this.str(m.protocol);
    this.str(m.conversationId);
    this.str(m.replyWith);
    this.str(m.inReplyTo);
    this.u32(<u32>m.receivers.length);
    for (let i = 0; i < m.receivers.length; i++) this.str(m.receivers[i]);
    this.map(m.params);
    this.map(m.traceContext);
    this.u32(<u32>m.content.length);
    this.raw(m.content.dataStart, <usize>m.content.length);
    store<u32>(changetype<usize>(this.buf) + start - 4, <u32>(this.len - start));
  }
}

/** Reports whether [ptr, ptr+n) is valid UTF-8 (no overlongs, surrogates or values past U+10FFFF). */
export function validUTF8(ptr: usize, n: usize): bool {
  let i: usize = 0;
  while (i < n) {
    const c = <u32>load<u8>(ptr + i);
    if (c < 0x80) {
      i++;
      continue;
    }
    let need: usize = 0;
    let min: u32 = 0;
    let cp: u32 = 0;
    if ((c & 0xe0) == 0xc0) { need = 1; min = 0x80; cp = c & 0x1f; }
    else if ((c & 0xf0) == 0xe0) { need = 2; min = 0x800; cp = c & 0x0f; }
    else if ((c & 0xf8) == 0xf0) { need = 3; min = 0x10000; cp = c & 0x07; }
    else return false;
    if (i + need >= n) return false;
    for (let k: usize = 1; k <= need; k++) {
      const d = <u32>load<u8>(ptr + i + k);
      if ((d & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += need + 1;
  }
  return true;
}

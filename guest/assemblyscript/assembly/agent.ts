// The ABI exports and the handler registration. An agent's entry file
// registers its handler at top level and re-exports the ABI:
//
//   import { handle, Message, Context, AgentError, Performative } from "../assembly";
//   export { caxton_abi_version, caxton_alloc, caxton_handle } from "../assembly";
//   handle((m: Message, ctx: Context): AgentError | null => { ...; return null; });
//
// and is built with --exportStart _initialize (a reactor: top-level code
// runs once, when the host starts the instance) and --use
// abort=assembly/agent/caxtonAbort (see Makefile).
import { ABI_VERSION, decodeBatch, Reader, STATUS_BAD_INPUT, STATUS_FAILED, STATUS_PERMANENT, Writer } from "./abi";
import { AgentError, Context, Counter, Level, log, logBytes } from "./context";
import { Message } from "./message";

/** A handler: called once per inbound message, in order; null is success. */
export type Handler = (msg: Message, ctx: Context) => AgentError | null;

let handler: Handler | null = null;
let inbound: ArrayBuffer | null = null;
const outbox = new Writer();
const counter = new Counter();

/** Registers the agent's handler (call it at the top level of the entry file). */
export function handle(h: Handler): void {
  handler = h;
}

/** caxton_abi_version: the ABI this module speaks. */
export function caxton_abi_version(): i32 {
  return ABI_VERSION;
}

/**
 * caxton_alloc: a buffer of at least size bytes, kept until a larger one is
 * asked for. (Out of memory, the runtime aborts: a trap the host reports as
 * the memory limit.)
 */
export function caxton_alloc(size: u32): usize {
  if (inbound == null || <u32>inbound!.byteLength < size) {
    inbound = null;
    inbound = new ArrayBuffer(<i32>size);
  }
  return changetype<usize>(inbound!);
}

/** caxton_handle: the batch at [ptr, ptr+len); the packed outbox or a status. */
export function caxton_handle(ptr: u32, len: u32): i64 {
  outbox.reset();
  counter.n = 0;
  const buf = inbound;
  if (buf == null) return STATUS_BAD_INPUT;
  const base = changetype<usize>(buf);
  if (<usize>ptr < base || <usize>ptr + <usize>len > base + <usize>buf.byteLength) return STATUS_BAD_INPUT;
  outbox.u32(0); // the count, patched at the end
  const r = new Reader(<usize>ptr, <usize>ptr + <usize>len);
  const msgs = decodeBatch(r);
  if (msgs == null) {
    const e = r.error!;
    if (e.malformed) {
      log(Level.Error, "caxton: malformed batch: " + e.reason);
      return STATUS_BAD_INPUT;
    }
    log(Level.Warn, "caxton: " + e.reason + "; the message is refused");
    return STATUS_PERMANENT;
  }
  const h = handler;
  if (h == null) {
    log(Level.Error, "caxton: no handler registered (call handle at the top level of the entry file)");
    return STATUS_PERMANENT;
  }
  for (let i = 0; i < msgs.length; i++) {
    const err = h(msgs[i], new Context(msgs[i], outbox, counter));
    if (err != null) {
      log(Level.Warn, "caxton: handler failed: " + err.message);
      outbox.reset();
      return err.permanent ? STATUS_PERMANENT : STATUS_FAILED;
    }
  }
  if (counter.n == 0) return 0;
  const at = changetype<usize>(outbox.buf);
  store<u32>(at, counter.n);
  return (<i64>at << 32) | <i64>outbox.len;
}

/**
 * The runtime's abort (failed assertion, out of memory, index out of
 * range): logs what it can without allocating (abort may be out of memory
 * itself), then traps, so the host replaces the instance.
 */
export function caxtonAbort(message: string | null, file: string | null, line: u32, column: u32): void {
  const buf = memory.data(512); // a static segment, usable before any allocation
  let n = putASCII(buf, 0, "abort: ");
  n = putASCII(buf, n, message);
  n = putASCII(buf, n, " at ");
  n = putASCII(buf, n, file);
  logBytes(Level.Error, buf, <u32>n);
  unreachable();
}

// putASCII copies s into buf at `at` (non-ASCII as '?'), up to 500 bytes.
function putASCII(buf: usize, at: usize, s: string | null): usize {
  if (s == null) return at;
  for (let i = 0; i < s.length && at < 500; i++) {
    const c = s.charCodeAt(i);
    store<u8>(buf + at, c < 0x80 ? <u8>c : 0x3f);
    at++;
  }
  return at;
}

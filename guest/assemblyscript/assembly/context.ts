// Context: what a handler gets with each message — sending, logging, the
// runtime's clock and host tools — and the error a handler returns.
import { Message } from "./message";
import { Performative } from "./performative";
import { Writer } from "./abi";

// Host imports (module "caxton"); a module imports only those it uses.
@external("caxton", "log")
declare function hostLog(level: i32, ptr: usize, len: u32): void;
@external("caxton", "now")
declare function hostNow(): i64;
@external("caxton", "tool_call")
declare function hostToolCall(name: usize, nameLen: u32, args: usize, argsLen: u32, out: usize, outCap: u32): i64;

/** Log levels: slog's, on the host. */
export enum Level {
  Debug = -4,
  Info = 0,
  Warn = 4,
  Error = 8,
}

/** Writes the UTF-8 bytes at [ptr, ptr+len) to the runtime's logger. */
export function logBytes(level: Level, ptr: usize, len: u32): void {
  hostLog(level, ptr, len);
}

/** Writes text to the runtime's logger under the agent's name. */
export function log(level: Level, text: string): void {
  const b = String.UTF8.encode(text);
  hostLog(level, changetype<usize>(b), <u32>b.byteLength);
}

/**
 * A handler's failure: retry (the host redelivers the batch's messages
 * with backoff, then dead-letters them) or permanent (dead-lettered at
 * once). Either way nothing the batch sent is delivered.
 */
export class AgentError {
  constructor(public message: string, public permanent: bool) {}

  static retry(message: string): AgentError {
    return new AgentError(message, false);
  }

  static permanent(message: string): AgentError {
    return new AgentError(message, true);
  }
}

/** How a tool call ended (the ABI's codes). */
export enum ToolStatus {
  Ok = 0,
  Error = 1,
  Denied = 2,
  RateLimited = 3,
  Timeout = 4,
  Unavailable = 5,
  BadArguments = 6,
  TooLarge = 7,
}

/** A tool call's status and content (the result, or why it failed). */
export class ToolResult {
  constructor(public status: ToolStatus, public content: Uint8Array) {}

  get ok(): bool {
    return this.status == ToolStatus.Ok;
  }

  text(): string {
    return String.UTF8.decodeUnsafe(this.content.dataStart, this.content.length);
  }
}

/** The tool-result buffer: the host's default result limit. */
export const TOOL_BUFFER: i32 = 1 << 20;
let toolBuf: Uint8Array | null = null;

/** The context of one inbound message; valid during the handler call. */
export class Context {
  constructor(public message: Message, private outbox: Writer, private counter: Counter) {}

  /** Queues m; it is sent when the batch succeeds. Leave sender, id and createdAt empty. */
  send(m: Message): void {
    this.outbox.frame(m);
    this.counter.n++;
  }

  /** Replies to the current message (Message.reply) with content. */
  reply(p: Performative, content: Uint8Array): void {
    this.send(this.message.reply(p).withContent(content));
  }

  /** Replies with text content. */
  replyText(p: Performative, text: string): void {
    this.send(this.message.reply(p).withText(text));
  }

  log(level: Level, text: string): void { log(level, text); }
  debug(text: string): void { log(Level.Debug, text); }
  info(text: string): void { log(Level.Info, text); }
  warn(text: string): void { log(Level.Warn, text); }
  error(text: string): void { log(Level.Error, text); }

  /** The runtime's clock, Unix nanoseconds (a fake clock in the host's tests). */
  now(): i64 {
    return hostNow();
  }

  /**
   * Calls host tool name with a JSON object of arguments. A denial, a
   * timeout or an unknown tool is a status, never a trap.
   */
  callTool(name: string, argsJSON: string): ToolResult {
    if (toolBuf == null) toolBuf = new Uint8Array(TOOL_BUFFER);
    const buf = toolBuf!;
    const n = String.UTF8.encode(name);
    const a = String.UTF8.encode(argsJSON);
    const r = hostToolCall(changetype<usize>(n), <u32>n.byteLength, changetype<usize>(a), <u32>a.byteLength,
      buf.dataStart, <u32>buf.length);
    const len = <i32>(<u32>r);
    return new ToolResult(<ToolStatus>(<i32>(r >>> 32)), buf.slice(0, len));
  }
}

/** Messages queued in the current batch. */
export class Counter {
  n: u32 = 0;
}

// WASI environment (wasi_snapshot_preview1), for the variables the host grants.
@external("wasi_snapshot_preview1", "environ_sizes_get")
declare function environSizesGet(count: usize, size: usize): u16;
@external("wasi_snapshot_preview1", "environ_get")
declare function environGet(environ: usize, buf: usize): u16;

/** The value of environment variable name if the host grants it, else null. */
export function getenv(name: string): string | null {
  const sizes = new ArrayBuffer(8);
  if (environSizesGet(changetype<usize>(sizes), changetype<usize>(sizes) + 4) != 0) return null;
  const count = load<u32>(changetype<usize>(sizes));
  const size = load<u32>(changetype<usize>(sizes) + 4);
  if (count == 0) return null;
  const ptrs = new ArrayBuffer(<i32>count * 4);
  const buf = new ArrayBuffer(<i32>size);
  if (environGet(changetype<usize>(ptrs), changetype<usize>(buf)) != 0) return null;
  const prefix = name + "=";
  for (let i: u32 = 0; i < count; i++) {
    const p = load<u32>(changetype<usize>(ptrs) + i * 4);
    let end = <usize>p;
    while (load<u8>(end) != 0) end++;
    const entry = String.UTF8.decodeUnsafe(<usize>p, end - <usize>p);
    if (entry.startsWith(prefix)) return entry.substring(prefix.length);
  }
  return null;
}

// Runs golden.wasm (built from golden.ts by `make test`) with node: the
// golden batch in, the golden outbox out, compared byte for byte.
import { readFileSync } from "node:fs";

const [wasmPath, batchPath, outboxPath] = process.argv.slice(2);
const logs = [];
let memory;
const text = (p, n) => new TextDecoder().decode(new Uint8Array(memory.buffer, p, n));
const { instance } = await WebAssembly.instantiate(readFileSync(wasmPath), {
  caxton: { log: (level, p, n) => logs.push(text(p, n)), now: () => 0n, tool_call: () => 0n },
  wasi_snapshot_preview1: { environ_sizes_get: () => 0, environ_get: () => 0 },
});
const ex = instance.exports;
memory = ex.memory;
ex._initialize();
if (ex.caxton_abi_version() !== 1) throw new Error("caxton_abi_version is not 1");
const batch = readFileSync(batchPath);
const ptr = ex.caxton_alloc(batch.length);
new Uint8Array(memory.buffer, ptr, batch.length).set(batch);
const r = ex.caxton_handle(ptr, batch.length);
if (r < 0n) throw new Error(`caxton_handle: status ${r}: ${logs.join("; ")}`);
const outPtr = Number(r >> 32n), outLen = Number(r & 0xffffffffn);
const got = Buffer.from(new Uint8Array(memory.buffer, outPtr, outLen));
const want = readFileSync(outboxPath);
if (!got.equals(want)) {
  throw new Error(`outbox differs from ${outboxPath}:\n got  ${got.toString("hex")}\n want ${want.toString("hex")}`);
}
console.log(`golden: ${batch.length}-byte batch decoded, ${outLen}-byte outbox matches`);

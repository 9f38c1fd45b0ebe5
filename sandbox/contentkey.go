package sandbox

import "hash/maphash"

// contentKey identifies a module's bytes in the engine's in-memory index:
// two 64-bit maphash values under independent random seeds. Hashing 18 KiB
// this way takes well under a microsecond where SHA-256 takes ~10 µs, and
// Compile runs on every Spawn of a wasm agent, so a repeat compile of the
// same bytes no longer pays for a cryptographic hash. The seeds are
// per-engine and secret, so a guest's author cannot craft a collision; by
// chance one needs ~2^64 distinct modules. The SHA-256 key (Module.key)
// is still computed on a miss: it names the on-disk AOT cache entry.
type contentKey [2]uint64

// contentSeeds are an engine's two seeds.
type contentSeeds [2]maphash.Seed

func newContentSeeds() contentSeeds { return contentSeeds{maphash.MakeSeed(), maphash.MakeSeed()} }

func (s contentSeeds) key(b []byte) contentKey {
	return contentKey{maphash.Bytes(s[0], b), maphash.Bytes(s[1], b)}
}

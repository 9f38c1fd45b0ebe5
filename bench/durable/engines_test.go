package durable_test

import (
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	bolt "go.etcd.io/bbolt"
)

func testingProcs() int { return runtime.GOMAXPROCS(0) }

// backlog is how many messages sit queued (never acked) before the run:
// set BENCH_BACKLOG to see an engine with a non-empty store.
var backlog, _ = strconv.Atoi(os.Getenv("BENCH_BACKLOG"))

// --- bbolt: one read-write transaction per group commit -------------------

type boltEngine struct{ db *bolt.DB }

var bucket = []byte("q")

func openBolt(b *testing.B) *boltEngine {
	db, err := bolt.Open(filepath.Join(b.TempDir(), "q.db"), 0o600,
		&bolt.Options{NoFreelistSync: true, FreelistType: bolt.FreelistMapType, InitialMmapSize: 1 << 30})
	if err != nil {
		b.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket(bucket); return err }); err != nil {
		b.Fatal(err)
	}
	return &boltEngine{db}
}

func (e *boltEngine) apply(puts [][2][]byte, dels [][]byte) error {
	return e.db.Update(func(tx *bolt.Tx) error {
		bk := tx.Bucket(bucket)
		bk.FillPercent = 0.95 // keys only ever grow: pack pages
		for _, kv := range puts {
			if err := bk.Put(kv[0], kv[1]); err != nil {
				return err
			}
		}
		for _, k := range dels {
			if err := bk.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
}
func (e *boltEngine) close() error { return e.db.Close() }

// --- pebble: one batch per group commit, committed with Sync ---------------

type pebbleEngine struct{ db *pebble.DB }

func openPebble(b *testing.B) *pebbleEngine {
	db, err := pebble.Open(b.TempDir(), &pebble.Options{Logger: quiet{}})
	if err != nil {
		b.Fatal(err)
	}
	return &pebbleEngine{db}
}

type quiet struct{}

func (quiet) Infof(string, ...any)  {}
func (quiet) Errorf(string, ...any) {}
func (quiet) Fatalf(f string, a ...any) {
	panic(f)
}

func (e *pebbleEngine) apply(puts [][2][]byte, dels [][]byte) error {
	bt := e.db.NewBatch()
	for _, kv := range puts {
		_ = bt.Set(kv[0], kv[1], nil)
	}
	for _, k := range dels {
		_ = bt.Delete(k, nil)
	}
	return bt.Commit(pebble.Sync)
}
func (e *pebbleEngine) close() error { return e.db.Close() }

// --- a bare append-only file: the ceiling any engine is measured against ---

type fileEngine struct {
	f   *os.File
	buf []byte
}

func openFile(b *testing.B) *fileEngine {
	f, err := os.Create(filepath.Join(b.TempDir(), "log"))
	if err != nil {
		b.Fatal(err)
	}
	return &fileEngine{f: f}
}

func (e *fileEngine) apply(puts [][2][]byte, dels [][]byte) error {
	e.buf = e.buf[:0]
	for _, kv := range puts {
		e.buf = append(e.buf, kv[0]...)
		e.buf = append(e.buf, kv[1]...)
	}
	for _, k := range dels {
		e.buf = append(e.buf, k...)
	}
	if _, err := e.f.Write(e.buf); err != nil {
		return err
	}
	return e.f.Sync()
}
func (e *fileEngine) close() error { return e.f.Close() }

func benchEngine(b *testing.B, e engine) {
	if backlog > 0 { // messages queued for agents that are not consuming
		for i := 0; i < backlog; i += 1000 {
			var puts [][2][]byte
			for j := i; j < i+1000; j++ {
				puts = append(puts, [2][]byte{key(uint64(1<<62 + j)), value})
			}
			if err := e.apply(puts, nil); err != nil {
				b.Fatal(err)
			}
		}
	}
	c := newCommitter(e)
	defer func() { c.stop(); _ = e.close() }()
	runPushAck(b, func(seq uint64) error {
		k := key(seq)
		done := make(chan error, 1)
		c.reqs <- &req{key: k, done: done}
		if err := <-done; err != nil {
			return err
		}
		c.reqs <- &req{key: k, del: true}
		return nil
	})
	if n := c.batches.Load(); n > 0 {
		b.ReportMetric(float64(c.ops.Load())/float64(n), "ops/commit")
	}
}

func BenchmarkEngineBbolt(b *testing.B)   { benchEngine(b, openBolt(b)) }
func BenchmarkEnginePebble(b *testing.B)  { benchEngine(b, openPebble(b)) }
func BenchmarkEngineRawFile(b *testing.B) { benchEngine(b, openFile(b)) }

// BenchmarkEnginePebbleNative lets Pebble's own commit pipeline do the
// group commit: every pusher calls Set with Sync, every ack Delete NoSync.
func BenchmarkEnginePebbleNative(b *testing.B) {
	e := openPebble(b)
	defer e.close()
	runPushAck(b, func(seq uint64) error {
		k := key(seq)
		if err := e.db.Set(k, value, pebble.Sync); err != nil {
			return err
		}
		return e.db.Delete(k, pebble.NoSync)
	})
}

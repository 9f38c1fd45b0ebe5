// Package durable (bench/durable) is the storage-engine evaluation
// behind store/durable's choice of Pebble. It is its own Go module, so the
// candidates that lost (bbolt) and the baseline (a NATS server) do not
// become dependencies of the caxton module.
//
//	cd bench/durable && go test -run '^$' -bench . -benchtime 2s .
//
// Every engine runs the same workload through the same group committer
// (harness_test.go): 256 goroutines each push a 300-byte value — returning
// only once it is fsync'd — and then ack (delete) it without waiting. One
// goroutine commits whatever is pending as one transaction with one
// fsync, having first let the pushers it just woke submit again. Reported:
// msgs/s, p50/p99 latency of push+ack, and ops per commit.
//
//   - EngineBbolt: go.etcd.io/bbolt v1.5.0, one read-write transaction per
//     commit (two fsyncs: pages, then meta).
//   - EnginePebble: github.com/cockroachdb/pebble/v2 v2.1.7, one batch per
//     commit, Commit(Sync).
//   - EnginePebbleNative: Pebble's own commit pipeline does the grouping
//     (every pusher calls Set with Sync).
//   - EngineRawFile: a bare append-only file with fsync: the ceiling.
//   - JetStreamSyncAlways / JetStreamDefaultSync: an embedded NATS server
//     v2.15.2 (nats.go v1.55.0), file storage, a work-queue stream, the same
//     256 publishers waiting for PubAcks and a consumer acking; with
//     sync_interval=always (an fsync per message) and with NATS's default
//     (an fsync every two minutes, not power-loss safe).
//
// The library's own benchmark, with the real store beside JetStream, is
// store/durable's BenchmarkDurablePushAck and BenchmarkJetStreamPushAck.
package durable

// Package durable is a store.Store that survives restarts: queued messages,
// retry counts and dead letters live in an embedded Pebble database in one
// directory, so a Caxton runtime delivers at least once across crashes
// without an external database.
//
//	s, err := durable.Open("/var/lib/myapp/caxton")
//	...
//	defer s.Close()
//
// # Semantics
//
//   - Push returns only when the envelope is on disk and fsync'd. Pushes
//     from all queues share fsyncs (group commit; see commit.go), so the
//     throughput of many senders is not bounded by the disk's fsync rate.
//   - PushAsync splits Push for a caller that holds a lock around queue
//     calls (the runtime's mailbox): queue now, wait for the disk outside
//     the lock. With 16 shared queues it measured 5× Push under the lock.
//   - Ack deletes the envelope for good. It does not wait for the disk: an
//     ack lost in a crash means the message is delivered again, which
//     at-least-once allows — handlers de-duplicate by acl.Message.ID. Sync
//     settles pending acks when that matters.
//   - Retry persists the attempt count (RetryAt also a not-before time for
//     the backoff) before it returns.
//   - Release only touches memory: on disk, order is arrival order already.
//   - OpenQueue of an existing queue returns every envelope pushed and never
//     acked — queued or in flight at the crash — ahead of anything new, in
//     priority then arrival order, with Seq and attempts restored. Queues
//     lists the queues on disk, so a runtime can accept messages for agents
//     it has not spawned again yet.
//   - Dead letters are written before Add returns and survive restarts.
//   - WithQueueLimit bounds a queue (an offline agent's backlog) with a
//     clear *QueueFullError; WithHistory keeps a bounded, indexed copy of
//     every delivery for replay by conversation or agent (History).
//
// Reads never touch the disk: each open queue keeps its envelopes in memory
// (as store.Memory does) and the disk is written through. A queue's backlog
// is loaded when the queue is opened, not at Open.
//
// # Damage
//
// Every record carries a CRC-32C over its own bytes, on top of Pebble's
// block checksums, and Open reads every record once. A damaged store fails
// Open with a *CorruptError (errors.Is ErrCorrupt) naming the file and the
// record; WithRepair moves damaged records aside (Quarantined) and opens
// the rest. A write-ahead log cut short by a crash is recovered up to the
// cut — those writes were never acknowledged — while garbage before the
// last 32 KiB block of the log is reported, not cut (Pebble's WAL sync
// chunks tell the two apart; within the last block they cannot be told
// apart, and the log is cut there). Damage never panics: Pebble's
// corruption reports are routed to errors. After a failed write the store
// refuses further writes (ErrFailed) rather than risk acknowledging data
// the kernel may have dropped.
//
// # Why Pebble
//
// Chosen by measurement (bench/durable, a separate module so the losing
// candidates stay out of this one's go.mod): the same push+ack workload —
// 256 concurrent pushers, each push fsync'd, acks not waited for, one
// group committer — on this 2-core VM, two runs each:
//
//	bare append-only file (the ceiling)   271k–327k msgs/s  p50 0.71–0.82 ms
//	Pebble v2.1.7                         211k–242k         p50 0.72–0.90 ms  p99 3.8–6.2 ms
//	bbolt v1.5.0                          202k–214k         p50 1.12–1.15 ms  p99 2.9–3.2 ms
//	NATS JetStream, sync_interval=always  3.2k–3.5k         (an fsync per message)
//	NATS JetStream, default sync          42k–51k           (fsync every 2 min: not power-loss safe)
//
// Throughput is a near tie between the two libraries; Pebble won on:
//
//   - latency: one fsync per commit (its WAL) where bbolt needs two (data
//     pages, then the meta page) — and every Send waits for it, so the
//     median matters more than bbolt's tighter p99 (Pebble's tail is its
//     background compactions);
//   - damage: Pebble checksums every block and its WAL and reports damage
//     as errors (routed here, never to a panic); bbolt v1.5.0 panics on a
//     damaged page ("invalid page type", "invalid freelist page",
//     "freepages: failed to get all reachable pages" — etcd-io/bbolt#128,
//     #446, #335), which a store that must never panic on a bad file
//     cannot accept;
//   - queue workloads: an envelope acked soon after its push is removed
//     with a single-delete, and both vanish when the memtable is flushed —
//     no tombstone to carry down — where a B+tree rewrites pages both times.
//
// The costs, accepted: about 25 more modules in go.mod (cockroachdb/errors,
// a Prometheus client, a cgo zstd binding when cgo is on; it builds without
// cgo too), a directory of files rather than one, and background
// compaction CPU (with WithHistory most of it: history is kept, not acked
// away). JetStream was the baseline, not a candidate: a whole server for
// a queue, 60× slower when it fsyncs per message as this store must.
//
// # Limits
//
// One process may open a directory at a time (Pebble locks it). A message
// sent to several receivers is stored once per receiver, and comes back as
// separate copies after a restart. Times come back with their nanoseconds
// and location (UTC, Local or a fixed zone) but without a monotonic clock
// reading. History entries are written just after their push and may miss
// the last milliseconds before a crash; queued messages never do.
package durable

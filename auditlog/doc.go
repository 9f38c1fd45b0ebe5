// Package auditlog keeps a Caxton runtime's audit trail in a directory,
// so that security records survive restarts and the hash chain verifies
// across them:
//
//	trail, err := auditlog.Open(filepath.Join(dataDir, "audit"),
//		auditlog.WithRetention(auditlog.Retention{MaxAge: 90 * 24 * time.Hour}))
//	...
//	rt, err := caxton.New(caxton.WithAuditSink(trail))
//	...
//	rt.Close(ctx)
//	trail.Close()
//
// A runtime started again on the same directory continues the chain from
// the last stored record (caxton.WithAuditSink), and Verify checks the
// whole stored trail (caxton.VerifyAuditTrail).
//
// # Files
//
// Records are JSON lines (one caxton.AuditRecord per line) in segment
// files named after their first record's sequence number
// (00000000000000000001.jsonl), so an operator can read them with jq. A
// segment is closed and a new one begun when it would pass
// WithSegmentBytes (4 MiB by default).
//
// # Durability
//
// Append writes each record to the operating system before it returns, so
// a record survives the process crashing or being killed; the file is
// fsync'd in the background every WithSyncInterval (one second by
// default), on rotation and on Close, so a power loss may take the records
// of the last interval. WithSyncInterval(0) fsyncs every record, which
// makes every audited event wait for the disk. A record cut short by a
// crash at the end of the newest segment is dropped at Open (it was never
// complete); a damaged line anywhere else fails Open with a *CorruptError
// naming the file and line, since removing it would break the chain.
//
// # Retention
//
// WithRetention removes whole segments, oldest first, once every record
// in one is older than MaxAge or the records after it number at least
// MaxRecords; the newest segment always stays. The runtime asks for this
// after each record (caxton.AuditRetainer) and writes a chained checkpoint
// record (caxton.AuditRetention) before the segments go, naming the first
// record kept and the hash it follows. Verify therefore accepts a trail
// whose start was removed by retention and refuses one whose start was
// removed by anyone else. Retention runs as records arrive: a runtime that
// records nothing removes nothing.
//
// # Limits
//
// One Log serves one runtime, and one process may open a directory at a
// time (a lock file refuses a second Open). The chain is tamper-evident,
// not tamper-proof: someone able to rewrite the files can rewrite the
// whole chain, or cut its end; compare the newest record's hash (Last)
// with a copy kept elsewhere to catch that.
package auditlog

// Package protoactor (bench/protoactor) runs Caxton's core benchmarks beside
// protoactor-go, the actor engine a Go user would most likely pick instead,
// and beside a plain buffered channel, all in one run. It is its own Go
// module, so the caxton module never depends on protoactor-go: users who
// import caxton do not pull it in.
//
//	cd bench/protoactor && go test -run '^$' -bench . -benchmem -count 3 .
//
// Each benchmark does the same work three ways:
//
//   - BenchmarkOneToOne: the host sends b.N messages to one agent (actor)
//     that counts them; the clock stops when the last one is handled.
//   - BenchmarkRequestReply: b.N sequential request → reply round trips
//     (caxton Runtime.Request; protoactor RequestFuture + Result), with
//     p50, p99 and the mean.
//   - BenchmarkSpawn: spawn one agent (actor) with a no-op handler, in
//     systems of at most 1,000 each.
//
// protoactor-go runs with its defaults (unbounded lock-free mailbox, the
// default dispatcher). A Caxton send does more than a protoactor Tell: it
// validates the FIPA message, stamps an id and a creation time, and queues
// into a bounded priority mailbox with backpressure. The figures and the
// verdicts are in BENCHMARKS.md ("Native bus beside protoactor-go").
package protoactor

// Package cluster makes Caxton runtimes on several processes or machines
// one agent system, on NATS JetStream. A runtime joins with one option:
//
//	n, err := cluster.New("node-a", cluster.WithURLs(urls...))
//	rt, err := caxton.New(caxton.WithCluster(n))
//
// Nothing changes for agent code: Send, Request, replies, topics, content
// rules, Capable, Contract Net and the protocol helpers reach agents on
// other nodes as they reach local ones.
//
// What the cluster keeps in NATS (see docs/design.md for the reasons):
//
//   - stream CAXTON_<cluster>_MAIL (a work queue), subjects
//     caxton.<cluster>.mail.<node>: the mail of the agents each node
//     hosts, consumed through one durable consumer per node (however many
//     agents it hosts). A sending node picks one of the agent's live nodes
//     by rendezvous hashing, so its messages to that agent stay in order;
//     a node passes messages for agents it does not host on (the frame
//     forwarded, signature intact, naming the messages the next node
//     takes). A message is acknowledged when
//     its handler succeeded (or it was dead-lettered after the agent's
//     retries), so delivery across nodes is at-least-once, ordered per
//     sender and receiver.
//   - caxton.<cluster>.node.<node>: replies and notices for inboxes and
//     waiting Requests, which live in memory on the node that asked.
//   - key-value buckets CAXTON_<cluster>_NODES (leases with each node's
//     Ed25519 key; a node that stops beating expires) and
//     CAXTON_<cluster>_AGENTS (which agents run where, with capabilities,
//     topics, replicas and state). Names are unique cluster-wide.
//
// Messages a node sends to another node's agents go out in signed frames:
// what queues while one frame is being stored is the next (group commit),
// so a loaded node pays JetStream's write, a signature and a verification
// once for many messages, however many agents they are for.
//
// When a node dies its agents' mail waits in JetStream, where a surviving
// node adopts the dead node's consumer; spawning the agent on another node
// (once the dead node's lease ended), by the host or by a placement hook
// (WithPlacement), brings that mail to it. Mail of agents no node hosts
// waits in a park (caxton.<cluster>.mail.~) for a Spawn.
// WithDirectRequests sends a waiting Request's message over core NATS.
// Every message between nodes is signed by the sending node and verified
// by the receiver; anything else is rejected and recorded (Rejections).
//
// Package cluster/embedded runs NATS servers in-process for development
// and tests; production nodes connect to an existing NATS cluster. A
// runtime closes its node (Runtime.Close), so close the runtime before the
// NATS servers it talks to.
//
// This package is a Go module of its own, github.com/caxton-go/caxton/cluster,
// so that the NATS server and client stay out of the module graph of
// programs that do not use it: require it beside github.com/caxton-go/caxton.
// The reasons for its design (subjects, streams, leases, frames) are in
// docs/design.md of the repository.
package cluster

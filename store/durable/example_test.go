package durable_test

import (
	"fmt"
	"os"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/store"
	"github.com/caxton-go/caxton/store/durable"
)

// A message pushed before a restart and never acked is there after it,
// with its attempt count.
func ExampleOpen() {
	dir, _ := os.MkdirTemp("", "caxton-durable")
	defer os.RemoveAll(dir)

	s, _ := durable.Open(dir, durable.WithLogger(quietLog))
	q, _ := s.Queue("billing#0")
	_ = q.Push(&store.Envelope{Msg: &acl.Message{Performative: acl.Request, Content: []byte("invoice 42")}, Receiver: "billing"})
	e := q.Pop()
	e.Attempts++
	_ = q.Retry(e) // the handler failed; the worker will try again... but the process dies
	_ = s.Close()

	s, _ = durable.Open(dir, durable.WithLogger(quietLog))
	defer s.Close()
	fmt.Println(s.Queues())
	q, _ = s.Queue("billing#0")
	e = q.Pop()
	fmt.Printf("%s, attempts %d\n", e.Msg.Content, e.Attempts)
	_ = q.Ack(e)
	// Output:
	// [billing#0]
	// invoice 42, attempts 1
}

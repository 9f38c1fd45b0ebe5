// Command quickstart is the customer-service conversation from the Caxton
// README: a front-desk agent routes customer inquiries to billing, technical
// and sales specialists and to a warranty specialist that runs sandboxed as
// WebAssembly (a Go guest, checked in as warranty/warranty.wasm and embedded
// in this program); the host asks questions with Request; an outage notice
// goes out on a topic; one handler failure is retried and succeeds, and one
// ends in the dead-letter queue.
//
//	go run ./examples/quickstart
package main

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
)

// The warranty specialist is a Go program compiled to WebAssembly. The
// module is checked in beside its source with a provenance file
// (warranty.wasm.sum, checked by the repository's tests); after changing
// the guest or the SDK, rebuild it with go generate (or make guests).
//
//go:generate go run github.com/caxton-go/caxton/cmd/caxton-guest build -o warranty/warranty.wasm ./warranty
//go:embed warranty/warranty.wasm
var warrantyWasm []byte

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

// transcript prints lines from many goroutines without interleaving them.
type transcript struct {
	mu sync.Mutex
	w  io.Writer
}

func (t *transcript) say(who acl.AgentID, format string, args ...any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	fmt.Fprintf(t.w, "%-10s %s\n", who+":", fmt.Sprintf(format, args...))
}

// specialist answers requests in its field with an inform.
func specialist(out *transcript, answer func(q string) (string, error)) caxton.Handler {
	return caxton.HandlerFunc(func(ctx context.Context, mc *caxton.MessageContext) error {
		m := mc.Message()
		if m.Performative != acl.Request {
			out.say(mc.Self(), "noted %s: %q", m.Performative, m.Content)
			return nil
		}
		a, err := answer(string(m.Content))
		if err != nil {
			out.say(mc.Self(), "could not answer %q (attempt %d): %v", m.Content, mc.Attempt(), err)
			return err
		}
		out.say(mc.Self(), "answering %q", m.Content)
		return mc.Reply(ctx, acl.Inform, []byte(a))
	})
}

// frontDesk picks a specialist by keyword and relays the answer.
func frontDesk(out *transcript) caxton.Handler {
	return caxton.HandlerFunc(func(ctx context.Context, mc *caxton.MessageContext) error {
		q := string(mc.Message().Content)
		to := acl.AgentID("sales")
		switch {
		case strings.Contains(q, "invoice") || strings.Contains(q, "refund"):
			to = "billing"
		case strings.Contains(q, "error") || strings.Contains(q, "crash"):
			to = "technical"
		case strings.Contains(q, "warranty"):
			to = "warranty"
		}
		out.say(mc.Self(), "routing %q to %s", q, to)
		ans, err := mc.Request(ctx, &acl.Message{
			Performative: acl.Request, Receivers: []acl.AgentID{to},
			Content: []byte(q), ConversationID: mc.Message().ConversationID,
			ReplyBy: mc.Now().Add(2 * time.Second),
		})
		if err != nil {
			return mc.Reply(ctx, acl.Failure, []byte("no specialist could answer: "+err.Error()))
		}
		return mc.Reply(ctx, acl.Inform, ans.Content)
	})
}

func run(w io.Writer) error {
	out := &transcript{w: w}
	deadLetters := make(chan caxton.DeadLetter, 8)
	rt, err := caxton.New(caxton.WithDeadLetterHook(func(d caxton.DeadLetter) {
		select {
		case deadLetters <- d:
		default: // the transcript only needs the first few
		}
	}))
	if err != nil {
		return err
	}
	defer func() { // for early returns; the end of run closes it explicitly
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		rt.Close(ctx)
	}()

	var technicalCalls atomic.Int32
	agents := []caxton.AgentSpec{
		{Name: "front-desk", Handler: frontDesk(out), Replicas: 2},
		{Name: "warranty", Wasm: &caxton.WasmSpec{Module: warrantyWasm}},
		{Name: "billing", Topics: []string{"announcements"}, Handler: specialist(out, func(q string) (string, error) {
			return "your refund was issued today", nil
		})},
		{Name: "technical", Topics: []string{"announcements"}, Handler: specialist(out, func(q string) (string, error) {
			if technicalCalls.Add(1) == 1 {
				return "", errors.New("knowledge base timed out") // transient: the retry succeeds
			}
			return "clear the cache and restart the app", nil
		})},
		{Name: "sales", Topics: []string{"announcements"},
			Delivery: caxton.DeliveryPolicy{MaxAttempts: 3, Backoff: caxton.Backoff{Initial: 5 * time.Millisecond}},
			Handler: specialist(out, func(q string) (string, error) {
				if strings.Contains(q, "enterprise") {
					return "", errors.New("legacy quote system is down") // every attempt fails
				}
				return "the pro plan is 20 EUR a month", nil
			})},
	}
	// Spawning compiles the wasm module (a second or two for a Go guest):
	// no deadline yet.
	for _, spec := range agents {
		if err := rt.Spawn(context.Background(), spec); err != nil {
			return err
		}
	}

	// The conversation gets ten seconds; it takes milliseconds.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	// Host code converses with the front desk through Request.
	for _, q := range []string{"where is my refund for invoice 42?", "the app shows error 500", "how much is the pro plan?", "is my pro laptop under warranty?"} {
		out.say("customer", "asks %q", q)
		reply, err := rt.Request(ctx, &acl.Message{Performative: acl.Request, Receivers: []acl.AgentID{"front-desk"}, Content: []byte(q)})
		if err != nil {
			return fmt.Errorf("request %q: %w", q, err)
		}
		out.say("customer", "got %s: %q", reply.Performative, reply.Content)
	}

	// A topic broadcast reaches every specialist and a host callback.
	heard := make(chan struct{})
	sub, err := rt.SubscribeFunc("announcements", func(_ context.Context, m *acl.Message) error {
		out.say("host", "heard announcement %q", m.Content)
		close(heard)
		return nil
	})
	if err != nil {
		return err
	}
	if err := rt.Send(ctx, &acl.Message{Performative: acl.Inform, Receivers: []acl.AgentID{acl.Topic("announcements")},
		Content: []byte("maintenance tonight at 22:00")}); err != nil {
		return err
	}
	<-heard
	if err := sub.Unsubscribe(ctx); err != nil {
		return err
	}

	// A request the sales agent can never answer: retried, then dead-lettered.
	out.say("customer", "asks %q", "enterprise quote please")
	if err := rt.Send(ctx, &acl.Message{Performative: acl.Request, Receivers: []acl.AgentID{"sales"},
		Content: []byte("enterprise quote please")}); err != nil {
		return err
	}
	select {
	case d := <-deadLetters:
		out.say("host", "dead letter for %s after %d attempts (%s): %s", d.Receiver, d.Attempts, d.Reason, d.LastError)
	case <-ctx.Done():
		return errors.New("the failing request never reached the dead-letter queue")
	}
	for _, a := range rt.Agents() {
		out.say("host", "%-10s processed=%d failed=%d retried=%d dead-lettered=%d", a.Name, a.Processed, a.Failed, a.Retried, a.DeadLettered)
	}
	return rt.Close(ctx)
}

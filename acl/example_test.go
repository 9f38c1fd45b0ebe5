package acl_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/caxton-go/caxton/acl"
)

func ExampleNew() {
	req := acl.New(acl.Request, "billing")
	req.Sender = "front-desk"
	req.Content = []byte(`{"invoice": 42}`)
	req.ConversationID = "c-1"
	fmt.Println(req.Validate())
	fmt.Println(req)

	// A message without a receiver is rejected, naming the field.
	err := acl.New(acl.Inform).Validate()
	var fe *acl.FieldError
	if errors.As(err, &fe) {
		fmt.Println(fe.Field, errors.Is(err, acl.ErrInvalid))
	}
	fmt.Println(err)
	// Output:
	// <nil>
	// request from=front-desk to=billing conv=c-1 bytes=15
	// receiver true
	// acl: field receiver: no receiver
}

func ExampleValidator() {
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	v := acl.Validator{MaxContentSize: 4, Now: func() time.Time { return now }}

	m := acl.New(acl.Request, "billing")
	m.Content = []byte("hello")
	fmt.Println(v.Validate(m))

	m.Content = []byte("hi")
	m.ReplyBy = now
	fmt.Println(v.Validate(m))

	m.ReplyBy = now.Add(time.Minute)
	fmt.Println(v.Validate(m))
	// Output:
	// acl: field content: 5 bytes, the limit is 4
	// acl: field reply_by: 2026-11-22T10:00:00Z is not after now (2026-11-22T10:00:00Z)
	// <nil>
}

func ExampleMessage_CreateReply() {
	req := acl.New(acl.Request, "billing")
	req.Sender = "front-desk"
	req.ConversationID = "c-1"
	req.Protocol = "fipa-request"
	req.ReplyWith = "r-1"

	reply := req.CreateReply(acl.Agree)
	fmt.Println(reply.Performative, reply.Receivers, reply.ConversationID, reply.Protocol, reply.InReplyTo)
	fmt.Println(acl.ValidMessageID(reply.ReplyWith))

	// CreateReplyWith lets the caller choose the reply's own reply_with.
	fmt.Println(req.CreateReplyWith(acl.Refuse, "r-2"))
	fmt.Println(req.CreateReplyWith(acl.Refuse, "r-2").ReplyWith)
	// Output:
	// agree [front-desk] c-1 fipa-request r-1
	// true
	// refuse from= to=front-desk conv=c-1 bytes=0
	// r-2
}

func ExampleTemplate() {
	// Selective receive: the answers of conversation c-1 that are not refusals.
	tpl := acl.And(
		acl.MatchConversationID("c-1"),
		acl.Not(acl.MatchPerformative(acl.Refuse, acl.Failure)),
	)
	for _, m := range []*acl.Message{
		{Performative: acl.Agree, ConversationID: "c-1"},
		{Performative: acl.Refuse, ConversationID: "c-1"},
		{Performative: acl.Inform, ConversationID: "c-2"},
		{Performative: acl.Inform, ConversationID: "c-1"},
		nil,
	} {
		fmt.Println(tpl.Match(m))
	}
	// Output:
	// true
	// false
	// false
	// true
	// false
}

func ExampleMarshal() {
	m := acl.New(acl.Inform, "billing", "sales")
	m.Sender = "front-desk"
	m.Content = []byte(`paid`)
	m.CreatedAt = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	m.Priority = acl.PriorityHigh
	_ = m.SetParam("X-Tenant", "acme")

	out, err := acl.Marshal(m)
	fmt.Println(string(out), err)

	back, err := acl.Unmarshal(out)
	fmt.Println(back, back.Priority, back.Params["X-Tenant"], err)

	_, err = acl.Unmarshal([]byte(`{"performative":"inform","colour":"blue"}`))
	fmt.Println(err)
	// Output:
	// {"performative":"inform","sender":"front-desk","receiver":["billing","sales"],"content":"paid","created_at":"2026-11-22T10:00:00Z","priority":"high","X-Tenant":"acme"} <nil>
	// inform from=front-desk to=billing,sales bytes=4 high acme <nil>
	// acl: field colour: unknown field
}

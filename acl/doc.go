// Package acl is Caxton's model of FIPA ACL messages: the 22 communicative
// acts, the Message with every FIPA parameter, validation that names the bad
// field, JADE-style replies, templates for selective receive and routing,
// and a strict JSON codec.
//
// It depends on nothing else in Caxton, so guest SDKs, tools and other
// runtimes can share it.
//
// A minimal exchange:
//
//	req := acl.New(acl.Request, "billing")
//	req.Content = []byte(`{"invoice": 42}`)
//	req.ConversationID = "c-1"
//	if err := req.Validate(); err != nil { ... }   // names the bad field
//	// ... the receiver answers with
//	reply := req.CreateReply(acl.Inform)           // to the sender, same conversation
package acl

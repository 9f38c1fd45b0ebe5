package guest

import (
	"context"
	"testing"
	"time"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/contractnet"
	"github.com/caxton-go/caxton/internal/abi"
	"github.com/caxton-go/caxton/protocol"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A guest bids with the same Participant a native agent uses: the call is
// answered with a propose, the accept with an inform, all through the
// outbox; a call it cannot read gets not-understood.
func TestRespondRunsAParticipantInTheGuest(t *testing.T) {
	p := &contractnet.Participant{
		Bid: func(_ context.Context, cfp *acl.Message) (contractnet.Offer, error) {
			if string(cfp.Content) != "haul" {
				return contractnet.Offer{}, protocol.NotUnderstood("unknown task")
			}
			return contractnet.Offer{Cost: 7}, nil
		},
		Execute: func(_ context.Context, cfp, _ *acl.Message, o contractnet.Offer) ([]byte, error) {
			return []byte(string(cfp.Content) + " done"), nil
		},
	}
	d := &dispatcher{host: &fakeHost{}, handler: Respond(p)}
	deadline := time.Unix(0, 42).Add(time.Minute)
	in := []*acl.Message{
		{Performative: acl.CFP, Sender: "auctioneer", Content: []byte("haul"), ConversationID: "c1", ReplyWith: "c1.1", ReplyBy: deadline, Protocol: protocol.FIPAContractNet},
		{Performative: acl.AcceptProposal, Sender: "auctioneer", ConversationID: "c1", ReplyWith: "c1.2", Protocol: protocol.FIPAContractNet},
		{Performative: acl.CFP, Sender: "auctioneer", Content: []byte("fly"), ConversationID: "c2", ReplyWith: "c2.1", ReplyBy: deadline},
	}
	out, status := d.handle(abi.AppendBatch(nil, in))
	require.Equal(t, int64(0), status)
	msgs, err := abi.DecodeBatch(out, abi.Limits{})
	require.NoError(t, err)
	require.Len(t, msgs, 3)

	assert.Equal(t, acl.Propose, msgs[0].Performative)
	assert.Equal(t, "c1.1", msgs[0].InReplyTo)
	o, err := contractnet.ParseOffer(msgs[0].Content)
	require.NoError(t, err)
	assert.Equal(t, 7.0, o.Cost)

	assert.Equal(t, acl.Inform, msgs[1].Performative)
	assert.Equal(t, "haul done", string(msgs[1].Content))
	assert.Equal(t, []acl.AgentID{"auctioneer"}, msgs[1].Receivers)

	assert.Equal(t, acl.NotUnderstood, msgs[2].Performative)
	assert.Equal(t, "unknown task", string(msgs[2].Content))
	assert.Equal(t, 0, p.Open())
}

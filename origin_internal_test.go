package caxton

import (
	"testing"
	"time"

	"github.com/caxton-go/caxton/acl"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// One function stamps every message's sender; these are its rules, origin
// by origin.
func TestOriginStampRules(t *testing.T) {
	native := &agent{spec: AgentSpec{Name: "clerk", Handler: HandlerFunc(nil)}}
	native.ver.Store(newVersion(1, native.spec))
	wasm := &agent{spec: AgentSpec{Name: "guest", Wasm: &WasmSpec{}}}
	wasm.ver.Store(newVersion(1, wasm.spec))
	preset := acl.MessageID{1, 2, 3}
	then := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name       string
		o          origin
		sender     acl.AgentID
		wantSender acl.AgentID
		forged     bool
		keepIDTime bool
	}{
		{"host, no sender: the default inbox", origin{kind: originHost, name: "host"}, "", "host", false, true},
		{"host may speak for anyone", origin{kind: originHost, name: "host"}, "bridge", "bridge", false, true},
		{"inbox speaks as itself", origin{kind: originInbox, name: "desk"}, "", "desk", false, true},
		{"inbox naming itself", origin{kind: originInbox, name: "desk"}, "desk", "desk", false, true},
		{"inbox cannot forge", origin{kind: originInbox, name: "desk"}, "bank", "", true, true},
		{"native agent", originOf(native), "", "clerk", false, false},
		{"native agent cannot forge", originOf(native), "bank", "", true, false},
		{"wasm agent", originOf(wasm), "guest", "guest", false, false},
		{"wasm agent cannot forge", originOf(wasm), "bank", "", true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := &acl.Message{Performative: acl.Inform, Sender: tc.sender, ID: preset, CreatedAt: then}
			err := tc.o.stamp(m)
			if tc.forged {
				require.ErrorIs(t, err, ErrForgedSender)
				require.ErrorIs(t, err, acl.ErrInvalid)
				var fe *acl.FieldError
				require.ErrorAs(t, err, &fe)
				assert.Equal(t, "sender", fe.Field)
				assert.Contains(t, fe.Reason, string(tc.sender))
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.wantSender, m.Sender)
			if tc.keepIDTime {
				assert.Equal(t, preset, m.ID)
				assert.Equal(t, then, m.CreatedAt)
			} else {
				assert.True(t, m.ID.IsZero(), "agents do not choose ids")
				assert.True(t, m.CreatedAt.IsZero(), "agents do not choose creation times")
			}
		})
	}
	assert.Equal(t, originWasm, originOf(wasm).kind)
	assert.Equal(t, originNative, originOf(native).kind)
	var fe *acl.FieldError
	require.ErrorAs(t, origin{kind: originHost}.stamp(nil), &fe)
	assert.Equal(t, "message", fe.Field)
}

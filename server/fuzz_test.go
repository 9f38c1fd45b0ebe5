package server

import (
	"errors"
	"testing"

	"github.com/caxton-go/caxton/acl"
)

// FuzzDecodeSpecs feeds the API's JSON decoders arbitrary bodies: they
// must never panic, and every refusal must name a field.
func FuzzDecodeSpecs(f *testing.F) {
	for _, s := range []string{
		`{"name":"echo","replicas":2,"limits":{"batch_deadline":"1s"},"module_base64":"AGFzbQ=="}`,
		`{"version":"v2","strategy":"canary","steps":[10,50],"rollback":{"max_latency":"1s"}}`,
		`{"replicas":3}`, `{"ids":["a"],"all":false}`, `{"name":1}`, `[]`, `{"a":`, `{} {}`, `null`,
		`{"type":"send","ref":"1","message":{"type":"inform","to":"a"}}`, `{"type":"ack","delivery":3}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		targets := []any{&DeploySpec{}, &UpgradeSpec{}, &ScaleSpec{}, &DeadLetterIDs{}, &WSFrame{}}
		for _, v := range targets {
			err := decodeJSONBytes(b, v)
			if err == nil {
				continue
			}
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field == "" {
				t.Fatalf("%T: error without a field: %v", v, err)
			}
		}
		var d DeploySpec
		if decodeJSONBytes(b, &d) == nil {
			_, _ = agentSpecOf(&d, []byte("\x00asm"))
		}
		var u UpgradeSpec
		if decodeJSONBytes(b, &u) == nil {
			_, _ = strategyOf(&u)
		}
	})
}

// FuzzDecodeMessage feeds the API's message decoder arbitrary bodies.
func FuzzDecodeMessage(f *testing.F) {
	for _, s := range []string{
		`{"performative":"request","receiver":"echo","content":"hi"}`,
		`{"performative":"inform","receiver":["a","b"],"reply_by":"2026-01-01T00:00:00Z","X-k":"v"}`,
		`{"performative":"inform","sender":"x","receiver":"a"}`, `{"receiver":"a"}`, `{`,
		`{"type":"request","from":"me","to":["a"],"content":{"city":"Oslo","days":[1,2]}}`,
		`{"type":"inform","performative":"inform","to":"a"}`, `{"type":"inform","to":"a","content":12.5e3}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeMessage("application/json", b, "me")
		if err != nil {
			var fe *acl.FieldError
			if !errors.As(err, &fe) || fe.Field == "" {
				if !errors.Is(err, acl.ErrInvalid) {
					t.Fatalf("error is not an acl error: %v", err)
				}
			}
			return
		}
		if (m.Sender != "" && m.Sender != "me") || len(m.Receivers) == 0 {
			t.Fatalf("accepted %+v", m)
		}
	})
}

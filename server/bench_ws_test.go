package server_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/server"
	"github.com/caxton-go/caxton/server/client"
)

// BenchmarkWSGatewayRoundTrip is the WebSocket gateway's conversation
// path over loopback TCP: a client joined as "desk" (package client)
// sends a request as itself to a native echo agent and takes the reply
// delivered to it, acknowledging it — two frames up (send, ack), two down
// (sent, message). Beside it in the same run: the same request through
// POST /v1/requests, and a bare coder/websocket echo of a message-sized
// frame (the floor of any WebSocket face).
func BenchmarkWSGatewayRoundTrip(b *testing.B) {
	ctx := context.Background()
	newServer := func(b *testing.B) (*httptest.Server, *client.Client) {
		rt, err := caxton.New()
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = rt.Close(ctx) })
		if err := rt.Spawn(ctx, caxton.AgentSpec{Name: "echo", Handler: caxton.HandlerFunc(func(ctx context.Context, mc *caxton.MessageContext) error {
			return mc.Reply(ctx, acl.Inform, mc.Message().Content)
		})}); err != nil {
			b.Fatal(err)
		}
		auth, err := server.StaticTokens(server.Token{Token: operatorToken, Subject: "bench", Role: server.RoleOperator})
		if err != nil {
			b.Fatal(err)
		}
		srv, err := server.New(rt, server.WithAuthenticator(auth), server.WithAuditBuffer(0))
		if err != nil {
			b.Fatal(err)
		}
		hs := httptest.NewServer(srv)
		b.Cleanup(hs.Close)
		c, err := client.New(hs.URL, client.WithToken(operatorToken))
		if err != nil {
			b.Fatal(err)
		}
		return hs, c
	}
	b.Run("gateway-native", func(b *testing.B) {
		_, c := newServer(b)
		s, err := c.Join(ctx, "desk")
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = s.Close() })
		msg := []byte(`{"type":"request","to":"echo","content":"hello"}`)
		lat := make([]time.Duration, 0, b.N)
		b.ReportAllocs()
		b.ResetTimer()
		start := time.Now()
		for range b.N {
			t0 := time.Now()
			if _, err := s.SendRaw(ctx, msg); err != nil {
				b.Fatal(err)
			}
			d, err := s.Receive(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if err := s.Ack(ctx, d); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(t0))
		}
		elapsed := time.Since(start)
		b.StopTimer()
		reportLatency(b, lat, elapsed)
	})
	b.Run("http-request-native", func(b *testing.B) {
		hs, _ := newServer(b)
		benchHTTP(b, hs.URL+"/v1/requests?timeout=10s", operatorToken, []byte(`{"type":"request","to":"echo","content":"hello"}`), 1)
	})
	b.Run("bare-websocket-echo", func(b *testing.B) {
		hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			conn, err := websocket.Accept(w, r, nil)
			if err != nil {
				return
			}
			defer conn.CloseNow()
			for {
				typ, p, err := conn.Read(r.Context())
				if err != nil {
					return
				}
				if err := conn.Write(r.Context(), typ, p); err != nil {
					return
				}
			}
		}))
		b.Cleanup(hs.Close)
		conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(hs.URL, "http"), nil)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = conn.CloseNow() })
		frame := []byte(`{"type":"message","delivery":1,"message":{"performative":"inform","sender":"echo","receiver":["desk"],"content":"hello"}}`)
		lat := make([]time.Duration, 0, b.N)
		b.ReportAllocs()
		b.ResetTimer()
		start := time.Now()
		for range b.N {
			t0 := time.Now()
			if err := conn.Write(ctx, websocket.MessageText, frame); err != nil {
				b.Fatal(err)
			}
			if _, _, err := conn.Read(ctx); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(t0))
		}
		elapsed := time.Since(start)
		b.StopTimer()
		reportLatency(b, lat, elapsed)
	})
}

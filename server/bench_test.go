package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/server"
)

// reportLatency adds p50, p99, the mean and the rate to a result.
func reportLatency(b *testing.B, lat []time.Duration, elapsed time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	var sum time.Duration
	for _, d := range lat {
		sum += d
	}
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
	b.ReportMetric(float64(sum.Nanoseconds())/float64(len(lat)), "mean-ns")
	b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "req/s")
}

// benchHTTP posts body to url b.N times from par goroutines (keep-alive
// connections over loopback TCP) and reports latency and rate.
func benchHTTP(b *testing.B, url, token string, body []byte, par int) {
	tr := &http.Transport{MaxIdleConnsPerHost: par}
	hc := &http.Client{Transport: tr}
	b.Cleanup(tr.CloseIdleConnections)
	var mu sync.Mutex
	lat := make([]time.Duration, 0, b.N)
	next := make(chan struct{}, b.N)
	for range b.N {
		next <- struct{}{}
	}
	close(next)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for range par {
		wg.Go(func() {
			mine := make([]time.Duration, 0, b.N/par+1)
			for range next {
				t0 := time.Now()
				req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+token)
				resp, err := hc.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Errorf("status %d", resp.StatusCode)
					return
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	reportLatency(b, lat, elapsed)
}

// BenchmarkHTTPRequestReply is the request/reply path of the management
// API — POST /v1/requests over loopback TCP: authenticate, decode and
// check the ACL JSON, Runtime.Request, encode the reply — into a native
// and a C wasm echo agent, one client and four. Beside it, same run: a
// bare net/http handler decoding and encoding the same JSON (the floor
// of any HTTP face), and the in-process Runtime.Request.
func BenchmarkHTTPRequestReply(b *testing.B) {
	body := []byte(`{"performative":"request","receiver":"echo","content":"hello"}`)
	newAPI := func(b *testing.B, wasm bool) string {
		rt, err := caxton.New()
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = rt.Close(context.Background()) })
		spec := caxton.AgentSpec{Name: "echo", Replicas: 2}
		if wasm {
			spec.Wasm = &caxton.WasmSpec{File: echoWasm}
		} else {
			spec.Handler = caxton.HandlerFunc(func(ctx context.Context, mc *caxton.MessageContext) error {
				return mc.Reply(ctx, acl.Inform, mc.Message().Content)
			})
		}
		if err := rt.Spawn(context.Background(), spec); err != nil {
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
		return hs.URL + "/v1/requests?timeout=10s"
	}
	for _, par := range []int{1, 4} {
		suffix := map[int]string{1: "1-client", 4: "4-clients"}[par]
		b.Run("api-native/"+suffix, func(b *testing.B) { benchHTTP(b, newAPI(b, false), operatorToken, body, par) })
		b.Run("api-wasm-c/"+suffix, func(b *testing.B) { benchHTTP(b, newAPI(b, true), operatorToken, body, par) })
		b.Run("net-http-json/"+suffix, func(b *testing.B) {
			hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				m, err := acl.Unmarshal(mustRead(r.Body))
				if err != nil || m.Validate() != nil {
					http.Error(w, "bad", http.StatusBadRequest)
					return
				}
				reply := m.CreateReply(acl.Inform)
				out, _ := json.Marshal(reply)
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write(out)
			}))
			b.Cleanup(hs.Close)
			benchHTTP(b, hs.URL, operatorToken, body, par)
		})
	}
	b.Run("in-process-request", func(b *testing.B) {
		rt, err := caxton.New()
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = rt.Close(context.Background()) })
		if err := rt.Spawn(context.Background(), caxton.AgentSpec{Name: "echo", Handler: caxton.HandlerFunc(func(ctx context.Context, mc *caxton.MessageContext) error {
			return mc.Reply(ctx, acl.Inform, mc.Message().Content)
		})}); err != nil {
			b.Fatal(err)
		}
		lat := make([]time.Duration, 0, b.N)
		b.ReportAllocs()
		b.ResetTimer()
		start := time.Now()
		for range b.N {
			t0 := time.Now()
			if _, err := rt.Request(context.Background(), &acl.Message{Performative: acl.Request, Receivers: []acl.AgentID{"echo"}, Content: []byte("hello")}); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(t0))
		}
		elapsed := time.Since(start)
		b.StopTimer()
		reportLatency(b, lat, elapsed)
	})
}

func mustRead(r io.Reader) []byte {
	b, _ := io.ReadAll(r)
	return b
}

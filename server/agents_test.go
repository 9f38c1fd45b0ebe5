package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/server"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAgentLifecycleOverHTTP(t *testing.T) {
	f := newFixture(t, nil)
	st := f.deploy("echo", echoWasm, map[string]any{"version": "1.0", "topics": []string{"news"}})
	assert.Equal(t, "echo", st.Name)
	assert.Equal(t, "running", st.State)
	assert.Equal(t, "1.0", st.Version)
	assert.Equal(t, 1, st.Replicas)

	assert.Equal(t, "hello", f.ask("echo", "hello"))

	var sent server.SendResult
	f.ok(http.StatusAccepted, &sent, "POST", "/v1/messages", operatorToken,
		map[string]any{"performative": "inform", "receiver": "echo", "content": "fire and forget"})
	_, err := acl.ParseMessageID(sent.ID)
	require.NoError(t, err)

	f.ok(http.StatusOK, &st, "POST", "/v1/agents/echo/scale", operatorToken, map[string]any{"replicas": 3})
	assert.Equal(t, 3, st.Replicas)

	f.ok(http.StatusOK, &st, "POST", "/v1/agents/echo/stop", operatorToken, nil)
	assert.Equal(t, "stopped", st.State)
	f.ok(http.StatusOK, &st, "POST", "/v1/agents/echo/start", operatorToken, nil)
	assert.Equal(t, "running", st.State)
	f.ok(http.StatusOK, &st, "POST", "/v1/agents/echo/restart", operatorToken, nil)
	assert.Equal(t, "running", st.State)
	f.ok(http.StatusOK, &st, "POST", "/v1/agents/echo/stop?force=true", operatorToken, nil)
	assert.Equal(t, "stopped", st.State)

	var list []server.AgentStatus
	f.ok(http.StatusOK, &list, "GET", "/v1/agents", viewerToken, nil)
	require.Len(t, list, 1)
	assert.Equal(t, "echo", list[0].Name)
	assert.Equal(t, "down", list[0].Health)

	f.ok(http.StatusNoContent, nil, "DELETE", "/v1/agents/echo", adminToken, nil)
	p := f.problem(http.StatusNotFound, "GET", "/v1/agents/echo", viewerToken, nil)
	assert.Equal(t, "echo", p.Agent)
	assert.Equal(t, server.ProblemTypeBase+"agent-not-found", p.Type)

	// The audit log has every action, by whom.
	var audit []server.AuditRecord
	f.ok(http.StatusOK, &audit, "GET", "/v1/audit", adminToken, nil)
	var actions []string
	for _, a := range audit {
		actions = append(actions, a.Subject+" "+a.Action+" "+string(a.Outcome))
	}
	assert.Equal(t, []string{
		"alice deployAgent ok", "olga request ok", "olga sendMessage ok", "olga scaleAgent ok", "olga stopAgent ok",
		"olga startAgent ok", "olga restartAgent ok", "olga stopAgent ok", "alice removeAgent ok",
	}, actions)
}

func TestDeployByMultipartAndPath(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "echo.wasm"), readGuest(t, echoWasm), 0o600))
	f := newFixture(t, nil, server.WithModuleDir(dir))

	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	require.NoError(t, mw.WriteField("spec", `{"name":"up","replicas":2}`))
	part, err := mw.CreateFormFile("module", "echo.wasm")
	require.NoError(t, err)
	_, err = part.Write(readGuest(t, echoWasm))
	require.NoError(t, err)
	require.NoError(t, mw.Close())
	req, err := http.NewRequestWithContext(t.Context(), "POST", f.url+"/v1/agents", &body)
	require.NoError(t, err)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	assert.Equal(t, "ping", f.ask("up", "ping"))

	var st server.AgentStatus
	f.ok(http.StatusCreated, &st, "POST", "/v1/agents", adminToken, map[string]any{"name": "bypath", "path": "echo.wasm"})
	assert.Equal(t, "pong", f.ask("bypath", "pong"))

	p := f.problem(http.StatusBadRequest, "POST", "/v1/agents", adminToken, map[string]any{"name": "x", "path": "../../etc/passwd"})
	assert.Equal(t, "path", p.Field)
	p = f.problem(http.StatusBadRequest, "POST", "/v1/agents", adminToken, map[string]any{"name": "x", "path": "/etc/passwd"})
	assert.Equal(t, "path", p.Field)
}

func TestBadInputIsRefusedClearly(t *testing.T) {
	f := newFixture(t, nil, server.WithMaxModuleBytes(64<<10), server.WithMaxBodyBytes(8<<10))
	f.deploy("echo", echoWasm, nil)
	echo := readGuest(t, echoWasm)
	hostile := append([]byte("\x00asm\x01\x00\x00\x00"), bytes.Repeat([]byte{0xff}, 64)...)
	for _, tc := range []struct {
		name, method, path string
		body               any
		status             int
		field              string
	}{
		{"unknown field", "POST", "/v1/agents", `{"name":"a","replcas":2,"module_base64":"AGFzbQ=="}`, 400, "replcas"},
		{"wrong type", "POST", "/v1/agents/echo/scale", `{"replicas":"three"}`, 400, "replicas"},
		{"trailing data", "POST", "/v1/agents/echo/scale", `{"replicas":2} {}`, 400, "body"},
		{"empty body", "POST", "/v1/agents/echo/scale", ``, 400, "body"},
		{"replicas out of range", "POST", "/v1/agents/echo/scale", `{"replicas":0}`, 400, "replicas"},
		{"no name", "POST", "/v1/agents", map[string]any{"module_base64": echo}, 400, "name"},
		{"no module", "POST", "/v1/agents", map[string]any{"name": "a"}, 400, "module"},
		{"two modules", "POST", "/v1/agents", map[string]any{"name": "a", "module_base64": echo, "path": "x.wasm"}, 400, "module"},
		{"not wasm", "POST", "/v1/agents", map[string]any{"name": "a", "module_base64": []byte("#!/bin/sh\nrm -rf /\n")}, 400, "module"},
		{"hostile module", "POST", "/v1/agents", map[string]any{"name": "a", "module_base64": hostile}, 422, "module"},
		{"oversized module", "POST", "/v1/agents", map[string]any{"name": "a", "module_base64": append(bytes.Clone(echo), make([]byte, 64<<10-len(echo)+100)...)}, 413, "module_base64"},
		{"oversized body", "POST", "/v1/messages", map[string]any{"performative": "inform", "receiver": "echo", "content": strings.Repeat("x", 9<<10)}, 413, "body"},
		{"bad strategy", "POST", "/v1/agents/echo/upgrade", map[string]any{"strategy": "yolo", "module_base64": echo}, 400, "strategy"},
		{"bad duration", "POST", "/v1/agents/echo/upgrade", map[string]any{"watch": "soon", "module_base64": echo}, 400, "watch"},
		{"sender chosen", "POST", "/v1/messages", `{"performative":"inform","sender":"admin","receiver":"echo"}`, 400, "sender"},
		{"no receiver", "POST", "/v1/messages", `{"performative":"inform"}`, 400, "receiver"},
		{"bad performative", "POST", "/v1/messages", `{"performative":"shout","receiver":"echo"}`, 400, "performative"},
		{"bad timeout", "POST", "/v1/requests?timeout=forever", `{"performative":"request","receiver":"echo"}`, 400, "timeout"},
		{"bad since", "GET", "/v1/agents/echo/logs?since=yesterday", nil, 400, "since"},
		{"bad follow", "GET", "/v1/agents/echo/logs?follow=maybe", nil, 400, "follow"},
		{"bad force", "POST", "/v1/agents/echo/stop?force=please", nil, 400, "force"},
		{"dead letters: nothing named", "POST", "/v1/deadletters/replay", `{}`, 400, "ids"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := f.problem(tc.status, tc.method, tc.path, adminToken, tc.body)
			assert.Equal(t, tc.field, p.Field, "%+v", p)
			// The server goes on serving.
			f.ok(http.StatusOK, nil, "GET", "/healthz", "", nil)
			assert.Equal(t, "still", f.ask("echo", "still"))
		})
	}
	p := f.problem(http.StatusNotFound, "GET", "/v1/nothing", adminToken, nil)
	assert.Contains(t, p.Detail, "no route")
	p = f.problem(http.StatusConflict, "POST", "/v1/agents", adminToken, map[string]any{"name": "echo", "module_base64": echo})
	assert.Equal(t, "echo", p.Agent)
}

func TestUpgradeRollbackAndDeadLetters(t *testing.T) {
	f := newFixture(t, nil)
	f.deploy("quote", quoteV1, map[string]any{"version": "v1", "max_attempts": 2})
	assert.Equal(t, "quote v1: 100 EUR", f.ask("quote", "price?"))

	var st server.AgentStatus
	f.ok(http.StatusOK, &st, "POST", "/v1/agents/quote/upgrade", operatorToken,
		map[string]any{"version": "v2", "strategy": "blue-green", "module_base64": readGuest(t, quoteV2)})
	assert.Equal(t, "v2", st.Version)
	assert.Equal(t, "v1", st.Previous)
	assert.Equal(t, "quote v2: 90 EUR", f.ask("quote", "price?"))

	// v3 traps on every message. Promoted at once (no watch window), its
	// first request is dead-lettered; a manual rollback returns to v2 and
	// the dead letter is replayed there.
	f.ok(http.StatusOK, &st, "POST", "/v1/agents/quote/upgrade", operatorToken,
		map[string]any{"version": "v3", "module_base64": readGuest(t, quoteV3)})
	assert.Equal(t, "v3", st.Version)
	p := f.problem(http.StatusBadGateway, "POST", "/v1/requests?timeout=20s", operatorToken,
		map[string]any{"performative": "request", "receiver": "quote", "content": "price?"})
	assert.Equal(t, "quote", p.Agent)
	require.NotEmpty(t, p.DeadLetter)

	var dls []server.DeadLetterView
	f.ok(http.StatusOK, &dls, "GET", "/v1/deadletters", viewerToken, nil)
	require.Len(t, dls, 1)
	assert.Equal(t, p.DeadLetter, dls[0].ID)
	assert.Equal(t, "quote", dls[0].Receiver)

	f.ok(http.StatusOK, &st, "POST", "/v1/agents/quote/rollback", operatorToken, nil)
	assert.Equal(t, "v2", st.Version)

	var res server.DeadLetterResult
	f.ok(http.StatusOK, &res, "POST", "/v1/deadletters/replay", operatorToken, map[string]any{"ids": []string{p.DeadLetter}})
	assert.Equal(t, 1, res.Count)
	f.ok(http.StatusOK, &dls, "GET", "/v1/deadletters", viewerToken, nil)
	assert.Empty(t, dls)
	f.problem(http.StatusNotFound, "POST", "/v1/deadletters/purge", adminToken, map[string]any{"ids": []string{p.DeadLetter}})

	// With a watch window, v3's crash rolls the upgrade back by itself:
	// the upgrade call answers 409 naming the agent, and v2 answers.
	events := f.rt.Watch(t.Context(), 64)
	done := make(chan server.Problem, 1)
	go func() {
		done <- f.problem(http.StatusConflict, "POST", "/v1/agents/quote/upgrade", operatorToken,
			map[string]any{"version": "v3b", "watch": "1m", "module_base64": readGuest(t, quoteV3)})
	}()
	for e := range events {
		if e.Kind == caxton.EventUpgradeStarted {
			break
		}
	}
	assert.Equal(t, "quote v2: 90 EUR", f.ask("quote", "price?"))
	rb := <-done
	assert.Equal(t, "quote", rb.Agent)
	assert.Equal(t, server.ProblemTypeBase+"rolled-back", rb.Type)
	f.ok(http.StatusOK, &st, "GET", "/v1/agents/quote", viewerToken, nil)
	assert.Equal(t, "v2", st.Version)
}

// sseReader reads Server-Sent Events from a response body.
type sseReader struct{ sc *bufio.Scanner }

func (r sseReader) next(t *testing.T) (event string, data []byte) {
	t.Helper()
	for r.sc.Scan() {
		line := r.sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			event = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			data = []byte(strings.TrimPrefix(line, "data: "))
		case line == "" && event != "":
			return event, data
		}
	}
	t.Fatalf("stream ended: %v", r.sc.Err())
	return "", nil
}

func (f *fixture) stream(path, token string) sseReader {
	f.t.Helper()
	ctx, cancel := context.WithCancel(f.t.Context())
	f.t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, "GET", f.url+path, nil)
	require.NoError(f.t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(f.t, err)
	f.t.Cleanup(func() { resp.Body.Close() })
	require.Equal(f.t, http.StatusOK, resp.StatusCode)
	require.Equal(f.t, "text/event-stream", resp.Header.Get("Content-Type"))
	return sseReader{bufio.NewScanner(resp.Body)}
}

func TestEventsAndLogsStream(t *testing.T) {
	f := newFixture(t, nil)
	require.NoError(t, f.rt.Spawn(t.Context(), caxton.AgentSpec{
		Name: "chatty",
		Handler: caxton.HandlerFunc(func(ctx context.Context, mc *caxton.MessageContext) error {
			mc.Logger().Info("got", "content", string(mc.Message().Content))
			return nil
		}),
	}))
	events := f.stream("/v1/events?agent=chatty", viewerToken)
	f.ok(http.StatusOK, nil, "POST", "/v1/agents/chatty/stop", operatorToken, nil)
	kind, data := events.next(t)
	require.Equal(t, "event", kind)
	var ev server.EventView
	require.NoError(t, json.Unmarshal(data, &ev))
	assert.Equal(t, "chatty", ev.Agent)
	assert.Equal(t, "stopped", ev.Kind)
	f.ok(http.StatusOK, nil, "POST", "/v1/agents/chatty/start", operatorToken, nil)

	send := func(content string) {
		f.ok(http.StatusAccepted, nil, "POST", "/v1/messages", operatorToken,
			map[string]any{"performative": "inform", "receiver": "chatty", "content": content})
	}
	send("one")
	logs := f.stream("/v1/agents/chatty/logs?since=1h&follow=true", viewerToken)
	var lv server.LogView
	_, data = logs.next(t)
	require.NoError(t, json.Unmarshal(data, &lv))
	assert.Equal(t, "got", lv.Message)
	assert.Equal(t, "one", lv.Attrs["content"])
	send("two")
	_, data = logs.next(t)
	require.NoError(t, json.Unmarshal(data, &lv))
	assert.Equal(t, "two", lv.Attrs["content"])

	var recs []server.LogView
	f.ok(http.StatusOK, &recs, "GET", "/v1/agents/chatty/logs?since="+time.Now().Add(-time.Hour).Format(time.RFC3339), viewerToken, nil)
	require.Len(t, recs, 2)
}

func TestMetricsThroughPrometheusExporter(t *testing.T) {
	mp, h, err := server.NewPrometheus()
	require.NoError(t, err)
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	f := newFixture(t, []caxton.Option{caxton.WithMeterProvider(mp)}, server.WithMetrics(h), server.WithMeterProvider(mp))
	f.deploy("echo", echoWasm, nil)
	f.ask("echo", "x")
	f.problem(http.StatusNotFound, "GET", "/v1/agents/nobody", viewerToken, nil)
	status, body := f.do("GET", "/metrics", viewerToken, nil)
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, string(body), "caxton_agent_up")
	assert.Contains(t, string(body), "# TYPE")
	// The server's own HTTP metrics, in the semantic conventions: by route
	// pattern (not path), method and status.
	text := string(body)
	assert.Regexp(t, `http_server_request_duration_seconds_count\{[^}]*http_request_method="POST"[^}]*http_response_status_code="201"[^}]*http_route="/v1/agents"[^}]*\} 1`, text)
	assert.Regexp(t, `http_server_request_duration_seconds_count\{[^}]*http_response_status_code="404"[^}]*http_route="/v1/agents/\{name\}"`, text)
	assert.NotContains(t, text, "nobody", "paths do not become labels")
	assert.Contains(t, text, "http_server_active_requests")
	f.problem(http.StatusUnauthorized, "GET", "/metrics", "", nil)
}

func TestStateSurvivesRestart(t *testing.T) {
	state := t.TempDir()
	f := newFixture(t, nil, server.WithStateDir(state))
	f.problem(http.StatusServiceUnavailable, "GET", "/readyz", "", nil)
	require.NoError(t, f.srv.Restore(t.Context()))
	f.ok(http.StatusOK, nil, "GET", "/readyz", "", nil)
	f.deploy("quote", quoteV1, map[string]any{"version": "v1"})
	f.deploy("echo", echoWasm, nil)
	f.ok(http.StatusOK, nil, "POST", "/v1/agents/quote/upgrade", operatorToken,
		map[string]any{"version": "v2", "module_base64": readGuest(t, quoteV2)})
	f.ok(http.StatusOK, nil, "POST", "/v1/agents/quote/scale", operatorToken, map[string]any{"replicas": 2})
	f.ok(http.StatusOK, nil, "POST", "/v1/agents/echo/stop", operatorToken, nil)
	f.ok(http.StatusCreated, nil, "POST", "/v1/agents", adminToken, map[string]any{"name": "gone", "module_base64": readGuest(t, echoWasm)})
	f.ok(http.StatusNoContent, nil, "DELETE", "/v1/agents/gone", adminToken, nil)
	mods, err := os.ReadDir(filepath.Join(state, "modules"))
	require.NoError(t, err)
	assert.Len(t, mods, 3, "v1 (the previous version of quote), v2 and echo")

	g := newFixture(t, nil, server.WithStateDir(state))
	require.NoError(t, g.srv.Restore(t.Context()))
	var list []server.AgentStatus
	g.ok(http.StatusOK, &list, "GET", "/v1/agents", viewerToken, nil)
	require.Len(t, list, 2)
	assert.Equal(t, "echo", list[0].Name)
	assert.Equal(t, "stopped", list[0].State)
	assert.Equal(t, "quote", list[1].Name)
	assert.Equal(t, "v2", list[1].Version)
	assert.Equal(t, 2, list[1].Replicas)
	assert.Equal(t, "quote v2: 90 EUR", g.ask("quote", "price?"))
	assert.Equal(t, "v1", list[1].Previous, "the previous version came back too")

	// A rollback after the restart returns to v1, and is remembered.
	var st server.AgentStatus
	g.ok(http.StatusOK, &st, "POST", "/v1/agents/quote/rollback", operatorToken, nil)
	assert.Equal(t, "v1", st.Version)
	assert.Equal(t, "quote v1: 100 EUR", g.ask("quote", "price?"))
	h := newFixture(t, nil, server.WithStateDir(state))
	require.NoError(t, h.srv.Restore(t.Context()))
	h.ok(http.StatusOK, &st, "GET", "/v1/agents/quote", viewerToken, nil)
	assert.Equal(t, "v1", st.Version)
	assert.Equal(t, "v2", st.Previous)
	assert.Equal(t, "running", st.State)
	assert.Equal(t, "quote v1: 100 EUR", h.ask("quote", "price?"))
}

func TestDeployJSONModuleIsBase64(t *testing.T) {
	// The JSON form carries the module as standard base64 (OpenAPI:
	// contentEncoding base64), which is what encoding/json writes for
	// []byte: a client in any language can build it.
	f := newFixture(t, nil)
	body := `{"name":"echo","module_base64":"` + base64.StdEncoding.EncodeToString(readGuest(t, echoWasm)) + `"}`
	f.ok(http.StatusCreated, nil, "POST", "/v1/agents", adminToken, body)
	p := f.problem(http.StatusBadRequest, "POST", "/v1/agents", adminToken, `{"name":"e2","module_base64":"not base64!"}`)
	assert.Equal(t, "module_base64", p.Field)
}

// Command mcp-tools shows agents reaching the outside world only through
// tools the host grants them. A sandboxed (wasm) travel agent answers
// requests with two tools: "fx", a currency converter the host defines in
// Go, and "weather/forecast", imported from an external MCP server that the
// example starts as a subprocess over stdio (the example's own binary, run
// in server mode). When the agent tries a tool outside its grant it gets a
// "denied" value, not a crash. Every call is audited.
//
//	go run ./examples/mcp-tools
package main

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/mcp"
	"github.com/caxton-go/caxton/tool"
)

// The travel agent is a Go program compiled to WebAssembly, checked in
// beside its source with a provenance file (assistant.wasm.sum); after
// changing it or the SDK, rebuild it with go generate (or make guests).
//
//go:generate go run github.com/caxton-go/caxton/cmd/caxton-guest build -o assistant/assistant.wasm ./assistant
//go:embed assistant/assistant.wasm
var assistantWasm []byte

// serverEnv switches the binary into MCP-server mode.
const serverEnv = "CAXTON_MCP_TOOLS_WEATHER_SERVER"

func main() {
	if os.Getenv(serverEnv) == "1" {
		if err := serveWeather(context.Background()); err != nil {
			fmt.Fprintln(os.Stderr, "weather server:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(context.Background(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "mcp-tools:", err)
		os.Exit(1)
	}
}

// fx is the host's own tool: a currency converter with fixed rates.
func fx() mcp.Tool {
	rates := map[string]float64{"EUR": 1, "NOK": 11.6, "USD": 1.08}
	return mcp.Tool{
		Name:        "fx",
		Description: "Convert an amount between currencies (EUR, NOK, USD)",
		InputSchema: json.RawMessage(`{"type":"object","properties":{
			"amount":{"type":"number","minimum":0},"from":{"type":"string"},"to":{"type":"string"}},
			"required":["amount","from","to"]}`),
		Handler: func(_ context.Context, call tool.Call) ([]byte, error) {
			var a struct {
				Amount   float64
				From, To string
			}
			if err := json.Unmarshal(call.Arguments, &a); err != nil {
				return nil, err
			}
			rf, ok1 := rates[a.From]
			rt, ok2 := rates[a.To]
			if !ok1 || !ok2 {
				return nil, errors.New("unknown currency")
			}
			return json.Marshal(map[string]float64{"converted": a.Amount / rf * rt})
		},
	}
}

func run(ctx context.Context, w io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()

	reg := mcp.NewRegistry()
	defer reg.Close()
	if err := reg.Add(fx()); err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	weather := mcp.Command(self)
	weather.Env = append(os.Environ(), serverEnv+"=1")
	weather.Stderr = os.Stderr
	if err := reg.Connect(ctx, "weather", weather); err != nil {
		return fmt.Errorf("starting the weather MCP server: %w", err)
	}
	for _, t := range reg.Tools() {
		fmt.Fprintf(w, "tool %-18s from %-7s %s\n", t.Name, t.Source, t.Description)
	}

	rt, err := caxton.New(caxton.WithToolbox(reg))
	if err != nil {
		return err
	}
	defer rt.Close(ctx)
	if err := rt.Spawn(ctx, caxton.AgentSpec{
		Name:  "travel-agent",
		Wasm:  &caxton.WasmSpec{Module: assistantWasm},
		Tools: tool.Grant{Allow: []string{"fx", "weather/*"}, Rate: 20, Timeout: 5 * time.Second},
	}); err != nil {
		return err
	}

	for _, q := range []string{
		`{"city":"Oslo","amount":120,"from":"EUR","to":"NOK"}`,
		`{"city":"Lisbon","amount":300,"from":"NOK","to":"EUR"}`,
		`{"city":"Atlantis","amount":1,"from":"EUR","to":"USD"}`,
		`wipe everything`,
	} {
		reply, err := rt.Request(ctx, &acl.Message{Performative: acl.Request, Receivers: []acl.AgentID{"travel-agent"}, Content: []byte(q)})
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "asked %s\n  → %s: %s\n", q, reply.Performative, reply.Content)
	}
	fmt.Fprintln(w, "audit:")
	for _, a := range reg.Audit() {
		reason := ""
		if a.Error != "" {
			reason = " (" + a.Error + ")"
		}
		fmt.Fprintf(w, "  %s called %-16s → %s%s\n", a.Agent, a.Tool, a.Status, reason)
	}
	return nil
}

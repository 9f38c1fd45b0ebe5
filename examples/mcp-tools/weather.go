package main

// This file is the example's external MCP server, written with the
// official go-sdk. It is a file of its own because the go-sdk's package is
// named mcp, like Caxton's: imports are per file, so each file imports the
// one it uses under its own name and neither needs an alias. A host that
// only uses tools (main.go) never imports the go-sdk.

import (
	"context"
	"fmt"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// serveWeather is the external MCP server: one tool, over stdio.
func serveWeather(ctx context.Context) error {
	s := mcp.NewServer(&mcp.Implementation{Name: "weather", Version: "1.0.0"}, nil)
	type in struct {
		City string `json:"city" jsonschema:"the city to forecast"`
	}
	forecasts := map[string]string{"Oslo": "light snow, -2 °C", "Lisbon": "sunny, 19 °C"}
	mcp.AddTool(s, &mcp.Tool{Name: "forecast", Description: "Tomorrow's weather in a city"},
		func(_ context.Context, _ *mcp.CallToolRequest, a in) (*mcp.CallToolResult, any, error) {
			f, ok := forecasts[a.City]
			if !ok {
				return nil, nil, fmt.Errorf("no forecast for %q", a.City)
			}
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: f}}}, nil, nil
		})
	return s.Run(ctx, &mcp.StdioTransport{})
}

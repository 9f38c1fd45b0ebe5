package telemetry

import "sort"

// MetaCarrier is a TextMapCarrier over an MCP request's "_meta" object
// (params._meta), where the MCP semantic conventions carry W3C trace
// context ("traceparent", "tracestate") and baggage: package mcp injects
// the calling agent's span into its calls to MCP servers, and
// mcp/mcpserver extracts a client's, so a tool call continues the trace
// that made it. Get ignores values that are not strings; Set on a nil map
// does nothing.
type MetaCarrier map[string]any

// Get returns the string stored for key, or "".
func (c MetaCarrier) Get(key string) string {
	s, _ := c[key].(string)
	return s
}

// Set stores value under key.
func (c MetaCarrier) Set(key, value string) {
	if c != nil {
		c[key] = value
	}
}

// Keys lists the keys stored, sorted.
func (c MetaCarrier) Keys() []string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

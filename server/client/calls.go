package client

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/server/api"
)

// Agents lists the agents the caller may see.
func (c *Client) Agents(ctx context.Context) ([]api.AgentStatus, error) {
	var out []api.AgentStatus
	return out, c.do(ctx, "GET", "/v1/agents", nil, &out)
}

// Agent returns one agent's status.
func (c *Client) Agent(ctx context.Context, name string) (api.AgentStatus, error) {
	var out api.AgentStatus
	return out, c.do(ctx, "GET", agentPath(name), nil, &out)
}

// Deploy deploys a wasm agent: module is uploaded, or, if nil, the spec
// names it (Path under the server's module directory, or ModuleBase64).
func (c *Client) Deploy(ctx context.Context, spec api.DeploySpec, module []byte) (api.AgentStatus, error) {
	var out api.AgentStatus
	if module == nil && spec.Path == "" && spec.ModuleBase64 == "" {
		return out, errNoModule
	}
	b, err := uploadBody(spec, module)
	if err != nil {
		return out, err
	}
	return out, c.do(ctx, "POST", "/v1/agents", b, &out)
}

// Upgrade moves an agent to a new module (as in Deploy) with the spec's
// strategy, and returns when the new version took over or was rolled
// back (then the error matches api.ErrConflict, of type …/rolled-back).
func (c *Client) Upgrade(ctx context.Context, name string, spec api.UpgradeSpec, module []byte) (api.AgentStatus, error) {
	var out api.AgentStatus
	if module == nil && spec.Path == "" && spec.ModuleBase64 == "" {
		return out, errNoModule
	}
	b, err := uploadBody(spec, module)
	if err != nil {
		return out, err
	}
	return out, c.do(ctx, "POST", agentPath(name, "/upgrade"), b, &out)
}

// Remove removes an agent; its queued messages are dead-lettered.
func (c *Client) Remove(ctx context.Context, name string) error {
	return c.do(ctx, "DELETE", agentPath(name), nil, nil)
}

// Stop stops an agent after its current message (force: at once,
// cancelling it); messages sent to it queue up.
func (c *Client) Stop(ctx context.Context, name string, force bool) (api.AgentStatus, error) {
	p := agentPath(name, "/stop")
	if force {
		p += "?force=true"
	}
	var out api.AgentStatus
	return out, c.do(ctx, "POST", p, nil, &out)
}

// Start starts a stopped or failed agent.
func (c *Client) Start(ctx context.Context, name string) (api.AgentStatus, error) {
	return c.action(ctx, name, "start")
}

// Restart replaces an agent's instances.
func (c *Client) Restart(ctx context.Context, name string) (api.AgentStatus, error) {
	return c.action(ctx, name, "restart")
}

// Rollback gives up the upgrade in progress, or returns to the version
// before the last upgrade.
func (c *Client) Rollback(ctx context.Context, name string) (api.AgentStatus, error) {
	return c.action(ctx, name, "rollback")
}

func (c *Client) action(ctx context.Context, name, action string) (api.AgentStatus, error) {
	var out api.AgentStatus
	return out, c.do(ctx, "POST", agentPath(name, "/"+action), nil, &out)
}

// Scale sets the number of an agent's instances.
func (c *Client) Scale(ctx context.Context, name string, replicas int) (api.AgentStatus, error) {
	b, err := jsonBody(api.ScaleSpec{Replicas: replicas})
	if err != nil {
		return api.AgentStatus{}, err
	}
	var out api.AgentStatus
	return out, c.do(ctx, "POST", agentPath(name, "/scale"), b, &out)
}

// Send sends m (from the server's host inbox, or from the caller when m
// names its subject as sender) and returns the id the runtime stamped.
func (c *Client) Send(ctx context.Context, m *acl.Message) (string, error) {
	b, err := acl.Marshal(m)
	if err != nil {
		return "", err
	}
	return c.SendRaw(ctx, "application/json", b)
}

// SendRaw sends a message body as written: JSON in any form the API takes
// (contentType "application/json") or the FIPA ACL string form
// ("text/fipa-acl").
func (c *Client) SendRaw(ctx context.Context, contentType string, msg []byte) (string, error) {
	var out api.SendResult
	return out.ID, c.do(ctx, "POST", "/v1/messages", &body{bytes.NewReader(msg), contentType}, &out)
}

// Request sends m and waits for the reply; timeout 0 takes the server's
// default (30s). No reply in time is an error matching api.ErrNoReply; a
// dead-lettered request one matching api.ErrDeadLettered.
func (c *Client) Request(ctx context.Context, m *acl.Message, timeout time.Duration) (*acl.Message, error) {
	b, err := acl.Marshal(m)
	if err != nil {
		return nil, err
	}
	raw, err := c.RequestRaw(ctx, "application/json", b, timeout)
	if err != nil {
		return nil, err
	}
	return acl.Unmarshal(raw)
}

// RequestRaw is Request with a body as written (see SendRaw); the reply
// comes as JSON.
func (c *Client) RequestRaw(ctx context.Context, contentType string, msg []byte, timeout time.Duration) ([]byte, error) {
	p := "/v1/requests"
	if timeout > 0 {
		p += "?timeout=" + url.QueryEscape(timeout.String())
	}
	var out json.RawMessage
	return out, c.do(ctx, "POST", p, &body{bytes.NewReader(msg), contentType}, &out)
}

// DeadLetters lists the dead letters the caller may see.
func (c *Client) DeadLetters(ctx context.Context) ([]api.DeadLetterView, error) {
	var out []api.DeadLetterView
	return out, c.do(ctx, "GET", "/v1/deadletters", nil, &out)
}

// ReplayDeadLetters sends dead letters to their receivers again and
// returns how many.
func (c *Client) ReplayDeadLetters(ctx context.Context, sel api.DeadLetterIDs) (int, error) {
	return c.deadLetters(ctx, "replay", sel)
}

// PurgeDeadLetters deletes dead letters and returns how many.
func (c *Client) PurgeDeadLetters(ctx context.Context, sel api.DeadLetterIDs) (int, error) {
	return c.deadLetters(ctx, "purge", sel)
}

func (c *Client) deadLetters(ctx context.Context, action string, sel api.DeadLetterIDs) (int, error) {
	b, err := jsonBody(sel)
	if err != nil {
		return 0, err
	}
	var out api.DeadLetterResult
	return out.Count, c.do(ctx, "POST", "/v1/deadletters/"+action, b, &out)
}

// Logs returns an agent's recent log records; since is a duration ("1h")
// or an RFC 3339 time, "" for all kept.
func (c *Client) Logs(ctx context.Context, name, since string) ([]api.LogView, error) {
	var out []api.LogView
	return out, c.do(ctx, "GET", agentPath(name, "/logs?", url.Values{"since": {since}}.Encode()), nil, &out)
}

// FollowLogs calls fn with an agent's log records — the kept ones since
// since, then new ones as they come — until ctx ends (then it returns
// nil), the stream ends, or fn returns an error.
func (c *Client) FollowLogs(ctx context.Context, name, since string, fn func(api.LogView) error) error {
	q := url.Values{"follow": {"true"}}
	if since != "" {
		q.Set("since", since)
	}
	return c.stream(ctx, agentPath(name, "/logs?", q.Encode()), nil, func(data []byte) error {
		var l api.LogView
		if err := json.Unmarshal(data, &l); err != nil {
			return err
		}
		return fn(l)
	})
}

// Events calls fn with lifecycle events (of agent, or of all agents the
// caller may see when agent is "") as they happen, until ctx ends, the
// stream ends, or fn returns an error. opened, if not nil, is called once
// the server answered, so that the caller can act knowing no later
// event will be missed.
func (c *Client) Events(ctx context.Context, agent string, opened func(), fn func(api.EventView) error) error {
	p := "/v1/events"
	if agent != "" {
		p += "?agent=" + url.QueryEscape(agent)
	}
	return c.stream(ctx, p, opened, func(data []byte) error {
		var ev api.EventView
		if err := json.Unmarshal(data, &ev); err != nil {
			return err
		}
		return fn(ev)
	})
}

// Audit returns the server's recent audit records (admins).
func (c *Client) Audit(ctx context.Context) ([]api.AuditRecord, error) {
	var out []api.AuditRecord
	return out, c.do(ctx, "GET", "/v1/audit", nil, &out)
}

// stream reads Server-Sent Events from path and hands each data event to
// fn; an "error" event (the server's problem) ends it with that error.
func (c *Client) stream(ctx context.Context, path string, opened func(), fn func(data []byte) error) error {
	hc := *c.hc
	hc.Timeout = 0 // a stream lasts; ctx bounds it
	resp, err := c.send(ctx, &hc, "GET", path, nil, "text/event-stream")
	if opened != nil {
		opened()
	}
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	var event string
	var data []byte
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			event = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			data = []byte(strings.TrimPrefix(line, "data: "))
		case line == "" && event != "":
			if event == "error" {
				var p api.Problem
				if json.Unmarshal(data, &p) != nil || p.Status == 0 {
					p = api.Problem{Status: http.StatusInternalServerError, Title: "Stream error", Detail: string(data)}
				}
				return &p
			}
			if err := fn(data); err != nil {
				return err
			}
			event, data = "", nil
		}
	}
	if err := sc.Err(); err != nil && ctx.Err() == nil && !errors.Is(err, context.Canceled) {
		return &UnreachableError{err}
	}
	return nil
}

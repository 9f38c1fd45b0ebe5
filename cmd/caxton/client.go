package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/caxton-go/caxton/server"
)

// client calls the management API.
type client struct {
	base  string
	token string
	hc    *http.Client
}

// unreachableError is a call that never got an answer.
type unreachableError struct{ err error }

func (e *unreachableError) Error() string { return "cannot reach the server: " + e.err.Error() }
func (e *unreachableError) Unwrap() error { return e.err }

// do sends body (JSON-encoded unless it is an io.Reader with contentType)
// and decodes a 2xx answer into out; any other answer is returned as the
// server's *server.Problem.
func (c *client) do(ctx context.Context, method, path string, body any, contentType string, out any) error {
	resp, err := c.send(ctx, method, path, body, contentType, "")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil || resp.StatusCode == http.StatusNoContent {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil
	}
	if raw, ok := out.(*json.RawMessage); ok {
		b, err := io.ReadAll(resp.Body)
		*raw = b
		return err
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// send makes the call and returns a 2xx response; the caller closes it.
func (c *client) send(ctx context.Context, method, path string, body any, contentType, accept string) (*http.Response, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case io.Reader:
		rd = b
	default:
		j, err := json.Marshal(b)
		if err != nil {
			return nil, err
		}
		rd, contentType = bytes.NewReader(j), "application/json"
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.base, "/")+path, rd)
	if err != nil {
		return nil, usageErr(fmt.Errorf("server address %q: %w", c.base, err))
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &unreachableError{err}
	}
	if resp.StatusCode/100 == 2 {
		return resp, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var p server.Problem
	if err := json.Unmarshal(b, &p); err != nil || p.Status == 0 {
		p = server.Problem{Status: resp.StatusCode, Title: http.StatusText(resp.StatusCode), Detail: strings.TrimSpace(string(b))}
	}
	return nil, &p
}

// stream reads Server-Sent Events from path and calls fn with each
// event's name and data until the stream or ctx ends, or fn returns an
// error. opened, if not nil, is called once the server answered (or the
// call failed), so that a caller can wait for the stream before acting.
func (c *client) stream(ctx context.Context, path string, opened func(), fn func(event string, data []byte) error) error {
	resp, err := c.send(ctx, "GET", path, nil, "", "text/event-stream")
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
			if err := fn(event, data); err != nil {
				return err
			}
			event, data = "", nil
		}
	}
	if err := sc.Err(); err != nil && ctx.Err() == nil && !errors.Is(err, context.Canceled) {
		return &unreachableError{err}
	}
	return nil
}

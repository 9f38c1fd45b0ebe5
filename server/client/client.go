// Package client is a Go client of the Caxton management API (package
// server; cmd/caxton's CLI is built on it). Every failure the server
// answers is returned as its *api.Problem, which matches the api
// package's sentinels with errors.Is (api.ErrNotFound for a 404, ...) and
// names the field or agent at fault; a server that cannot be reached is
// an *UnreachableError. It imports no runtime: a client does not compile
// wasmtime.
//
//	c, _ := client.New("https://caxton.internal:7070", client.WithToken(tok))
//	st, err := c.Deploy(ctx, api.DeploySpec{Name: "echo"}, module)
//	m := acl.New(acl.Request, "echo")
//	m.Content = []byte("hi")
//	reply, err := c.Request(ctx, m, 5*time.Second)
//	if errors.Is(err, api.ErrNoReply) { ... }
//
// Join makes the client an agent on the server's bus over the WebSocket
// gateway (a Session).
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"

	"github.com/caxton-go/caxton/server/api"
)

// Client calls one server's API. It is safe for concurrent use.
type Client struct {
	base  *url.URL
	token string
	hc    *http.Client
}

// Option configures a Client (New).
type Option func(*Client) error

// WithToken sends token as the bearer credential of every call (a static
// token or a JWT).
func WithToken(token string) Option {
	return func(c *Client) error {
		c.token = token
		return nil
	}
}

// WithHTTPClient makes the calls with hc (TLS settings, timeouts, a
// proxy). Streams (FollowLogs, Events) and Join ignore hc's Timeout,
// which would cut them; bound them with their context.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) error {
		if hc == nil {
			return &FieldError{Field: "WithHTTPClient", Reason: "must not be nil"}
		}
		c.hc = hc
		return nil
	}
}

// FieldError is a bad argument to New or an option, by name.
type FieldError struct {
	Field, Reason string
}

func (e *FieldError) Error() string { return "client: invalid " + e.Field + ": " + e.Reason }

// UnreachableError is a call that got no answer from the server (it is
// down, the address is wrong, the connection broke).
type UnreachableError struct{ Err error }

func (e *UnreachableError) Error() string { return "cannot reach the server: " + e.Err.Error() }

// Unwrap returns the transport's error.
func (e *UnreachableError) Unwrap() error { return e.Err }

// New returns a client of the server at baseURL ("http://127.0.0.1:7070").
func New(baseURL string, opts ...Option) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, &FieldError{Field: "baseURL", Reason: fmt.Sprintf("want http(s)://host[:port], got %q", baseURL)}
	}
	u.Path = strings.TrimRight(u.Path, "/")
	c := &Client{base: u, hc: http.DefaultClient}
	for _, o := range opts {
		if err := o(c); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// body is a request body and its media type.
type body struct {
	r  io.Reader
	ct string
}

func jsonBody(v any) (*body, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return &body{bytes.NewReader(b), "application/json"}, nil
}

// do makes a call and decodes a 2xx answer into out (if not nil).
func (c *Client) do(ctx context.Context, method, path string, b *body, out any) error {
	resp, err := c.send(ctx, c.hc, method, path, b, "")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil || resp.StatusCode == http.StatusNoContent {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return &UnreachableError{fmt.Errorf("reading the answer to %s %s: %w", method, path, err)}
	}
	return nil
}

// send makes a call and returns its 2xx response (the caller closes it);
// another answer is returned as its *api.Problem.
func (c *Client) send(ctx context.Context, hc *http.Client, method, path string, b *body, accept string) (*http.Response, error) {
	var rd io.Reader
	if b != nil {
		rd = b.r
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base.String()+path, rd)
	if err != nil {
		return nil, err
	}
	if b != nil {
		req.Header.Set("Content-Type", b.ct)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &UnreachableError{err}
	}
	if resp.StatusCode/100 == 2 {
		return resp, nil
	}
	defer resp.Body.Close()
	return nil, problemOf(resp)
}

// problemOf reads an error answer as problem details; an answer that is
// not one (a proxy's page) becomes a Problem with its status and text.
func problemOf(resp *http.Response) *api.Problem {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var p api.Problem
	if err := json.Unmarshal(b, &p); err != nil || p.Status == 0 {
		p = api.Problem{Status: resp.StatusCode, Title: http.StatusText(resp.StatusCode), Detail: strings.TrimSpace(string(b))}
	}
	return &p
}

func agentPath(name string, rest ...string) string {
	return "/v1/agents/" + url.PathEscape(name) + strings.Join(rest, "")
}

// uploadBody is a multipart body with the spec and the module, or the
// spec alone as JSON (a module named by path, or in module_base64).
func uploadBody(spec any, module []byte) (*body, error) {
	if module == nil {
		return jsonBody(spec)
	}
	j, err := json.Marshal(spec)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	if err := mw.WriteField("spec", string(j)); err != nil {
		return nil, err
	}
	part, err := mw.CreateFormFile("module", "module.wasm")
	if err != nil {
		return nil, err
	}
	if _, err := part.Write(module); err != nil {
		return nil, err
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	return &body{&b, mw.FormDataContentType()}, nil
}

// errNoModule: Deploy or Upgrade got neither a module nor a path.
var errNoModule = errors.New("client: give the module's bytes, or name it by spec.Path or spec.ModuleBase64")

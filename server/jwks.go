package server

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// RemoteJWKS is a JWKS document an identity provider publishes at a URL,
// fetched at start and again when keys rotate: a token naming a key id
// the set does not hold makes it fetch the document again (the provider
// has published a new key), at most once per MinRefresh however many such
// tokens arrive, and a set older than MaxAge is fetched again on the next
// use (concurrent requests wait for one fetch). A refresh replaces the set, so a key the provider withdrew stops
// verifying; a refresh that fails keeps the set it had (and is retried
// after MinRefresh), so an unreachable provider does not lock everybody
// out. It is safe for concurrent use.
type RemoteJWKS struct {
	url        string
	client     *http.Client
	minRefresh time.Duration
	maxAge     time.Duration
	now        func() time.Time

	mu       sync.Mutex
	keys     *KeySet
	fetched  time.Time     // when keys were fetched
	tried    time.Time     // the last attempt, successful or not
	inFlight chan struct{} // closed when the running fetch ends; nil when none runs
	lastErr  error
}

// JWKSOption configures a RemoteJWKS.
type JWKSOption func(*RemoteJWKS) error

// The defaults of a RemoteJWKS.
const (
	DefaultJWKSMinRefresh = 30 * time.Second
	DefaultJWKSMaxAge     = time.Hour
	DefaultJWKSTimeout    = 10 * time.Second
	maxJWKSBytes          = 1 << 20
)

// WithJWKSRefresh sets the least time between two fetches (default 30s:
// the bound on what tokens with made-up key ids can make the server do)
// and the age after which the set is fetched again (default 1h).
func WithJWKSRefresh(minRefresh, maxAge time.Duration) JWKSOption {
	return func(r *RemoteJWKS) error {
		if minRefresh <= 0 || maxAge < minRefresh {
			return fieldErr("WithJWKSRefresh", "want 0 < minRefresh ≤ maxAge, got %v and %v", minRefresh, maxAge)
		}
		r.minRefresh, r.maxAge = minRefresh, maxAge
		return nil
	}
}

// WithJWKSClient fetches with c (for a private CA, a proxy, a timeout
// other than the default 10s).
func WithJWKSClient(c *http.Client) JWKSOption {
	return func(r *RemoteJWKS) error {
		if c == nil {
			return fieldErr("WithJWKSClient", "must not be nil")
		}
		r.client = c
		return nil
	}
}

// WithJWKSClock sets the clock that ages the set (default time.Now).
func WithJWKSClock(now func() time.Time) JWKSOption {
	return func(r *RemoteJWKS) error {
		if now == nil {
			return fieldErr("WithJWKSClock", "must not be nil")
		}
		r.now = now
		return nil
	}
}

// NewRemoteJWKS fetches the JWKS document at rawURL and returns the set,
// which refreshes itself as described on RemoteJWKS. The URL must be
// https, or http to a loopback address (a provider on the same host):
// keys fetched in the clear from elsewhere could be anyone's.
func NewRemoteJWKS(ctx context.Context, rawURL string, opts ...JWKSOption) (*RemoteJWKS, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return nil, fieldErr("jwks_url", "want an absolute URL, got %q", rawURL)
	}
	if u.Scheme != "https" && (u.Scheme != "http" || !isLoopback(u.Hostname())) {
		return nil, fieldErr("jwks_url", "want https (http only to a loopback address), got %q", rawURL)
	}
	r := &RemoteJWKS{url: u.String(), client: &http.Client{Timeout: DefaultJWKSTimeout},
		minRefresh: DefaultJWKSMinRefresh, maxAge: DefaultJWKSMaxAge, now: time.Now}
	for _, o := range opts {
		if err := o(r); err != nil {
			return nil, err
		}
	}
	r.mu.Lock()
	r.tried = r.now()
	r.mu.Unlock()
	ks, err := r.fetch(ctx)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.keys, r.fetched = ks, r.tried
	r.mu.Unlock()
	return r, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Keys returns the current set.
func (r *RemoteJWKS) Keys() *KeySet {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.keys
}

// Err returns the error of the last refresh, or nil if it succeeded.
func (r *RemoteJWKS) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lastErr
}

// key returns the key kid names, refreshing the set first if it does not
// hold kid or is older than MaxAge — unless the last attempt was less
// than MinRefresh ago. Concurrent callers share one fetch.
func (r *RemoteJWKS) key(ctx context.Context, kid string) (crypto.PublicKey, bool) {
	r.mu.Lock()
	k, ok := r.keys.keys[kid]
	now := r.now()
	stale := now.Sub(r.fetched) >= r.maxAge
	if (ok && !stale) || (r.inFlight == nil && now.Sub(r.tried) < r.minRefresh) {
		r.mu.Unlock()
		return k, ok
	}
	wait := r.inFlight
	if wait == nil {
		wait = make(chan struct{})
		r.inFlight, r.tried = wait, now
		go r.refresh(wait)
	}
	r.mu.Unlock()
	select {
	case <-wait:
	case <-ctx.Done():
		return nil, false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	k, ok = r.keys.keys[kid]
	return k, ok
}

// refresh fetches the document and installs it; done is closed after.
func (r *RemoteJWKS) refresh(done chan struct{}) {
	ctx, cancel := context.WithTimeout(context.Background(), DefaultJWKSTimeout)
	defer cancel()
	ks, err := r.fetch(ctx)
	r.mu.Lock()
	if err == nil {
		r.keys, r.fetched = ks, r.now()
	}
	r.lastErr, r.inFlight = err, nil
	r.mu.Unlock()
	close(done)
}

// fetch gets and parses the document, bounded in size.
func (r *RemoteJWKS) fetch(ctx context.Context) (*KeySet, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.url, nil)
	if err != nil {
		return nil, fieldErr("jwks_url", "%v", err)
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	resp, err := r.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: fetching %s: %v", ErrJWKSUnavailable, r.url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: fetching %s: %s", ErrJWKSUnavailable, r.url, resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w: reading %s: %v", ErrJWKSUnavailable, r.url, err)
	}
	if len(b) > maxJWKSBytes {
		return nil, fmt.Errorf("%w: %s is over %d bytes", ErrJWKSUnavailable, r.url, maxJWKSBytes)
	}
	return ParseJWKS(b)
}

// ErrJWKSUnavailable: the JWKS document could not be fetched (the
// provider is unreachable or answered an error).
var ErrJWKSUnavailable = errors.New("server: JWKS unavailable")

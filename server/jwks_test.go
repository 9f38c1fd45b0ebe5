package server_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/caxton-go/caxton/server"
)

// jwksProvider is a real local identity provider's key endpoint: it
// serves the keys it currently publishes and counts fetches.
type jwksProvider struct {
	mu      sync.Mutex
	keys    map[string]ed25519.PublicKey
	down    bool
	fetches atomic.Int32
	srv     *httptest.Server
}

func newJWKSProvider(t *testing.T) *jwksProvider {
	p := &jwksProvider{keys: map[string]ed25519.PublicKey{}}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.fetches.Add(1)
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.down {
			http.Error(w, "maintenance", http.StatusServiceUnavailable)
			return
		}
		var keys []map[string]string
		for kid, k := range p.keys {
			keys = append(keys, map[string]string{"kty": "OKP", "crv": "Ed25519", "kid": kid, "x": b64.EncodeToString(k)})
		}
		w.Header().Set("Content-Type", "application/jwk-set+json")
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": keys})
	}))
	t.Cleanup(p.srv.Close)
	return p
}

// publish adds a new key under kid (or, with withdraw, removes one).
func (p *jwksProvider) publish(t *testing.T, kid string) ed25519.PrivateKey {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	p.mu.Lock()
	p.keys[kid] = pub
	p.mu.Unlock()
	return priv
}

func (p *jwksProvider) withdraw(kid string) {
	p.mu.Lock()
	delete(p.keys, kid)
	p.mu.Unlock()
}

func (p *jwksProvider) setDown(down bool) {
	p.mu.Lock()
	p.down = down
	p.mu.Unlock()
}

// TestRemoteJWKSFollowsRotation runs a provider that rotates its keys and
// checks that the server follows: a new key is fetched on first sight, a
// withdrawn one stops working after the set's max age, made-up key ids
// cost at most one fetch per MinRefresh, and an unreachable provider
// leaves the known keys working.
func TestRemoteJWKSFollowsRotation(t *testing.T) {
	p := newJWKSProvider(t)
	k1 := p.publish(t, "k1")
	var mu sync.Mutex
	now := time.Unix(1_800_000_000, 0)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }

	remote, err := server.NewRemoteJWKS(t.Context(), p.srv.URL+"/jwks.json",
		server.WithJWKSRefresh(time.Minute, time.Hour), server.WithJWKSClock(clock))
	require.NoError(t, err)
	require.EqualValues(t, 1, p.fetches.Load())
	auth, err := server.JWT(server.JWTConfig{Remote: remote, Now: clock})
	require.NoError(t, err)

	check := func(kid string, key ed25519.PrivateKey) error {
		tok := signJWT(t, map[string]any{"alg": "EdDSA", "kid": kid},
			map[string]any{"sub": "carol", "role": "viewer", "exp": clock().Add(time.Hour).Unix()}, key)
		req, _ := http.NewRequestWithContext(t.Context(), "GET", "/", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		_, err := auth(req)
		return err
	}
	require.NoError(t, check("k1", k1))
	assert.EqualValues(t, 1, p.fetches.Load(), "a known key costs no fetch")

	// The provider rotates: k2 appears. A token signed by k2 right after the
	// start waits for MinRefresh (a made-up kid must not buy a fetch per
	// request), then is accepted after one fetch.
	k2 := p.publish(t, "k2")
	require.ErrorIs(t, check("k2", k2), server.ErrUnauthorized)
	assert.EqualValues(t, 1, p.fetches.Load())
	advance(time.Minute)
	require.NoError(t, check("k2", k2))
	assert.EqualValues(t, 2, p.fetches.Load())

	// A flood of made-up key ids, concurrently, within one MinRefresh:
	// one fetch at most, all refused.
	advance(time.Minute)
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			assert.ErrorIs(t, check("made-up-"+string(rune('a'+i%26)), k1), server.ErrUnauthorized)
		})
	}
	wg.Wait()
	assert.EqualValues(t, 3, p.fetches.Load())

	// The provider withdraws k1: it works until the set's max age, then not.
	p.withdraw("k1")
	require.NoError(t, check("k1", k1))
	advance(time.Hour)
	require.ErrorIs(t, check("k1", k1), server.ErrUnauthorized)
	require.NoError(t, check("k2", k2))
	assert.EqualValues(t, 4, p.fetches.Load())

	// The provider goes down: known keys keep working; the failed refresh
	// is reported.
	p.setDown(true)
	advance(time.Hour)
	require.NoError(t, check("k2", k2))
	assert.ErrorIs(t, remote.Err(), server.ErrJWKSUnavailable)
	k3 := p.publish(t, "k3")
	p.setDown(false)
	require.ErrorIs(t, check("k3", k3), server.ErrUnauthorized, "within MinRefresh of the failed attempt")
	advance(time.Minute)
	require.NoError(t, check("k3", k3))
	assert.NoError(t, remote.Err())
}

func TestRemoteJWKSRefusesBadSources(t *testing.T) {
	p := newJWKSProvider(t)
	_, err := server.NewRemoteJWKS(t.Context(), p.srv.URL)
	var fe *server.FieldError
	require.ErrorAs(t, err, &fe, "a provider publishing no keys")
	assert.Equal(t, "jwks.keys", fe.Field)

	for _, u := range []string{"http://idp.example.com/jwks.json", "ftp://127.0.0.1/x", "/relative"} {
		_, err = server.NewRemoteJWKS(t.Context(), u)
		require.ErrorAs(t, err, &fe, u)
		assert.Equal(t, "jwks_url", fe.Field)
	}
	p.publish(t, "k1")
	p.setDown(true)
	_, err = server.NewRemoteJWKS(t.Context(), p.srv.URL)
	assert.ErrorIs(t, err, server.ErrJWKSUnavailable)

	_, err = server.JWT(server.JWTConfig{})
	assert.ErrorAs(t, err, &fe)
}

package server_test

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"testing"
	"time"

	"github.com/caxton-go/caxton/server"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var b64 = base64.RawURLEncoding

// signJWT makes a compact JWS with the given header and claims.
func signJWT(t *testing.T, hdr, claims map[string]any, key crypto.Signer) string {
	t.Helper()
	h, err := json.Marshal(hdr)
	require.NoError(t, err)
	c, err := json.Marshal(claims)
	require.NoError(t, err)
	signed := b64.EncodeToString(h) + "." + b64.EncodeToString(c)
	var sig []byte
	switch k := key.(type) {
	case ed25519.PrivateKey:
		sig = ed25519.Sign(k, []byte(signed))
	case *rsa.PrivateKey:
		sum := sha256.Sum256([]byte(signed))
		sig, err = rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, sum[:])
		require.NoError(t, err)
	}
	return signed + "." + b64.EncodeToString(sig)
}

func TestJWTAuthenticator(t *testing.T) {
	edPub, edKey, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	_, otherEd, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	jwks, err := json.Marshal(map[string]any{"keys": []map[string]string{
		{"kty": "OKP", "crv": "Ed25519", "kid": "ed", "x": b64.EncodeToString(edPub)},
		{"kty": "RSA", "kid": "rsa", "alg": "RS256", "n": b64.EncodeToString(rsaKey.N.Bytes()), "e": b64.EncodeToString(big.NewInt(int64(rsaKey.E)).Bytes())},
	}})
	require.NoError(t, err)
	keys, err := server.ParseJWKS(jwks)
	require.NoError(t, err)
	now := time.Unix(1_800_000_000, 0)
	auth, err := server.JWT(server.JWTConfig{Keys: keys, Issuer: "https://idp", Audience: "caxton", Now: func() time.Time { return now }})
	require.NoError(t, err)

	claims := func(over map[string]any) map[string]any {
		c := map[string]any{"sub": "carol", "iss": "https://idp", "aud": []string{"caxton"}, "exp": now.Add(time.Hour).Unix(), "role": "operator"}
		for k, v := range over {
			if v == nil {
				delete(c, k)
			} else {
				c[k] = v
			}
		}
		return c
	}
	ed := map[string]any{"alg": "EdDSA", "kid": "ed", "typ": "JWT"}
	rs := map[string]any{"alg": "RS256", "kid": "rsa"}
	for _, tc := range []struct {
		name string
		tok  string
		ok   bool
	}{
		{"EdDSA", signJWT(t, ed, claims(nil), edKey), true},
		{"RS256", signJWT(t, rs, claims(nil), rsaKey), true},
		{"audience as a string", signJWT(t, ed, claims(map[string]any{"aud": "caxton"}), edKey), true},
		{"expired", signJWT(t, ed, claims(map[string]any{"exp": now.Add(-time.Second).Unix()}), edKey), false},
		{"no exp", signJWT(t, ed, claims(map[string]any{"exp": nil}), edKey), false},
		{"not yet valid", signJWT(t, ed, claims(map[string]any{"nbf": now.Add(time.Minute).Unix()}), edKey), false},
		{"other issuer", signJWT(t, ed, claims(map[string]any{"iss": "https://evil"}), edKey), false},
		{"other audience", signJWT(t, ed, claims(map[string]any{"aud": "other"}), edKey), false},
		{"no subject", signJWT(t, ed, claims(map[string]any{"sub": nil}), edKey), false},
		{"no role", signJWT(t, ed, claims(map[string]any{"role": nil}), edKey), false},
		{"unknown role", signJWT(t, ed, claims(map[string]any{"role": "root"}), edKey), false},
		{"signed by another key", signJWT(t, ed, claims(nil), otherEd), false},
		{"alg does not match the key", signJWT(t, map[string]any{"alg": "RS256", "kid": "ed"}, claims(nil), edKey), false},
		{"unknown kid", signJWT(t, map[string]any{"alg": "EdDSA", "kid": "nope"}, claims(nil), edKey), false},
		{"alg none", b64.EncodeToString([]byte(`{"alg":"none","kid":"ed"}`)) + "." + b64.EncodeToString([]byte(`{"sub":"x","role":"admin","exp":9999999999}`)) + ".", false},
		{"garbage", "a.b.c", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", "/", nil)
			req.Header.Set("Authorization", "Bearer "+tc.tok)
			id, err := auth(req)
			if !tc.ok {
				require.ErrorIs(t, err, server.ErrUnauthorized)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, "carol", id.Subject)
			assert.Equal(t, server.RoleOperator, id.Role)
		})
	}

	// Scoped by the agents claim, through the API, beside static tokens.
	f := newFixture(t, nil)
	static := testTokens(t)
	api, err := server.New(f.rt, server.WithAuthenticator(server.FirstOf(static, auth)))
	require.NoError(t, err)
	f.deploy("echo", echoWasm, nil)
	scoped := signJWT(t, ed, claims(map[string]any{"agents": []string{"echo"}, "role": "viewer"}), edKey)
	for _, tc := range []struct {
		tok, path string
		want      int
	}{
		{scoped, "/v1/agents/echo", http.StatusOK},
		{scoped, "/v1/agents/other", http.StatusForbidden},
		{viewerToken, "/v1/agents/echo", http.StatusOK},
		{"x.y.z", "/v1/agents/echo", http.StatusUnauthorized},
	} {
		req, _ := http.NewRequest("GET", tc.path, nil)
		req.Header.Set("Authorization", "Bearer "+tc.tok)
		rec := newRecorder()
		api.ServeHTTP(rec, req)
		assert.Equal(t, tc.want, rec.Code, "%s %s", tc.path, rec.Body)
	}
}

func TestParseJWKSRefusesBadKeys(t *testing.T) {
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	for _, tc := range []struct{ name, doc, field string }{
		{"no keys", `{"keys":[]}`, "jwks.keys"},
		{"no kid", `{"keys":[{"kty":"OKP","crv":"Ed25519","x":"` + b64.EncodeToString(make([]byte, 32)) + `"}]}`, "keys[0].kid"},
		{"symmetric", `{"keys":[{"kty":"oct","kid":"k","k":"c2VjcmV0"}]}`, "keys[0].kty"},
		{"short ed25519", `{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"k","x":"AAAA"}]}`, "keys[0].x"},
		{"small rsa", `{"keys":[{"kty":"RSA","kid":"k","n":"` + b64.EncodeToString(small.N.Bytes()) + `","e":"AQAB"}]}`, "keys[0].n"},
		{"encryption key", `{"keys":[{"kty":"RSA","kid":"k","use":"enc"}]}`, "keys[0].use"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := server.ParseJWKS([]byte(tc.doc))
			var fe *server.FieldError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, tc.field, fe.Field)
		})
	}
}

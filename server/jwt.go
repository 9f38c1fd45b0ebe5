package server

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/caxton-go/caxton/acl"
)

// KeySet is a set of public keys that sign bearer JWTs, read from a JWKS
// document (RFC 7517): Ed25519 keys ("kty": "OKP", "crv": "Ed25519") for
// EdDSA and RSA keys of at least 2048 bits for RS256.
type KeySet struct {
	keys map[string]crypto.PublicKey // by kid
}

// MinRSABits is the smallest RSA key a KeySet accepts.
const MinRSABits = 2048

// ParseJWKS reads a JWKS document ({"keys": [...]}). Every key needs a
// "kid" (tokens name their key), and keys of other types, curves or uses
// are refused with a *FieldError naming the key ("keys[1].crv") rather
// than skipped.
func ParseJWKS(b []byte) (*KeySet, error) {
	var doc struct {
		Keys []struct {
			Kty, Kid, Crv, X, N, E, Alg, Use string
		} `json:"keys"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fieldErr("jwks", "not a JWKS document: %v", err)
	}
	if len(doc.Keys) == 0 {
		return nil, fieldErr("jwks.keys", "no keys")
	}
	ks := &KeySet{keys: map[string]crypto.PublicKey{}}
	for i, k := range doc.Keys {
		field := fmt.Sprintf("keys[%d]", i)
		switch {
		case k.Kid == "":
			return nil, fieldErr(field+".kid", "required")
		case ks.keys[k.Kid] != nil:
			return nil, fieldErr(field+".kid", "%q is used twice", k.Kid)
		case k.Use != "" && k.Use != "sig":
			return nil, fieldErr(field+".use", "want sig, got %q", k.Use)
		}
		switch k.Kty {
		case "OKP":
			if k.Crv != "Ed25519" || (k.Alg != "" && k.Alg != "EdDSA") {
				return nil, fieldErr(field+".crv", "want an Ed25519 key for EdDSA, got crv %q alg %q", k.Crv, k.Alg)
			}
			x, err := base64.RawURLEncoding.DecodeString(k.X)
			if err != nil || len(x) != ed25519.PublicKeySize {
				return nil, fieldErr(field+".x", "want a 32-byte base64url Ed25519 key")
			}
			ks.keys[k.Kid] = ed25519.PublicKey(x)
		case "RSA":
			if k.Alg != "" && k.Alg != "RS256" {
				return nil, fieldErr(field+".alg", "want RS256, got %q", k.Alg)
			}
			n, err1 := base64.RawURLEncoding.DecodeString(k.N)
			e, err2 := base64.RawURLEncoding.DecodeString(k.E)
			if err1 != nil || err2 != nil || len(e) == 0 || len(e) > 4 {
				return nil, fieldErr(field+".n", "want base64url modulus and exponent")
			}
			pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
			if pub.N.BitLen() < MinRSABits || pub.E < 3 {
				return nil, fieldErr(field+".n", "RSA keys must have at least %d bits", MinRSABits)
			}
			ks.keys[k.Kid] = pub
		default:
			return nil, fieldErr(field+".kty", "want OKP (Ed25519) or RSA, got %q", k.Kty)
		}
	}
	return ks, nil
}

// JWTConfig says which bearer JWTs JWT accepts and how their claims map
// to an Identity: "sub" is the subject, the role claim ("role" by
// default) a role name, and the agents claim ("agents"), if present, the
// agents the token is scoped to. "exp" is required.
type JWTConfig struct {
	// Keys are the signing keys (a JWKS file: ParseJWKS) — or, instead,
	// Remote: a JWKS URL, refreshed when keys rotate (NewRemoteJWKS).
	Keys        *KeySet
	Remote      *RemoteJWKS
	Issuer      string        // if set, "iss" must equal it
	Audience    string        // if set, "aud" must contain it
	RoleClaim   string        // default "role"
	AgentsClaim string        // default "agents"
	Leeway      time.Duration // clock skew allowed on exp and nbf (default 0)
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// maxJWT bounds the token a request may carry.
const maxJWT = 8 << 10

// JWT returns an Authenticator for bearer JWTs signed with EdDSA
// (Ed25519) or RS256 by a key of cfg.Keys. The key a token names ("kid")
// decides the algorithm, so a token cannot pick a weaker one ("none",
// HS256 with a public key as secret): a header whose "alg" does not match
// its key is refused.
func JWT(cfg JWTConfig) (Authenticator, error) {
	switch {
	case cfg.Keys != nil && cfg.Remote != nil:
		return nil, fieldErr("Keys", "give Keys or Remote, not both")
	case cfg.Remote == nil && (cfg.Keys == nil || len(cfg.Keys.keys) == 0):
		return nil, fieldErr("Keys", "required (or Remote)")
	}
	if cfg.RoleClaim == "" {
		cfg.RoleClaim = "role"
	}
	if cfg.AgentsClaim == "" {
		cfg.AgentsClaim = "agents"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return func(r *http.Request) (Identity, error) {
		tok, ok := BearerToken(r)
		if !ok {
			return Identity{}, fmt.Errorf("%w: no bearer token (send Authorization: Bearer <jwt>)", ErrUnauthorized)
		}
		id, err := cfg.verify(r.Context(), tok)
		if err != nil {
			return Identity{}, fmt.Errorf("%w: %v", ErrUnauthorized, err)
		}
		return id, nil
	}, nil
}

// verify checks a compact JWS and maps its claims.
func (cfg *JWTConfig) verify(ctx context.Context, tok string) (Identity, error) {
	if len(tok) > maxJWT {
		return Identity{}, fmt.Errorf("token over %d bytes", maxJWT)
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return Identity{}, fmt.Errorf("not a JWT")
	}
	var hdr struct {
		Alg, Kid, Typ string
		Crit          []string
	}
	if err := decodeSegment(parts[0], &hdr); err != nil {
		return Identity{}, fmt.Errorf("header: %v", err)
	}
	if len(hdr.Crit) > 0 {
		return Identity{}, fmt.Errorf("header: unsupported critical extensions %q", hdr.Crit)
	}
	var key crypto.PublicKey
	var ok bool
	if cfg.Remote != nil {
		key, ok = cfg.Remote.key(ctx, hdr.Kid)
	} else {
		key, ok = cfg.Keys.keys[hdr.Kid]
	}
	if !ok {
		return Identity{}, fmt.Errorf("unknown key %q", hdr.Kid)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return Identity{}, fmt.Errorf("signature: not base64url")
	}
	signed := []byte(parts[0] + "." + parts[1])
	switch k := key.(type) {
	case ed25519.PublicKey:
		if hdr.Alg != "EdDSA" || !ed25519.Verify(k, signed, sig) {
			return Identity{}, fmt.Errorf("bad signature")
		}
	case *rsa.PublicKey:
		sum := sha256.Sum256(signed)
		if hdr.Alg != "RS256" || rsa.VerifyPKCS1v15(k, crypto.SHA256, sum[:], sig) != nil {
			return Identity{}, fmt.Errorf("bad signature")
		}
	}
	var claims map[string]json.RawMessage
	if err := decodeSegment(parts[1], &claims); err != nil {
		return Identity{}, fmt.Errorf("claims: %v", err)
	}
	var sub, iss, role string
	var exp, nbf *float64
	var aud, agents []string
	get := func(name string, v any) error {
		raw, ok := claims[name]
		if !ok {
			return nil
		}
		if err := json.Unmarshal(raw, v); err != nil {
			return fmt.Errorf("claim %q: %v", name, err)
		}
		return nil
	}
	for name, v := range map[string]any{"sub": &sub, "iss": &iss, "exp": &exp, "nbf": &nbf, cfg.RoleClaim: &role, cfg.AgentsClaim: &agents} {
		if err := get(name, v); err != nil {
			return Identity{}, err
		}
	}
	if raw, ok := claims["aud"]; ok {
		var one string
		if json.Unmarshal(raw, &one) == nil {
			aud = []string{one}
		} else if err := json.Unmarshal(raw, &aud); err != nil {
			return Identity{}, fmt.Errorf("claim \"aud\": want a string or strings")
		}
	}
	now := cfg.Now()
	switch {
	case sub == "":
		return Identity{}, fmt.Errorf("claim \"sub\": required")
	case exp == nil:
		return Identity{}, fmt.Errorf("claim \"exp\": required")
	case now.After(time.Unix(int64(*exp), 0).Add(cfg.Leeway)):
		return Identity{}, fmt.Errorf("token expired")
	case nbf != nil && now.Add(cfg.Leeway).Before(time.Unix(int64(*nbf), 0)):
		return Identity{}, fmt.Errorf("token not valid yet")
	case cfg.Issuer != "" && iss != cfg.Issuer:
		return Identity{}, fmt.Errorf("claim \"iss\": not the expected issuer")
	case cfg.Audience != "" && !slices.Contains(aud, cfg.Audience):
		return Identity{}, fmt.Errorf("claim \"aud\": not for this server")
	}
	r, err := ParseRole(role)
	if err != nil {
		return Identity{}, fmt.Errorf("claim %q: want viewer, operator or admin", cfg.RoleClaim)
	}
	id := Identity{Subject: sub, Role: r}
	for _, a := range agents {
		id.Agents = append(id.Agents, acl.AgentID(a))
	}
	return id, nil
}

func decodeSegment(seg string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return fmt.Errorf("not base64url")
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("not a JSON object")
	}
	return nil
}

// FirstOf tries bearer authenticators by the token's form: a token that
// looks like a JWT (three dot-separated parts) goes to jwt, any other to
// static. Either may be nil (that form is then refused).
func FirstOf(static, jwt Authenticator) Authenticator {
	return func(r *http.Request) (Identity, error) {
		tok, _ := BearerToken(r)
		a := static
		if strings.Count(tok, ".") == 2 {
			a = jwt
		}
		if a == nil {
			return Identity{}, fmt.Errorf("%w: this kind of token is not accepted here", ErrUnauthorized)
		}
		return a(r)
	}
}

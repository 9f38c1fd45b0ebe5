package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/caxton-go/caxton/server"
)

// Config is caxton.yaml: what `caxton serve` runs.
type Config struct {
	// Listen is the address to serve the API on (default 127.0.0.1:7070;
	// port 0 picks a free one, printed at start).
	Listen string `yaml:"listen"`
	// DataDir holds the durable message store (store/), the deployments
	// (state/), the compiled-module cache (cache/) and the audit log
	// (audit.log). Required.
	DataDir string `yaml:"data_dir"`
	// Durable keeps messages and dead letters on disk (default true).
	Durable *bool `yaml:"durable"`
	// ModuleDir is where deploys may name modules by path (default: none).
	ModuleDir string `yaml:"module_dir"`
	// DeployDir holds agents to deploy at start: NAME.wasm, with an
	// optional NAME.json DeploySpec beside it. Agents already deployed (in
	// the state) are left as they are.
	DeployDir string `yaml:"deploy_dir"`
	// TLS serves HTTPS (TLS 1.3 at least) with this certificate and key.
	TLS *struct {
		Cert string `yaml:"cert"`
		Key  string `yaml:"key"`
	} `yaml:"tls"`
	// Tokens are the static bearer tokens and their roles.
	Tokens []server.Token `yaml:"tokens"`
	// JWT accepts bearer JWTs (EdDSA or RS256) signed by the keys of a
	// JWKS file, or of a JWKS URL (an identity provider's; fetched again
	// when a token names a new key, at most every 30s, and hourly), beside
	// or instead of static tokens.
	JWT *struct {
		JWKSFile    string        `yaml:"jwks_file"`
		JWKSURL     string        `yaml:"jwks_url"`
		Issuer      string        `yaml:"issuer"`
		Audience    string        `yaml:"audience"`
		RoleClaim   string        `yaml:"role_claim"`
		AgentsClaim string        `yaml:"agents_claim"`
		Leeway      time.Duration `yaml:"leeway"`
	} `yaml:"jwt"`
	// RateLimit bounds each caller's requests (default: none).
	RateLimit *struct {
		PerSecond float64 `yaml:"per_second"`
		Burst     int     `yaml:"burst"`
	} `yaml:"rate_limit"`
	// MaxModuleBytes and MaxBodyBytes bound uploads and JSON bodies.
	MaxModuleBytes int64 `yaml:"max_module_bytes"`
	MaxBodyBytes   int64 `yaml:"max_body_bytes"`
	// ShutdownTimeout is how long SIGTERM waits for requests and queues
	// to drain (default 30s); what is left stays on disk.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	// MCP serves the runtime to LLM clients over MCP at /mcp (package
	// mcp/mcpserver), with the same identities: operators and admins whose
	// tokens are not scoped.
	MCP bool `yaml:"mcp"`
	// LogLevel is debug, info (default), warn or error.
	LogLevel string `yaml:"log_level"`
}

// loadConfig reads and checks a config file strictly: unknown keys are
// errors naming them.
func loadConfig(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if c.Listen == "" {
		c.Listen = "127.0.0.1:7070"
	}
	if c.ShutdownTimeout == 0 {
		c.ShutdownTimeout = 30 * time.Second
	}
	switch {
	case c.DataDir == "":
		return nil, fmt.Errorf("%s: data_dir: required", path)
	case len(c.Tokens) == 0 && c.JWT == nil:
		return nil, fmt.Errorf("%s: tokens or jwt: at least one is required (the API refuses every call without one)", path)
	case c.JWT != nil && (c.JWT.JWKSFile == "") == (c.JWT.JWKSURL == ""):
		return nil, fmt.Errorf("%s: jwt: give jwks_file or jwks_url (one of them)", path)
	case c.TLS != nil && (c.TLS.Cert == "" || c.TLS.Key == ""):
		return nil, errors.New(path + ": tls: cert and key are both required")
	}
	return &c, nil
}

// authenticator builds the API's authenticator from the static tokens and
// the JWT settings.
func (c *Config) authenticator(ctx context.Context) (server.Authenticator, error) {
	var static, jwt server.Authenticator
	var err error
	if len(c.Tokens) > 0 {
		if static, err = server.StaticTokens(c.Tokens...); err != nil {
			return nil, err
		}
	}
	if j := c.JWT; j != nil {
		var keys *server.KeySet
		var remote *server.RemoteJWKS
		if j.JWKSURL != "" {
			if remote, err = server.NewRemoteJWKS(ctx, j.JWKSURL); err != nil {
				return nil, fmt.Errorf("jwt.jwks_url: %w", err)
			}
		} else {
			b, err := os.ReadFile(j.JWKSFile)
			if err != nil {
				return nil, fmt.Errorf("jwt.jwks_file: %w", err)
			}
			if keys, err = server.ParseJWKS(b); err != nil {
				return nil, fmt.Errorf("jwt.jwks_file %s: %w", j.JWKSFile, err)
			}
		}
		if jwt, err = server.JWT(server.JWTConfig{Keys: keys, Remote: remote, Issuer: j.Issuer, Audience: j.Audience,
			RoleClaim: j.RoleClaim, AgentsClaim: j.AgentsClaim, Leeway: j.Leeway}); err != nil {
			return nil, err
		}
	}
	return server.FirstOf(static, jwt), nil
}

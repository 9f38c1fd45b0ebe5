package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/mcp/mcpserver"
	"github.com/caxton-go/caxton/server"
	"github.com/caxton-go/caxton/store/durable"
)

const serveHelp = `usage: caxton serve --config caxton.yaml

Runs the Caxton server: a runtime with a durable store in data_dir, the
management API on listen, the agents of the last run restored and those of
deploy_dir deployed. SIGTERM or SIGINT shuts it down gracefully: readiness
goes down, open streams end, requests in progress finish, agents work through
their queues for shutdown_timeout, and what is still queued stays on disk for
the next start.

Example caxton.yaml:

  listen: 127.0.0.1:7070
  data_dir: /var/lib/caxton
  module_dir: /srv/agents        # deploys may name modules under it
  deploy_dir: /srv/agents/boot   # NAME.wasm (+ NAME.json spec) deployed at start
  tokens:
    - {token: "a-long-random-secret", subject: alice, role: admin}
    - {token: "another-long-secret", subject: ci, role: operator, agents: [billing]}
  # mcp: true                     # the MCP face at /mcp, same tokens (unscoped operators, admins)
  # jwt: {jwks_file: keys.json, issuer: "https://idp", audience: caxton}  # EdDSA/RS256; claims sub, exp, role, agents
  # jwt: {jwks_url: "https://idp/.well-known/jwks.json"}   # or the provider's keys by URL, following rotation
  # tls: {cert: cert.pem, key: key.pem}
  # rate_limit: {per_second: 50, burst: 100}
`

func cmdServe(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, serveHelp) }
	cfgPath := fs.String("config", "caxton.yaml", "the config file")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelp
		}
		return usageErr(err)
	}
	if fs.NArg() > 0 {
		return usageErr(fmt.Errorf("serve takes no arguments, got %q", fs.Args()))
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return usageErr(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	return serve(ctx, cfg, stdout, stderr)
}

func serve(ctx context.Context, cfg *Config, stdout, stderr io.Writer) error {
	level := slog.LevelInfo
	if cfg.LogLevel != "" {
		if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
			return usageErr(fmt.Errorf("log_level: %w", err))
		}
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	auth, err := cfg.authenticator(ctx) // before anything is created: a bad config changes nothing
	if err != nil {
		return usageErr(err)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return err
	}
	mp, metrics, err := server.NewPrometheus()
	if err != nil {
		return err
	}
	defer func() { _ = mp.Shutdown(context.Background()) }()
	rtOpts := []caxton.Option{
		caxton.WithLogger(logger), caxton.WithMeterProvider(mp),
		caxton.WithSandboxCacheDir(filepath.Join(cfg.DataDir, "cache")),
	}
	if cfg.Durable == nil || *cfg.Durable {
		st, err := durable.Open(filepath.Join(cfg.DataDir, "store"))
		if err != nil {
			return err
		}
		rtOpts = append(rtOpts, caxton.WithStore(st))
	}
	rt, err := caxton.New(rtOpts...)
	if err != nil {
		return err
	}
	auditFile, err := os.OpenFile(filepath.Join(cfg.DataDir, "audit.log"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		_ = rt.Close(context.Background())
		return err
	}
	defer auditFile.Close()
	var auditMu sync.Mutex
	opts := []server.Option{
		server.WithAuthenticator(auth), server.WithStateDir(filepath.Join(cfg.DataDir, "state")),
		server.WithMetrics(metrics), server.WithMeterProvider(mp), server.WithLogger(logger),
		server.WithAuditHook(func(rec server.AuditRecord) {
			b, _ := json.Marshal(rec)
			auditMu.Lock()
			defer auditMu.Unlock()
			if _, err := auditFile.Write(append(b, '\n')); err != nil {
				logger.Error("audit log", "error", err)
			}
		}),
	}
	if cfg.ModuleDir != "" {
		opts = append(opts, server.WithModuleDir(cfg.ModuleDir))
	}
	if cfg.RateLimit != nil {
		opts = append(opts, server.WithRateLimit(cfg.RateLimit.PerSecond, cfg.RateLimit.Burst))
	}
	if cfg.MaxModuleBytes > 0 {
		opts = append(opts, server.WithMaxModuleBytes(cfg.MaxModuleBytes))
	}
	if cfg.MaxBodyBytes > 0 {
		opts = append(opts, server.WithMaxBodyBytes(cfg.MaxBodyBytes))
	}
	srv, err := server.New(rt, opts...)
	if err != nil {
		_ = rt.Close(context.Background())
		return usageErr(err)
	}

	var handler http.Handler = srv
	if cfg.MCP {
		face, err := mcpserver.HTTPHandler(rt, mcpserver.WithAuthenticator(mcpAuthenticator(auth)))
		if err != nil {
			_ = rt.Close(context.Background())
			return err
		}
		mux := http.NewServeMux()
		mux.Handle("/mcp", face)
		mux.Handle("/", srv)
		handler = mux
	}

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		_ = rt.Close(context.Background())
		return err
	}
	hs := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	scheme := "http"
	if cfg.TLS != nil {
		cert, err := tls.LoadX509KeyPair(cfg.TLS.Cert, cfg.TLS.Key)
		if err != nil {
			_ = rt.Close(context.Background())
			return usageErr(fmt.Errorf("tls: %w", err))
		}
		hs.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{cert}}
		ln = tls.NewListener(ln, hs.TLSConfig)
		scheme = "https"
	}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	// The address first: the API answers /healthz at once and /readyz once
	// the agents are back.
	fmt.Fprintf(stdout, "caxton: serving on %s://%s\n", scheme, ln.Addr())

	if err := srv.Restore(ctx); err != nil {
		logger.Error("restoring deployments", "error", err)
	}
	if cfg.DeployDir != "" {
		if err := deployDir(ctx, srv, rt, cfg.DeployDir, logger); err != nil {
			logger.Error("deploying "+cfg.DeployDir, "error", err)
		}
	}
	fmt.Fprintf(stdout, "caxton: ready (%d agents)\n", len(rt.Agents()))

	select {
	case <-ctx.Done():
	case err := <-served:
		_ = rt.Close(context.Background())
		return err
	}
	logger.Info("shutting down")
	srv.Drain()
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	shutErr := hs.Shutdown(sctx)
	closeErr := rt.Close(sctx)
	fmt.Fprintln(stdout, "caxton: stopped")
	return errors.Join(shutErr, closeErr)
}

// deployDir deploys NAME.wasm (with NAME.json, a DeploySpec, if present)
// for each agent of dir not deployed yet.
func deployDir(ctx context.Context, srv *server.Server, rt *caxton.Runtime, dir string, logger *slog.Logger) error {
	mods, err := filepath.Glob(filepath.Join(dir, "*.wasm"))
	if err != nil {
		return err
	}
	var errs []error
	for _, m := range mods {
		name := strings.TrimSuffix(filepath.Base(m), ".wasm")
		spec := server.DeploySpec{Name: name}
		if b, err := os.ReadFile(strings.TrimSuffix(m, ".wasm") + ".json"); err == nil {
			dec := json.NewDecoder(strings.NewReader(string(b)))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&spec); err != nil {
				errs = append(errs, fmt.Errorf("%s.json: %w", name, err))
				continue
			}
		} else if !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
			continue
		}
		if _, err := rt.Agent(acl.AgentID(spec.Name)); err == nil {
			continue // deployed already (restored): the state wins
		}
		module, err := os.ReadFile(m)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if _, err := srv.Deploy(ctx, spec, module); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", m, err))
			continue
		}
		logger.Info("deployed", "agent", spec.Name, "module", m)
	}
	return errors.Join(errs...)
}

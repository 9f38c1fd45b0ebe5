package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
)

// Server is the management API of one runtime, as an http.Handler: mount
// it in your own mux or serve it with http.Server (cmd/caxton does). It
// is safe for concurrent use.
type Server struct {
	rt      *caxton.Runtime
	cfg     config
	mux     *http.ServeMux
	routes  []route
	audit   *auditLog
	state   *deployStore // nil without WithStateDir
	ready   atomic.Bool
	limMu   sync.Mutex
	limits  map[string]*rate.Limiter
	closing atomic.Bool
	drained chan struct{} // closed by Drain: streams end
	drain   sync.Once
	gw      gateway      // the WebSocket gateway's agents (join.go)
	hm      *httpMetrics // nil without WithMeterProvider
}

// route is one operation of the API: the table is what the mux serves,
// what the authorization checks, and what the OpenAPI test compares the
// document with, so the three cannot drift apart.
type route struct {
	method  string
	pattern string // net/http pattern; {name} is an agent
	op      string // the operationId in openapi.json
	role    Role   // the least role allowed; RoleNone: public
	body    int64  // the body limit; 0: the JSON limit (WithMaxBodyBytes)
	handle  func(*call) error
}

// call is one request on its way through a route.
type call struct {
	s     *Server
	w     *statusWriter
	r     *http.Request
	id    Identity
	agent acl.AgentID // the {name} of the path, if any
}

// New returns the management API of rt. With WithStateDir, call Restore
// to bring the deployments of an earlier run back; until then /readyz
// answers 503.
func New(rt *caxton.Runtime, opts ...Option) (*Server, error) {
	if rt == nil {
		return nil, fieldErr("rt", "must not be nil")
	}
	cfg := defaultConfig()
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	s := &Server{rt: rt, cfg: cfg, mux: http.NewServeMux(), limits: map[string]*rate.Limiter{}, drained: make(chan struct{})}
	s.audit = newAuditLog(cfg.auditBuffer, cfg.auditHook)
	if cfg.meters != nil {
		hm, err := newHTTPMetrics(cfg.meters)
		if err != nil {
			return nil, err
		}
		s.hm = hm
	}
	if cfg.stateDir != "" {
		st, err := openDeployStore(cfg.stateDir)
		if err != nil {
			return nil, err
		}
		s.state = st
	} else {
		s.ready.Store(true)
	}
	s.routes = s.table()
	for _, r := range s.routes {
		s.mux.HandleFunc(r.method+" "+r.pattern, s.serve(r))
	}
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, r, problemFor(fmt.Errorf("%w: no route %s %s", ErrNotFound, r.Method, r.URL.Path), ""))
	})
	return s, nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Audit returns the recent audit records, oldest first (WithAuditBuffer).
func (s *Server) Audit() []AuditRecord { return s.audit.records() }

// Drain makes /readyz answer 503, so that a load balancer stops sending
// new requests before the process shuts down, and ends the open event and
// log streams and the WebSocket gateway's connections (their clients
// reconnect elsewhere; a joined client's undelivered messages stay
// queued), so that http.Server.Shutdown does not wait on them; other
// requests still arriving are served.
func (s *Server) Drain() {
	s.drain.Do(func() {
		s.closing.Store(true)
		close(s.drained)
	})
}

func (s *Server) table() []route {
	const mod = -1 // a module upload: WithMaxModuleBytes (in base64) plus the JSON limit
	return []route{
		{"GET", "/healthz", "healthz", RoleNone, 0, s.healthz},
		{"GET", "/readyz", "readyz", RoleNone, 0, s.readyz},
		{"GET", "/openapi.json", "openapi", RoleNone, 0, s.openapi},
		{"GET", "/metrics", "metrics", RoleViewer, 0, s.metrics},
		{"GET", "/v1/agents", "listAgents", RoleViewer, 0, s.listAgents},
		{"POST", "/v1/agents", "deployAgent", RoleAdmin, mod, s.deployAgent},
		{"GET", "/v1/agents/{name}", "getAgent", RoleViewer, 0, s.getAgent},
		{"DELETE", "/v1/agents/{name}", "removeAgent", RoleAdmin, 0, s.removeAgent},
		{"POST", "/v1/agents/{name}/stop", "stopAgent", RoleOperator, 0, s.stopAgent},
		{"POST", "/v1/agents/{name}/start", "startAgent", RoleOperator, 0, s.startAgent},
		{"POST", "/v1/agents/{name}/restart", "restartAgent", RoleOperator, 0, s.restartAgent},
		{"POST", "/v1/agents/{name}/scale", "scaleAgent", RoleOperator, 0, s.scaleAgent},
		{"POST", "/v1/agents/{name}/upgrade", "upgradeAgent", RoleOperator, mod, s.upgradeAgent},
		{"POST", "/v1/agents/{name}/rollback", "rollbackAgent", RoleOperator, 0, s.rollbackAgent},
		{"GET", "/v1/agents/{name}/join", "joinAgent", RoleOperator, 0, s.joinAgent},
		{"GET", "/v1/agents/{name}/logs", "agentLogs", RoleViewer, 0, s.agentLogs},
		{"GET", "/v1/events", "events", RoleViewer, 0, s.events},
		{"POST", "/v1/messages", "sendMessage", RoleOperator, 0, s.sendMessage},
		{"POST", "/v1/requests", "request", RoleOperator, 0, s.request},
		{"GET", "/v1/deadletters", "listDeadLetters", RoleViewer, 0, s.listDeadLetters},
		{"POST", "/v1/deadletters/replay", "replayDeadLetters", RoleOperator, 0, s.replayDeadLetters},
		{"POST", "/v1/deadletters/purge", "purgeDeadLetters", RoleAdmin, 0, s.purgeDeadLetters},
		{"GET", "/v1/audit", "audit", RoleAdmin, 0, s.auditLog},
	}
}

// serve wraps a route's handler: identify, limit, authorize, bound the
// body, handle, answer a failure as problem details, audit.
func (s *Server) serve(rt route) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c := &call{s: s, w: &statusWriter{ResponseWriter: w}, r: r}
		done := s.hm.begin(r, rt.pattern)
		defer func() { done(c.w.status()) }()
		err := s.admit(c, rt)
		denied := err != nil
		if err == nil {
			if c.id.Subject != "" {
				// The runtime's authorizer and audit trail see the API's
				// caller as the one asking (caxton.IdentityFrom).
				c.r = c.r.WithContext(caxton.WithIdentity(r.Context(), caxton.Identity{Name: c.id.Subject, Roles: []string{c.id.Role.String()}}))
			}
			limit := rt.body
			if limit == 0 {
				limit = s.cfg.maxBody
			} else if limit < 0 {
				limit = s.cfg.maxModule/3*4 + 4 + s.cfg.maxBody // base64 in JSON
			}
			c.r.Body = http.MaxBytesReader(c.w, c.r.Body, limit)
			err = rt.handle(c)
		}
		var p *Problem
		if err != nil {
			p = problemFor(err, c.agent)
			if p.Status >= 500 && p.Status != http.StatusServiceUnavailable && p.Status != http.StatusGatewayTimeout {
				s.cfg.logger.Error("management API", "op", rt.op, "path", r.URL.Path, "error", err)
			}
			if !c.w.wrote {
				writeProblem(c.w, r, p)
			}
		}
		if denied || rt.role > RoleViewer {
			rec := AuditRecord{
				Time: time.Now().UTC(), Subject: c.id.Subject, Remote: r.RemoteAddr,
				Method: r.Method, Path: r.URL.Path, Action: rt.op, Agent: string(c.agent),
				Outcome: OutcomeOK, Status: c.w.status(),
			}
			if c.id.Role != RoleNone {
				rec.Role = c.id.Role.String()
			}
			if p != nil {
				rec.Outcome, rec.Detail, rec.Status = OutcomeFailed, p.Detail, p.Status
				if denied {
					rec.Outcome = OutcomeDenied
				}
			}
			s.audit.add(rec)
			// The runtime's one trail has the call too, beside its effects.
			ctx := c.r.Context()
			if _, ok := caxton.IdentityFrom(ctx); !ok && c.id.Subject != "" {
				ctx = caxton.WithIdentity(ctx, caxton.Identity{Name: c.id.Subject, Roles: []string{c.id.Role.String()}})
			}
			var outcome error
			if p != nil {
				outcome = p
			}
			s.rt.RecordCall(ctx, "http "+rt.op, string(c.agent), outcome)
		}
	}
}

// admit identifies the caller and checks its rate, role and scope.
func (s *Server) admit(c *call, rt route) error {
	if name := c.r.PathValue("name"); name != "" {
		c.agent = acl.AgentID(name)
	}
	if rt.role == RoleNone {
		return nil
	}
	if s.cfg.auth == nil {
		return s.limit(c, fmt.Errorf("%w: the server has no authenticator configured (deny by default)", ErrUnauthorized))
	}
	id, err := s.cfg.auth(c.r)
	if err != nil {
		if !errors.Is(err, ErrUnauthorized) && !errors.Is(err, ErrForbidden) {
			err = fmt.Errorf("%w: %v", ErrUnauthorized, err)
		}
		return s.limit(c, err)
	}
	c.id = id
	if err := s.limit(c, nil); err != nil {
		return err
	}
	if id.Role < rt.role {
		return fmt.Errorf("%w: %s needs the %s role; %q is %s", ErrForbidden, rt.op, rt.role, id.Subject, id.Role)
	}
	if c.agent != "" && !id.MayAccess(c.agent) {
		return fmt.Errorf("%w: %q may not touch agent %q", ErrForbidden, id.Subject, c.agent)
	}
	return nil
}

// limit takes a token from the caller's bucket; it returns refused (the
// reason the caller is refused anyway) unless the caller is over its rate.
func (s *Server) limit(c *call, refused error) error {
	if s.cfg.ratePerSecond == 0 {
		return refused
	}
	key := "subject:" + c.id.Subject
	if c.id.Subject == "" {
		host, _, err := net.SplitHostPort(c.r.RemoteAddr)
		if err != nil {
			host = c.r.RemoteAddr
		}
		key = "addr:" + host
	}
	s.limMu.Lock()
	l, ok := s.limits[key]
	if !ok {
		if len(s.limits) >= 100_000 { // bound the table against address churn
			clear(s.limits)
		}
		l = rate.NewLimiter(rate.Limit(s.cfg.ratePerSecond), s.cfg.rateBurst)
		s.limits[key] = l
	}
	s.limMu.Unlock()
	if !l.Allow() {
		return fmt.Errorf("%w: over %v requests per second", ErrRateLimited, s.cfg.ratePerSecond)
	}
	return refused
}

// mayAccess refuses an agent outside the caller's scope.
func (c *call) mayAccess(agent acl.AgentID) error {
	if !c.id.MayAccess(agent) {
		return fmt.Errorf("%w: %q may not touch agent %q", ErrForbidden, c.id.Subject, agent)
	}
	return nil
}

// statusWriter records the status for the audit and passes Flush on, for
// Server-Sent Events.
type statusWriter struct {
	http.ResponseWriter
	code  int
	wrote bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.code, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.code, w.wrote = http.StatusOK, true
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) status() int {
	if !w.wrote {
		return http.StatusOK
	}
	return w.code
}

// healthz says the process serves HTTP (liveness).
func (s *Server) healthz(c *call) error {
	writeJSON(c.w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

// readyz says the server should get traffic: deployments restored, not
// draining, runtime open.
func (s *Server) readyz(c *call) error {
	switch {
	case s.closing.Load():
		return &Problem{Type: ProblemTypeBase + "draining", Title: "Draining", Status: http.StatusServiceUnavailable, Detail: "the server is shutting down"}
	case !s.ready.Load():
		return &Problem{Type: ProblemTypeBase + "restoring", Title: "Restoring", Status: http.StatusServiceUnavailable, Detail: "deployments are being restored"}
	}
	ctx, cancel := context.WithTimeout(c.r.Context(), 2*time.Second)
	defer cancel()
	rep := s.rt.Health(ctx)
	writeJSON(c.w, http.StatusOK, map[string]string{"status": "ready", "agents": strings.ToLower(rep.Status.String())})
	return nil
}

func (s *Server) metrics(c *call) error {
	if s.cfg.metrics == nil {
		return fmt.Errorf("%w: metrics are not configured (WithMetrics)", ErrNotFound)
	}
	s.cfg.metrics.ServeHTTP(c.w, c.r)
	return nil
}

func (s *Server) auditLog(c *call) error {
	writeJSON(c.w, http.StatusOK, s.Audit())
	return nil
}

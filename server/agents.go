package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
)

func statusOf(info caxton.AgentInfo, h caxton.AgentHealth) AgentStatus {
	st := AgentStatus{
		Name: string(info.Name), State: info.State.String(), Version: info.Version, Previous: info.Previous,
		Replicas: info.Replicas, QueueDepth: info.QueueDepth, InFlight: info.InFlight,
		Processed: info.Processed, Failed: info.Failed, Retried: info.Retried,
		DeadLettered: info.DeadLettered, Restarts: info.Restarts, LastError: info.LastError,
		Topics: info.Topics, Capabilities: info.Capabilities, Breaker: info.Breaker.String(),
		Health: strings.ToLower(h.Status.String()), HealthReasons: h.Reasons,
	}
	if ro := info.Rollout; ro != nil {
		st.Rollout = &RolloutStatus{From: ro.From, To: ro.To, Strategy: ro.Strategy.String(), Share: ro.Share,
			Instances: ro.Instances, Handled: ro.Handled, Failed: ro.Failed, Crashes: ro.Crashes}
	}
	return st
}

func (s *Server) health(ctx context.Context) map[acl.AgentID]caxton.AgentHealth {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	rep := s.rt.Health(ctx)
	m := make(map[acl.AgentID]caxton.AgentHealth, len(rep.Agents))
	for _, h := range rep.Agents {
		m[h.Agent] = h
	}
	return m
}

func (s *Server) status(ctx context.Context, name acl.AgentID) (AgentStatus, error) {
	info, err := s.rt.Agent(name)
	if err != nil {
		return AgentStatus{}, err
	}
	return statusOf(info, s.health(ctx)[name]), nil
}

func (s *Server) listAgents(c *call) error {
	hs := s.health(c.r.Context())
	out := []AgentStatus{}
	for _, info := range s.rt.Agents() {
		if c.id.MayAccess(info.Name) {
			out = append(out, statusOf(info, hs[info.Name]))
		}
	}
	writeJSON(c.w, http.StatusOK, out)
	return nil
}

func (s *Server) getAgent(c *call) error {
	st, err := s.status(c.r.Context(), c.agent)
	if err != nil {
		return err
	}
	writeJSON(c.w, http.StatusOK, st)
	return nil
}

func (s *Server) deployAgent(c *call) error {
	var d DeploySpec
	module, err := c.readSpecAndModule(&d, &d.ModuleBase64, &d.Path)
	if err != nil {
		return err
	}
	c.agent = acl.AgentID(d.Name)
	if err := c.mayAccess(c.agent); err != nil {
		return err
	}
	st, err := s.Deploy(c.r.Context(), d, module)
	if err != nil {
		return err
	}
	writeJSON(c.w, http.StatusCreated, st)
	return nil
}

// Deploy deploys a wasm agent as POST /v1/agents does, for a program that
// embeds the server and deploys agents of its own (cmd/caxton deploys
// the agents of its deploy directory this way): spawned, then recorded in
// the state directory (WithStateDir), so that Restore brings it back. A
// deployment that cannot be recorded is removed again and the error
// returned: an agent the next start would not know is not deployed.
func (s *Server) Deploy(ctx context.Context, d DeploySpec, module []byte) (AgentStatus, error) {
	d.ModuleBase64, d.Path = "", ""
	spec, err := agentSpecOf(&d, module)
	if err != nil {
		return AgentStatus{}, err
	}
	if err := s.rt.Spawn(ctx, spec); err != nil {
		return AgentStatus{}, err
	}
	st, err := s.status(ctx, spec.Name)
	if err != nil {
		return AgentStatus{}, err
	}
	if s.state != nil {
		d.Version = st.Version // the label the runtime gave it ("v1")
		err := s.record(spec.Name, module, func(_ *deployment, sum string) *deployment {
			return &deployment{Spec: d, Module: sum}
		})
		if err != nil {
			_ = s.rt.Remove(context.WithoutCancel(ctx), spec.Name)
			return AgentStatus{}, err
		}
	}
	return st, nil
}

// record stores module (if any) and updates the agent's deployment; fn
// gets the current record (nil if none) and the module's digest.
func (s *Server) record(name acl.AgentID, module []byte, fn func(rec *deployment, sum string) *deployment) error {
	if s.state == nil {
		return nil
	}
	sum := ""
	if module != nil {
		var err error
		if sum, err = s.state.putModule(module); err != nil {
			return err
		}
	}
	return s.state.update(string(name), func(rec *deployment) *deployment { return fn(rec, sum) })
}

// syncRecord brings the record of name up to the runtime's view after an
// operation: replicas, version (a rollback swaps current and previous).
func (s *Server) syncRecord(name acl.AgentID, stopped *bool) error {
	if s.state == nil {
		return nil
	}
	info, err := s.rt.Agent(name)
	if err != nil {
		return nil // removed meanwhile
	}
	return s.state.update(string(name), func(rec *deployment) *deployment {
		if rec == nil {
			return nil // not deployed through the server
		}
		rec.Spec.Replicas = info.Replicas
		if stopped != nil {
			rec.Stopped = *stopped
		}
		if info.Version != rec.Spec.Version && rec.Previous != nil && rec.Previous.Version == info.Version {
			cur := rec.Module
			rec.Module = rec.Previous.Module
			rec.Previous.Module, rec.Previous.Version = cur, rec.Spec.Version
			rec.Spec.Version = info.Version
		}
		return rec
	})
}

func (s *Server) removeAgent(c *call) error {
	if err := s.rt.Remove(c.r.Context(), c.agent); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	s.closeJoined(c.agent)
	if s.state != nil {
		if err := s.state.update(string(c.agent), func(*deployment) *deployment { return nil }); err != nil {
			return err
		}
	}
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) stopAgent(c *call) error {
	force := c.r.URL.Query().Get("force")
	if force != "" && force != "true" && force != "false" {
		return fieldErr("force", "want true or false, got %q", force)
	}
	ctx := c.r.Context()
	if force == "true" {
		// A cancelled context stops the agent all the same and cancels
		// the handler that is running.
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		ctx = cctx
	}
	if err := s.rt.Stop(ctx, c.agent); err != nil && !(force == "true" && errors.Is(err, context.Canceled)) {
		return err
	}
	return s.answer(c, true)
}

// answer records the agent's new state and answers with its status.
func (s *Server) answer(c *call, stopped ...bool) error {
	var st *bool
	if len(stopped) > 0 {
		st = &stopped[0]
	}
	if err := s.syncRecord(c.agent, st); err != nil {
		return err
	}
	status, err := s.status(c.r.Context(), c.agent)
	if err != nil {
		return err
	}
	writeJSON(c.w, http.StatusOK, status)
	return nil
}

func (s *Server) startAgent(c *call) error {
	if err := s.rt.Start(c.r.Context(), c.agent); err != nil {
		return err
	}
	return s.answer(c, false)
}

func (s *Server) restartAgent(c *call) error {
	if err := s.rt.Restart(c.r.Context(), c.agent); err != nil {
		return err
	}
	return s.answer(c, false)
}

func (s *Server) scaleAgent(c *call) error {
	var sc ScaleSpec
	if err := decodeJSON(c.r.Body, &sc); err != nil {
		return err
	}
	if sc.Replicas < 1 || sc.Replicas > caxton.MaxReplicas {
		return fieldErr("replicas", "want 1..%d, got %d", caxton.MaxReplicas, sc.Replicas)
	}
	if err := s.rt.Scale(c.r.Context(), c.agent, sc.Replicas); err != nil {
		return err
	}
	return s.answer(c)
}

func (s *Server) upgradeAgent(c *call) error {
	var u UpgradeSpec
	module, err := c.readSpecAndModule(&u, &u.ModuleBase64, &u.Path)
	if err != nil {
		return err
	}
	strategy, err := strategyOf(&u)
	if err != nil {
		return err
	}
	var rec deployment
	known := false
	if s.state != nil {
		rec, known = s.state.get(string(c.agent))
	}
	lim := u.Limits
	if lim == nil && known {
		lim = rec.Spec.Limits
	}
	limits, err := limitsOf(lim)
	if err != nil {
		return err
	}
	before, err := s.rt.Agent(c.agent)
	if err != nil {
		return err
	}
	// The module is on disk before the switch, so a crash right after it
	// finds what the record will name.
	sum := ""
	if s.state != nil {
		if sum, err = s.state.putModule(module); err != nil {
			return err
		}
	}
	spec := caxton.AgentSpec{Name: c.agent, Version: u.Version, Wasm: &caxton.WasmSpec{Module: module, Limits: limits}}
	if err := s.rt.Upgrade(c.r.Context(), c.agent, spec, strategy); err != nil {
		return err
	}
	if s.state != nil {
		after, err := s.rt.Agent(c.agent)
		if err != nil {
			return err
		}
		err = s.state.update(string(c.agent), func(d *deployment) *deployment {
			if d == nil {
				return nil
			}
			d.Previous = &moduleVersion{Module: d.Module, Version: before.Version}
			d.Module, d.Spec.Version = sum, after.Version
			if u.Limits != nil {
				d.Spec.Limits = u.Limits
			}
			return d
		})
		if err != nil {
			return fmt.Errorf("the upgrade took effect but could not be recorded: %w", err)
		}
	}
	return s.answer(c)
}

func (s *Server) rollbackAgent(c *call) error {
	if err := s.rt.Rollback(c.r.Context(), c.agent); err != nil {
		return err
	}
	return s.answer(c)
}

// Restore deploys the agents the state directory (WithStateDir) remembers
// — each at its recorded version and replicas, stopped if it was — and
// then marks the server ready. An agent that cannot be deployed (its
// module no longer starts) does not stop the others: the errors are
// joined, each naming its agent. Without a state directory it does
// nothing.
func (s *Server) Restore(ctx context.Context) error {
	defer s.ready.Store(true)
	if s.state == nil {
		return nil
	}
	var errs []error
	for _, d := range s.state.all() {
		module, err := s.state.module(d.Module)
		if err == nil {
			var spec caxton.AgentSpec
			if spec, err = agentSpecOf(&d.Spec, module); err == nil {
				err = s.rt.Spawn(ctx, spec)
			}
		}
		if err == nil && d.Previous != nil {
			if perr := s.restorePrevious(ctx, &d, module); perr != nil {
				errs = append(errs, fmt.Errorf("restore agent %q: its previous version %s (a rollback will not find it): %w", d.Spec.Name, d.Previous.Version, perr))
			}
		} else if err == nil && d.Stopped {
			err = s.rt.Stop(ctx, acl.AgentID(d.Spec.Name))
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("restore agent %q: %w", d.Spec.Name, err))
		}
	}
	return errors.Join(errs...)
}

// restorePrevious gives a restored agent its previous version back, so
// that a rollback after a restart returns to it as it would have before.
// The runtime keeps one previous version, the one an upgrade replaced, so
// the agent is stopped (it has run the current version since it was
// spawned: no message goes to the previous one), "upgraded" to the
// previous version and back to the current one while stopped — which
// swaps code without running it — and started again unless it was
// stopped.
func (s *Server) restorePrevious(ctx context.Context, d *deployment, module []byte) error {
	name := acl.AgentID(d.Spec.Name)
	prevModule, err := s.state.module(d.Previous.Module)
	if err != nil {
		return err
	}
	prev := d.Spec
	prev.Version = d.Previous.Version
	prevSpec, err := agentSpecOf(&prev, prevModule)
	if err != nil {
		return err
	}
	curSpec, err := agentSpecOf(&d.Spec, module)
	if err != nil {
		return err
	}
	if err := s.rt.Stop(ctx, name); err != nil {
		return err
	}
	err = s.rt.Upgrade(ctx, name, prevSpec, caxton.Strategy{})
	if err == nil {
		if err = s.rt.Upgrade(ctx, name, curSpec, caxton.Strategy{}); err != nil {
			_ = s.rt.Rollback(ctx, name) // back to the current version
		}
	}
	if !d.Stopped {
		if serr := s.rt.Start(ctx, name); serr != nil {
			return errors.Join(err, serr)
		}
	}
	return err
}

package server

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"os"
	"path/filepath"
	"strings"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/sandbox"
)

// wasmMagic starts every WebAssembly binary module.
var wasmMagic = []byte("\x00asm")

// readSpecAndModule reads a deploy or upgrade body into v (a *DeploySpec
// or *UpgradeSpec) and returns the module bytes from wherever they came.
func (c *call) readSpecAndModule(v any, b64, path *string) ([]byte, error) {
	ct, _, _ := mime.ParseMediaType(c.r.Header.Get("Content-Type"))
	var module []byte
	switch ct {
	case "multipart/form-data":
		mr, err := c.r.MultipartReader()
		if err != nil {
			return nil, fieldErr("body", "malformed multipart: %v", err)
		}
		gotSpec := false
		for {
			part, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, partErr("body", err)
			}
			switch part.FormName() {
			case "spec":
				if gotSpec {
					return nil, fieldErr("spec", "sent twice")
				}
				gotSpec = true
				b, err := readBounded(part, c.s.cfg.maxBody, "spec")
				if err != nil {
					return nil, err
				}
				if err := decodeJSONBytes(b, v); err != nil {
					return nil, err
				}
			case "module":
				if module != nil {
					return nil, fieldErr("module", "sent twice")
				}
				if module, err = readBounded(part, c.s.cfg.maxModule, "module"); err != nil {
					return nil, err
				}
				if module == nil {
					module = []byte{}
				}
			default:
				return nil, fieldErr(part.FormName(), "unknown form part (want spec and module)")
			}
		}
		if !gotSpec {
			return nil, fieldErr("spec", "missing form part")
		}
	case "application/json", "":
		if err := decodeJSON(c.r.Body, v); err != nil {
			return nil, err
		}
	default:
		return nil, fieldErr("Content-Type", "want application/json or multipart/form-data, got %q", ct)
	}
	sources := 0
	for _, set := range []bool{module != nil, len(*b64) > 0, *path != ""} {
		if set {
			sources++
		}
	}
	switch {
	case sources == 0:
		return nil, fieldErr("module", "missing: upload it (form part \"module\"), send module_base64, or name a path")
	case sources > 1:
		return nil, fieldErr("module", "give exactly one of the form part \"module\", module_base64 and path")
	case len(*b64) > 0:
		if int64(base64.StdEncoding.DecodedLen(len(*b64))) > c.s.cfg.maxModule+2 {
			return nil, &FieldError{Field: "module_base64", Reason: fmt.Sprintf("over the %d-byte limit", c.s.cfg.maxModule), Err: ErrTooLarge}
		}
		var err error
		if module, err = base64.StdEncoding.DecodeString(*b64); err != nil {
			return nil, fieldErr("module_base64", "not standard padded base64: %v", err)
		}
		if int64(len(module)) > c.s.cfg.maxModule {
			return nil, &FieldError{Field: "module_base64", Reason: fmt.Sprintf("over the %d-byte limit", c.s.cfg.maxModule), Err: ErrTooLarge}
		}
	case *path != "":
		var err error
		if module, err = c.s.readModuleFile(*path); err != nil {
			return nil, err
		}
	}
	if !bytes.HasPrefix(module, wasmMagic) {
		return nil, fieldErr("module", "not a WebAssembly binary module (it does not start with \\0asm)")
	}
	return module, nil
}

func partErr(field string, err error) error {
	if isTooLarge(err) {
		return &FieldError{Field: field, Reason: "over the size limit", Err: ErrTooLarge}
	}
	return fieldErr(field, "malformed multipart: %v", err)
}

// readBounded reads at most limit bytes of r, refusing more.
func readBounded(r io.Reader, limit int64, field string) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, partErr(field, err)
	}
	if int64(len(b)) > limit {
		return nil, &FieldError{Field: field, Reason: fmt.Sprintf("over the %d-byte limit", limit), Err: ErrTooLarge}
	}
	return b, nil
}

// readModuleFile reads a module by a path under the module directory.
func (s *Server) readModuleFile(p string) ([]byte, error) {
	if s.cfg.moduleDir == "" {
		return nil, fieldErr("path", "the server allows no module paths (no module directory configured)")
	}
	full := p
	if !filepath.IsAbs(full) {
		full = filepath.Join(s.cfg.moduleDir, p)
	}
	real, err := filepath.EvalSymlinks(full)
	if err != nil {
		return nil, fieldErr("path", "cannot read %q: %v", p, errors.Unwrap(err))
	}
	rel, err := filepath.Rel(s.cfg.moduleDir, real)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return nil, fieldErr("path", "%q is outside the module directory", p)
	}
	f, err := os.Open(real)
	if err != nil {
		return nil, fieldErr("path", "cannot read %q: %v", p, errors.Unwrap(err))
	}
	defer f.Close()
	return readBounded(f, s.cfg.maxModule, "path")
}

// limitsOf converts a LimitsSpec.
func limitsOf(l *LimitsSpec) (sandbox.Limits, error) {
	if l == nil {
		return sandbox.Limits{}, nil
	}
	d, err := parseDuration("limits.batch_deadline", l.BatchDeadline)
	if err != nil {
		return sandbox.Limits{}, err
	}
	if l.MaxMemoryBytes < 0 {
		return sandbox.Limits{}, fieldErr("limits.max_memory_bytes", "must not be negative")
	}
	return sandbox.Limits{MaxMemory: l.MaxMemoryBytes, BatchDeadline: d, FuelPerBatch: l.FuelPerBatch}, nil
}

// agentSpecOf builds the runtime's spec of a deployment.
func agentSpecOf(d *DeploySpec, module []byte) (caxton.AgentSpec, error) {
	if d.Name == "" {
		return caxton.AgentSpec{}, fieldErr("name", "must not be empty")
	}
	lim, err := limitsOf(d.Limits)
	if err != nil {
		return caxton.AgentSpec{}, err
	}
	return caxton.AgentSpec{
		Name:            acl.AgentID(d.Name),
		Version:         d.Version,
		Wasm:            &caxton.WasmSpec{Module: module, Limits: lim},
		Replicas:        d.Replicas,
		MailboxCapacity: d.MailboxCapacity,
		BatchSize:       d.BatchSize,
		Topics:          d.Topics,
		Capabilities:    d.Capabilities,
		Delivery:        caxton.DeliveryPolicy{MaxAttempts: d.MaxAttempts},
		Scale:           caxton.ScalePolicy{Min: d.MinReplicas, Max: d.MaxReplicas},
	}, nil
}

// strategyOf converts an UpgradeSpec's strategy.
func strategyOf(u *UpgradeSpec) (caxton.Strategy, error) {
	var st caxton.Strategy
	switch strings.ToLower(u.Strategy) {
	case "", "blue-green", "bluegreen":
		st.Kind = caxton.BlueGreen
	case "canary":
		st.Kind = caxton.Canary
	case "rolling":
		st.Kind = caxton.Rolling
	default:
		return st, fieldErr("strategy", "want blue-green, canary or rolling, got %q", u.Strategy)
	}
	st.Steps = u.Steps
	var err error
	if st.StepEvery, err = parseDuration("step_every", u.StepEvery); err != nil {
		return st, err
	}
	if st.Watch, err = parseDuration("watch", u.Watch); err != nil {
		return st, err
	}
	if st.Drain, err = parseDuration("drain", u.Drain); err != nil {
		return st, err
	}
	if rb := u.Rollback; rb != nil {
		lat, err := parseDuration("rollback.max_latency", rb.MaxLatency)
		if err != nil {
			return st, err
		}
		st.Rollback = caxton.RollbackPolicy{MaxCrashes: rb.MaxCrashes, MaxErrorRate: rb.MaxErrorRate, MaxLatency: lat, MinMessages: rb.MinMessages}
	}
	return st, nil
}

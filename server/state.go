package server

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// deployment is what the state directory remembers of one agent.
type deployment struct {
	Spec     DeploySpec     `json:"spec"`               // as deployed; ModuleBase64 and Path cleared; Version and Replicas kept current
	Module   string         `json:"module"`             // the current module's SHA-256 (hex): modules/<sha>.wasm
	Previous *moduleVersion `json:"previous,omitempty"` // the version before the last upgrade, for a rollback
	Stopped  bool           `json:"stopped,omitempty"`
}

// moduleVersion is a module and its version label.
type moduleVersion struct {
	Module  string `json:"module"`
	Version string `json:"version"`
}

// deployStore keeps deployments in a directory: agents.json (replaced
// atomically: written to a temporary file, synced, renamed, directory
// synced) and the modules by content under modules/.
type deployStore struct {
	dir string
	mu  sync.Mutex
	m   map[string]*deployment
}

const stateFile = "agents.json"

func openDeployStore(dir string) (*deployStore, error) {
	if err := os.MkdirAll(filepath.Join(dir, "modules"), 0o700); err != nil {
		return nil, fieldErr("WithStateDir", "%v", err)
	}
	st := &deployStore{dir: dir, m: map[string]*deployment{}}
	b, err := os.ReadFile(filepath.Join(dir, stateFile))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return st, nil
	case err != nil:
		return nil, fieldErr("WithStateDir", "%v", err)
	}
	var list []*deployment
	if err := json.Unmarshal(b, &list); err != nil {
		return nil, fieldErr("WithStateDir", "%s is damaged: %v", filepath.Join(dir, stateFile), err)
	}
	for _, d := range list {
		st.m[d.Spec.Name] = d
	}
	return st, nil
}

// putModule stores a module by its digest and returns the digest.
func (st *deployStore) putModule(module []byte) (string, error) {
	sum := sha256.Sum256(module)
	name := hex.EncodeToString(sum[:])
	p := filepath.Join(st.dir, "modules", name+".wasm")
	if _, err := os.Stat(p); err == nil {
		return name, nil
	}
	return name, writeFileAtomic(p, module)
}

func (st *deployStore) module(sum string) ([]byte, error) {
	return os.ReadFile(filepath.Join(st.dir, "modules", sum+".wasm"))
}

// update changes (fn returns the new record) or deletes (nil) the
// deployment of name and writes the file.
func (st *deployStore) update(name string, fn func(d *deployment) *deployment) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	old := st.m[name]
	var cp *deployment
	if old != nil {
		c := *old
		cp = &c
	}
	nd := fn(cp)
	if nd == nil && old == nil {
		return nil
	}
	if nd == nil {
		delete(st.m, name)
	} else {
		st.m[name] = nd
	}
	if err := st.writeLocked(); err != nil {
		if old == nil {
			delete(st.m, name)
		} else {
			st.m[name] = old
		}
		return err
	}
	return nil
}

func (st *deployStore) get(name string) (deployment, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	d, ok := st.m[name]
	if !ok {
		return deployment{}, false
	}
	return *d, true
}

func (st *deployStore) all() []deployment {
	st.mu.Lock()
	defer st.mu.Unlock()
	out := make([]deployment, 0, len(st.m))
	for _, d := range st.m {
		out = append(out, *d)
	}
	slices.SortFunc(out, func(a, b deployment) int { return cmpStr(a.Spec.Name, b.Spec.Name) })
	return out
}

func cmpStr(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (st *deployStore) writeLocked() error {
	list := make([]*deployment, 0, len(st.m))
	used := map[string]bool{}
	for _, d := range st.m {
		list = append(list, d)
		used[d.Module] = true
		if d.Previous != nil {
			used[d.Previous.Module] = true
		}
	}
	slices.SortFunc(list, func(a, b *deployment) int { return cmpStr(a.Spec.Name, b.Spec.Name) })
	b, err := json.MarshalIndent(list, "", "  ")
	if err != nil {
		return err
	}
	if err := writeFileAtomic(filepath.Join(st.dir, stateFile), b); err != nil {
		return err
	}
	// Modules nobody refers to any more go (after the file that stopped
	// referring to them is on disk).
	ents, _ := os.ReadDir(filepath.Join(st.dir, "modules"))
	for _, e := range ents {
		if sum, ok := strings.CutSuffix(e.Name(), ".wasm"); ok && !used[sum] {
			_ = os.Remove(filepath.Join(st.dir, "modules", e.Name()))
		}
	}
	return nil
}

// writeFileAtomic writes b to p so that p holds either its old contents or
// all of b, even across a crash.
func writeFileAtomic(p string, b []byte) error {
	dir := filepath.Dir(p)
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return fmt.Errorf("server: state: %w", err)
	}
	tmp := f.Name()
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, p)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("server: state: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}

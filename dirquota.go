package caxton

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"sync"

	"github.com/caxton-go/caxton/sandbox"
)

// dirBlock is what one directory entry is charged at least: a guest that
// makes a million empty files uses the disk, and the quota says so.
const dirBlock = 4096

// dirQuotas enforces DirGrant.MaxBytes for one agent's granted
// directories, shared by its instances. WASI writes go to the host's file
// system without passing through the runtime, so a write cannot be refused
// as it happens: the directory is measured after each batch, and while it
// is over its bound the agent's batches are refused (a *QuotaError, a dead
// letter, an audit record) until something frees space. A guest can
// therefore pass its bound by what one batch writes — bounded in turn by
// the batch's deadline and fuel — and no further.
type dirQuotas struct {
	grants []sandbox.DirGrant // the writable grants with MaxBytes
	mu     sync.Mutex
	over   []bool // per grant: over its bound when last measured
}

// newDirQuotas checks the grants' bounds; nil when none has one.
func newDirQuotas(dirs []sandbox.DirGrant) (*dirQuotas, error) {
	q := &dirQuotas{}
	for i, d := range dirs {
		switch {
		case d.MaxBytes < 0:
			return nil, specErr(fmt.Sprintf("Wasm.Grants.Dirs[%d].MaxBytes", i), "%d is negative", d.MaxBytes)
		case d.MaxBytes > 0 && !d.Writable:
			return nil, specErr(fmt.Sprintf("Wasm.Grants.Dirs[%d].MaxBytes", i), "a read-only grant cannot grow; bound a writable one")
		case d.MaxBytes > 0:
			q.grants = append(q.grants, d)
		}
	}
	if len(q.grants) == 0 {
		return nil, nil
	}
	q.over = make([]bool, len(q.grants))
	return q, nil
}

// DirQuotaError is a granted directory over its DirGrant.MaxBytes. The
// runtime returns it wrapped with a *QuotaError naming the agent.
type DirQuotaError struct {
	GuestPath, HostPath string
	Used, Limit         int64 // Used is at least what the measurement had counted when it passed Limit
}

func (e *DirQuotaError) Error() string {
	return fmt.Sprintf("granted directory %s (%s) holds over %d bytes (counted %d)", e.GuestPath, e.HostPath, e.Limit, e.Used)
}

// before refuses a batch while a directory is over its bound, measuring it
// again first (the host may have freed space).
func (q *dirQuotas) before() *DirQuotaError {
	if q == nil {
		return nil
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	for i, g := range q.grants {
		if !q.over[i] {
			continue
		}
		if de := measure(g); de != nil {
			return de
		}
		q.over[i] = false
	}
	return nil
}

// after measures the directories a batch may have written; it returns the
// first over its bound (the batch went ahead; the next is refused).
func (q *dirQuotas) after() *DirQuotaError {
	if q == nil {
		return nil
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	var first *DirQuotaError
	for i, g := range q.grants {
		de := measure(g)
		q.over[i] = de != nil
		if de != nil && first == nil {
			first = de
		}
	}
	return first
}

var errOverQuota = errors.New("over quota")

// measure walks g's directory, charging each entry its size rounded up to
// dirBlock, and stops as soon as the total passes g.MaxBytes (so a guest
// that makes many files costs the walk no more than the bound allows). An
// unreadable directory counts as over: the host cannot vouch for it.
func measure(g sandbox.DirGrant) *DirQuotaError {
	var used int64
	err := filepath.WalkDir(g.HostPath, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		n := int64(dirBlock)
		if d.Type().IsRegular() {
			info, err := d.Info()
			if err != nil {
				return err
			}
			n = max((info.Size()+dirBlock-1)/dirBlock*dirBlock, dirBlock)
		}
		used += n
		if used > g.MaxBytes {
			return errOverQuota
		}
		return nil
	})
	switch {
	case err == nil:
		return nil
	case errors.Is(err, errOverQuota):
		return &DirQuotaError{GuestPath: g.GuestPath, HostPath: g.HostPath, Used: used, Limit: g.MaxBytes}
	}
	return &DirQuotaError{GuestPath: g.GuestPath, HostPath: g.HostPath, Used: -1, Limit: g.MaxBytes}
}

// quotaHit counts and audits a directory over its bound as the agent's
// quota hit (throttled like the send quotas'), and returns the error that
// refuses the agent's batches: a *QuotaError naming the agent, wrapping
// de.
func (h *wasmHandler) quotaHit(de *DirQuotaError) error {
	qe := &QuotaError{Agent: h.name, Quota: "directory bytes " + de.GuestPath, Limit: float64(de.Limit)}
	if a, err := h.rt.agent(h.name); err == nil { // else removed meanwhile
		h.rt.quotaHitAs(a, "write", "dir:"+de.GuestPath, nil, qe, de.Error())
	}
	return fmt.Errorf("%w: %w", qe, de)
}

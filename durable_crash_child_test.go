//go:build unix

package caxton_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/caxton-go/caxton"
	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/store/durable"
)

// The child side of TestDurableDeliverySurvivesSIGKILL (durable_crash_test.go).
// The parent re-executes the test binary with dcChildEnv set; init switches
// into child mode before the testing package runs anything, so the child
// needs no TestMain.

const (
	dcChildEnv = "CAXTON_CRASH_CHILD" // the test's directory: data/, sent, handled
	dcTotalEnv = "CAXTON_CRASH_TOTAL" // messages in all (numbered 0 … total-1)
	dcFinalEnv = "CAXTON_CRASH_FINAL" // "1": finish, wait until all is handled, close, exit 0

	dcSenders        = 64 // host goroutines calling rt.Send
	dcRelayReplicas  = 8  // relay instances, each waiting for its forward's fsync
	dcProgressEvery  = 100
	dcOfflineSends   = 150 // sends before each agent is spawned again (restarts only)
	dcFinalDrainTime = 90 * time.Second
)

func init() {
	dir := os.Getenv(dcChildEnv)
	if dir == "" {
		return
	}
	total, err := strconv.Atoi(os.Getenv(dcTotalEnv))
	if err == nil {
		err = dcChild(dir, total, os.Getenv(dcFinalEnv) == "1")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "crash child:", err)
		os.Exit(2)
	}
	os.Exit(0)
}

// dcReadNumbers parses a file of decimal numbers, one a line (a missing
// file is empty). A line that is not a number in [0, total) is an error.
func dcReadNumbers(path string, total int) ([]int, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []int
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		n, err := strconv.Atoi(sc.Text())
		if err != nil || n < 0 || n >= total {
			return nil, fmt.Errorf("%s:%d: bad line %q", path, line, sc.Text())
		}
		out = append(out, n)
	}
	return out, sc.Err()
}

// dcChild is one run of the child: it sends every number not yet in the
// sent file — even ones straight to "sink", odd ones through "relay", which
// forwards them to "sink" — and appends each to the sent file once its Send
// returned nil; sink appends each number it handles to the handled file
// before it returns nil (the ack). A run that is not final then waits to be
// killed; the final run waits until every number was handled and both
// agents are idle, closes the runtime and reports.
//
// On a restart the agents are spawned late, after dcOfflineSends sends
// each, so those messages go to queues of agents that are not running
// (relay forwards to an offline sink for a while, too).
func dcChild(dir string, total int, final bool) error {
	sentPath, handledPath := filepath.Join(dir, "sent"), filepath.Join(dir, "handled")
	spawnedPath := filepath.Join(dir, "spawned") // both agents were spawned in an earlier run
	sent, err := dcReadNumbers(sentPath, total)
	if err != nil {
		return err
	}
	handled, err := dcReadNumbers(handledPath, total)
	if err != nil {
		return err
	}
	isSent := make([]bool, total)
	for _, n := range sent {
		isSent[n] = true
	}
	seen := make([]atomic.Bool, total)
	for _, n := range handled {
		seen[n].Store(true)
	}
	var work []int // in order, the gaps left by killed sends first
	for n := range total {
		if !isSent[n] {
			work = append(work, n)
		}
	}
	sentF, err := os.OpenFile(sentPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	handledF, err := os.OpenFile(handledPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	_, err = os.Stat(spawnedPath)
	restart := err == nil

	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	st, err := durable.Open(filepath.Join(dir, "data"), durable.WithLogger(logger))
	if err != nil {
		return err
	}
	rt, err := caxton.New(caxton.WithStore(st), caxton.WithLogger(logger))
	if err != nil {
		return err
	}
	ctx := context.Background()

	var handledNow, notices atomic.Int64
	sink := caxton.AgentSpec{
		Name: "sink",
		Handler: caxton.HandlerFunc(func(_ context.Context, mc *caxton.MessageContext) error {
			if mc.Message().Performative != acl.Inform {
				notices.Add(1) // a runtime notice, not one of ours
				return nil
			}
			c := mc.Message().Content
			n, err := strconv.Atoi(string(c))
			if err != nil || n < 0 || n >= total {
				return caxton.Permanent(fmt.Errorf("bad content %q", c))
			}
			line := make([]byte, 0, len(c)+1)
			if _, err := handledF.Write(append(append(line, c...), '\n')); err != nil {
				return err
			}
			seen[n].Store(true)
			handledNow.Add(1)
			return nil
		}),
		// Patient: a failure here would be a file write.
		Delivery: caxton.DeliveryPolicy{MaxAttempts: 50},
	}
	relay := caxton.AgentSpec{
		Name:     "relay",
		Replicas: dcRelayReplicas,
		Handler: caxton.HandlerFunc(func(ctx context.Context, mc *caxton.MessageContext) error {
			if mc.Message().Performative != acl.Inform {
				// The runtime's failure notice about a forward that failed
				// (which was retried): not forwarded.
				notices.Add(1)
				return nil
			}
			m := acl.New(acl.Inform, "sink")
			m.Content = bytes.Clone(mc.Message().Content)
			return mc.Send(ctx, m) // nil: on disk in sink's queue, so relay's copy may be acked
		}),
		// Patient too: while sink is being spawned again, sends to it fail
		// for a moment; that must not dead-letter anything.
		Delivery: caxton.DeliveryPolicy{MaxAttempts: 50, Backoff: caxton.Backoff{Initial: 5 * time.Millisecond, Max: 100 * time.Millisecond, Multiplier: 2}},
	}

	var (
		next, progress atomic.Int64
		errMu          sync.Mutex
		sendErrs       = map[string]int{}
		wg             sync.WaitGroup
	)
	send := func() {
		for {
			i := int(next.Add(1)) - 1
			if i >= len(work) {
				return
			}
			n := work[i]
			to := acl.AgentID("sink")
			if n%2 == 1 {
				to = "relay"
			}
			content := []byte(strconv.Itoa(n))
			for {
				m := acl.New(acl.Inform, to)
				m.Content = content
				err := rt.Send(ctx, m)
				if err == nil {
					break
				}
				msg := err.Error()
				if len(msg) > 120 {
					msg = msg[:120]
				}
				errMu.Lock()
				if sendErrs[msg]++; sendErrs[msg] == 1 {
					fmt.Printf("send error after %d sends: %s\n", progress.Load(), msg)
				}
				errMu.Unlock()
				time.Sleep(time.Millisecond) // the agent is being spawned: try again
			}
			// Only now is the message promised to be delivered.
			if _, err := sentF.Write([]byte(strconv.Itoa(n) + "\n")); err != nil {
				panic(err)
			}
			if p := progress.Add(1); p%dcProgressEvery == 0 {
				fmt.Fprintf(os.Stdout, "progress %d\n", p) // one write: the parent reads it at once
			}
		}
	}
	startSenders := func() {
		for range dcSenders {
			wg.Go(send)
		}
	}

	// waitSends polls until this run sent n more messages (or all of them).
	waitSends := func(n int64) {
		n = min(n, int64(len(work)))
		for progress.Load() < n {
			time.Sleep(time.Millisecond)
		}
	}
	spawn := func(spec caxton.AgentSpec) error {
		t0 := time.Now()
		if err := rt.Spawn(ctx, spec); err != nil {
			return err
		}
		fmt.Printf("spawned %s in %v after %d sends\n", spec.Name, time.Since(t0).Round(time.Microsecond), progress.Load())
		return nil
	}
	if restart {
		startSenders() // to agents not spawned yet: queued on disk for them
		waitSends(dcOfflineSends)
		if err := spawn(relay); err != nil {
			return err
		}
		waitSends(2 * dcOfflineSends)
		if err := spawn(sink); err != nil {
			return err
		}
	} else {
		if err := spawn(sink); err != nil {
			return err
		}
		if err := spawn(relay); err != nil {
			return err
		}
		if err := os.WriteFile(spawnedPath, nil, 0o644); err != nil {
			return err
		}
		startSenders()
	}
	wg.Wait()
	if !final {
		for {
			time.Sleep(time.Hour) // until the parent's SIGKILL
		}
	}

	// Final run: every number was sent; wait until each was handled (in
	// this run or an earlier one) and the agents are idle: no queued
	// duplicates left, so the store ends empty. Should QueueDepth be
	// wrong (negative), idle is judged by InFlight and handling having
	// stopped instead, and the run fails after its report.
	var negative error
	deadline := time.Now().Add(dcFinalDrainTime)
	lastCount, lastChange := int64(-1), time.Now()
	for {
		missing := []int{}
		for n := range total {
			if !seen[n].Load() {
				missing = append(missing, n)
			}
		}
		si, err1 := rt.Agent("sink")
		ri, err2 := rt.Agent("relay")
		if err := errors.Join(err1, err2); err != nil {
			return err
		}
		for _, info := range []caxton.AgentInfo{si, ri} {
			if info.QueueDepth < 0 && negative == nil {
				negative = fmt.Errorf("AgentInfo.QueueDepth of %s is %d (InFlight %d) after a restart", info.Name, info.QueueDepth, info.InFlight)
			}
		}
		if c := handledNow.Load() + int64(ri.Processed); c != lastCount {
			lastCount, lastChange = c, time.Now()
		}
		// Nothing in flight (so nothing waits for a retry either) and
		// nothing handled for a while.
		settled := si.InFlight == 0 && ri.InFlight == 0 && time.Since(lastChange) > 500*time.Millisecond
		empty := si.QueueDepth == 0 && ri.QueueDepth == 0 && si.InFlight == 0 && ri.InFlight == 0
		if len(missing) == 0 && (empty || negative != nil && settled) {
			break
		}
		if len(missing) > 0 && settled && time.Since(lastChange) > time.Second || time.Now().After(deadline) {
			return errors.Join(negative, fmt.Errorf("%d sent messages never handled (first: %v); sink %+v; relay %+v",
				len(missing), missing[:min(20, len(missing))], si, ri))
		}
		time.Sleep(5 * time.Millisecond)
	}
	dls, err := rt.DeadLetters(context.Background())
	if err != nil {
		return err
	}
	si, _ := rt.Agent("sink")
	ri, _ := rt.Agent("relay")
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := rt.Close(cctx); err != nil {
		return fmt.Errorf("close: %w", err)
	}
	var kinds []string
	for msg, k := range sendErrs {
		kinds = append(kinds, fmt.Sprintf("%d× %s", k, msg))
	}
	sort.Strings(kinds)
	fmt.Printf("final sent=%d handled=%d deadletters=%d notices=%d sinkFailed=%d relayFailed=%d relayRetried=%d sendErrors=%v\n",
		progress.Load(), handledNow.Load(), len(dls), notices.Load(), si.Failed, ri.Failed, ri.Retried, kinds)
	for _, dl := range dls[:min(5, len(dls))] {
		fmt.Printf("deadletter %+v\n", dl)
	}
	return negative
}

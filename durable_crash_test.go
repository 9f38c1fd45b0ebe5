//go:build unix

package caxton_test

import (
	"bufio"
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/caxton-go/caxton/internal/testenv"
	"github.com/caxton-go/caxton/store/durable"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDurableDeliverySurvivesSIGKILL is the crash test of issue 7: a child
// process (this test binary again, switched by dcChildEnv in
// durable_crash_child_test.go) runs a runtime on a durable store and streams
// dcTotal messages through two agents — half straight to "sink", half via
// "relay", which forwards them to "sink" — from dcSenders goroutines. The
// child appends a message's number to the "sent" file only after its Send
// returned nil, and sink appends it to the "handled" file before its
// handler returns nil. The parent SIGKILLs the child dcKills times — after
// a random delay, or once the child has sent a random number of messages —
// and starts it again each time; a restarted child first sends to agents
// it has not spawned yet (queued on disk for them), then spawns them, and
// sends what the sent file lacks. The last run sends the rest, waits until
// every number is handled and closes cleanly. Then every number in "sent"
// must be in "handled" (duplicates are allowed: at-least-once), nothing
// may be dead-lettered, and the store must hold nothing any more.
//
// The full run (dcTotal messages, dcKills kills: ~6 s, ~17 s under the
// race detector) is a long test (CAXTON_TEST_LONG=1, internal/testenv); the
// everyday go test ./... streams dcShortTotal messages through dcShortKills
// kills, checking the same things.
//
// Set CAXTON_CRASH_SEED to repeat a run's kill plan (the timing of the
// child cannot be repeated, only the plan).
func TestDurableDeliverySurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test: restarts a child process several times and streams thousands of durable messages")
	}
	total, kills := dcShortTotal, dcShortKills
	if testenv.Long() {
		total, kills = dcTotal, dcKills
		if dcRaceEnabled() {
			// The children are built with the race detector too (and any
			// race they report fails the test): 100,000 messages take ~17 s
			// there (~6 s without), so CI's long -race run streams a fifth
			// of them.
			total, kills = dcTotal/5, 6
		}
	}
	t.Logf("%d messages, %d SIGKILLs (%s=1 runs %d and %d)", total, kills, testenv.LongEnv, dcTotal, dcKills)
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("CAXTON_CRASH_SEED"); s != "" {
		var err error
		seed, err = strconv.ParseUint(s, 10, 64)
		require.NoError(t, err)
	}
	t.Logf("seed %d (CAXTON_CRASH_SEED=%d repeats the kill plan)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	dir := t.TempDir()
	sentPath, handledPath := filepath.Join(dir, "sent"), filepath.Join(dir, "handled")

	start := time.Now()
	var killedSent, killedOutstanding int
	finalFailed := false
	for run := 0; run <= kills; run++ {
		final := run == kills
		sentBefore := dcMustRead(t, sentPath, total)
		handledBefore := dcMustRead(t, handledPath, total)
		remaining := total - len(dcDistinct(sentBefore))

		// The kill plan: alternately a random number of sends into the run
		// (first: so at least one kill lands mid-stream however fast the
		// machine) and a random delay after the start (which may land while
		// the child opens the store or redelivers its backlog).
		k := dcKill{}
		if !final {
			if run%2 == 1 || remaining < 4*dcProgressEvery {
				k.delay = time.Duration(100+rng.IntN(701)) * time.Millisecond
			} else {
				k.sends = dcProgressEvery * (1 + rng.IntN(min(remaining/2, 2*total/(kills+1))/dcProgressEvery))
			}
		}
		res := dcRunChild(t, dir, total, final, k)
		finalFailed = res.failed
		sentAfter := dcMustRead(t, sentPath, total)
		handledAfter := dcMustRead(t, handledPath, total)
		outstanding := len(dcSetMinus(dcDistinct(sentAfter), dcDistinct(handledAfter)))
		t.Logf("run %d %-22s %6dms  sent +%-6d handled +%-6d sent, not yet handled: %d",
			run+1, k, res.took.Milliseconds(), len(sentAfter)-len(sentBefore), len(handledAfter)-len(handledBefore), outstanding)
		if res.stderr != "" {
			t.Logf("run %d stderr (lines by message):\n%s", run+1, dcSummarize(res.stderr))
		}
		assert.False(t, res.raced, "run %d: the race detector reported a data race:\n%s", run+1, res.stderr)
		for _, l := range res.lines {
			t.Logf("run %d: %s", run+1, l)
		}
		if !final {
			killedSent += len(sentAfter) - len(sentBefore)
			killedOutstanding += outstanding
		}
	}
	t.Logf("%d runs, %d SIGKILLs, %v in all", kills+1, kills, time.Since(start).Round(time.Millisecond))

	// The kills happened mid-stream: messages were sent in killed runs, and
	// some of them were not handled yet when their run was killed.
	assert.Positive(t, killedSent, "no message was sent in a run that was killed")
	assert.Positive(t, killedOutstanding, "no kill left a sent message unhandled")

	sent := dcMustRead(t, sentPath, total)
	handled := dcMustRead(t, handledPath, total)
	sentCount := make([]int, total)
	for _, n := range sent {
		sentCount[n]++
	}
	handledCount := make([]int, total)
	for _, n := range handled {
		handledCount[n]++
	}
	var lost, duplicates, twiceSent []int
	for n := range total {
		if sentCount[n] != 1 {
			twiceSent = append(twiceSent, n)
		}
		if sentCount[n] > 0 && handledCount[n] == 0 {
			lost = append(lost, n)
		}
		if handledCount[n] > 1 {
			duplicates = append(duplicates, n)
		}
	}
	extra := len(handled) - total + len(lost)
	t.Logf("sent %d (%d in killed runs), handled %d times: %d messages more than once (%d extra deliveries, at-least-once allows them), %d lost",
		len(sent), killedSent, len(handled), len(duplicates), extra, len(lost))
	require.Zero(t, len(lost), "messages sent (Send returned nil) but never handled: %d of %d, first %v", len(lost), total, lost[:min(20, len(lost))])
	require.Zero(t, len(twiceSent), "numbers not recorded as sent exactly once: %d, first %v", len(twiceSent), twiceSent[:min(20, len(twiceSent))])
	require.Len(t, sent, total)
	if finalFailed {
		t.FailNow()
	}

	// The final run closed the runtime after everything was handled: the
	// store keeps no message and no dead letter.
	s, err := durable.Open(filepath.Join(dir, "data"))
	require.NoError(t, err)
	defer s.Close()
	assert.Zero(t, s.DeadLetters().Len(), "dead letters")
	queues := s.Queues()
	assert.Contains(t, queues, "sink#0")
	for _, name := range queues {
		q, err := s.Queue(name)
		require.NoError(t, err)
		assert.Zero(t, q.Len()+q.InFlight(), "messages left in %s after a clean close", name)
		require.NoError(t, q.Close())
	}
}

const (
	dcTotal = 100_000 // long mode
	dcKills = 10

	dcShortTotal = 10_000 // everyday
	dcShortKills = 3
)

// dcRaceEnabled reports whether this binary was built with -race.
func dcRaceEnabled() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}

// dcKill is when to SIGKILL a child: after delay, or once it reported
// sends sent messages; neither for the final run.
type dcKill struct {
	delay time.Duration
	sends int
}

func (k dcKill) String() string {
	switch {
	case k.delay > 0:
		return "kill after " + k.delay.String()
	case k.sends > 0:
		return "kill after " + strconv.Itoa(k.sends) + " sends"
	}
	return "final"
}

type dcResult struct {
	failed bool // the final child did not finish cleanly
	raced  bool // the child's race detector reported a race
	took   time.Duration
	lines  []string // stdout, other than progress
	stderr string
}

// dcRunChild runs one child and kills it as k says (and requires that it
// died of the SIGKILL), or — final — waits for it to finish and asserts a
// clean exit.
func dcRunChild(t *testing.T, dir string, total int, final bool, k dcKill) dcResult {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestDurableDeliverySurvivesSIGKILL$")
	cmd.Env = append(os.Environ(),
		dcChildEnv+"="+dir,
		dcTotalEnv+"="+strconv.Itoa(total),
		dcFinalEnv+"="+map[bool]string{true: "1", false: "0"}[final])
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	start := time.Now()
	require.NoError(t, cmd.Start())

	progress := make(chan int, 16)
	var lines []string
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if p, ok := strings.CutPrefix(sc.Text(), "progress "); ok {
				n, _ := strconv.Atoi(p)
				select {
				case progress <- n:
				default: // the parent is not counting (or behind): a later report follows
				}
				continue
			}
			lines = append(lines, sc.Text())
		}
	}()

	limit := time.NewTimer(3 * time.Minute) // a hung child fails the test rather than the go test timeout
	defer limit.Stop()
	var delay <-chan time.Time
	if k.delay > 0 {
		delay = time.After(k.delay)
	}
	killed := false
	kill := func() {
		if !killed {
			killed = true
			require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
		}
	}
wait:
	for {
		select {
		case <-delay:
			kill()
		case n := <-progress:
			if k.sends > 0 && n >= k.sends {
				kill()
			}
		case <-readDone: // the child's stdout closed: it died or exited
			break wait
		case <-limit.C:
			kill()
			<-readDone
			_ = cmd.Wait()
			t.Fatalf("child (%v) did not finish in time; stderr:\n%s", k, dcTail(stderr.String()))
		}
	}
	err = cmd.Wait()
	res := dcResult{took: time.Since(start), lines: lines, stderr: dcTail(stderr.String()),
		raced: strings.Contains(stderr.String(), "WARNING: DATA RACE")}
	if final {
		// Not require: the caller still reports which messages are lost.
		res.failed = !assert.NoError(t, err, "final child; stderr:\n%s", res.stderr)
		return res
	}
	require.True(t, killed, "child (%v) exited before it was killed: %v; stderr:\n%s", k, err, res.stderr)
	ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
	require.True(t, ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL,
		"child (%v) was to die of SIGKILL: %v; stderr:\n%s", k, err, res.stderr)
	return res
}

// dcSummarize counts a child's stderr lines by their slog msg (other
// lines as they are), so the test log stays short.
func dcSummarize(stderr string) string {
	counts := map[string]int{}
	var order []string
	for _, line := range strings.Split(strings.TrimSpace(stderr), "\n") {
		key := line
		if _, rest, ok := strings.Cut(line, " msg="); ok {
			key = rest
			if i := strings.Index(rest, `" `); strings.HasPrefix(rest, `"`) && i > 0 {
				key = rest[:i+1]
			}
			if _, err, ok := strings.Cut(rest, " error="); ok {
				key += " error=" + err
			}
			if i := strings.Index(key, " attempt="); i > 0 {
				key = key[:i]
			}
		}
		if counts[key]++; counts[key] == 1 {
			order = append(order, key)
		}
	}
	var b strings.Builder
	for _, k := range order {
		fmt.Fprintf(&b, "%6d× %s\n", counts[k], k)
	}
	return b.String()
}

func dcTail(s string) string {
	if len(s) > 4000 {
		return "…" + s[len(s)-4000:]
	}
	return s
}

func dcMustRead(t *testing.T, path string, total int) []int {
	t.Helper()
	ns, err := dcReadNumbers(path, total)
	require.NoError(t, err)
	return ns
}

func dcDistinct(ns []int) map[int]bool {
	m := make(map[int]bool, len(ns))
	for _, n := range ns {
		m[n] = true
	}
	return m
}

func dcSetMinus(a, b map[int]bool) map[int]bool {
	out := map[int]bool{}
	for n := range a {
		if !b[n] {
			out[n] = true
		}
	}
	return out
}

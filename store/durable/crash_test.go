package durable_test

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caxton-go/caxton/acl"
	"github.com/caxton-go/caxton/internal/testenv"
	"github.com/caxton-go/caxton/store"
	"github.com/caxton-go/caxton/store/durable"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// The crash test: the test binary re-executes itself as a child (switched
// by crashChildEnv in TestMain) that pushes messages through the store from
// many goroutines (half with Push, half with PushAsync) while consumers ack,
// retry and release them. It reports
// on stdout, one write per line, "P id" after a Push returned, "R id n"
// after a Retry recorded n attempts, and "A id" *before* every Ack — so an
// ack the parent does not hear of cannot have happened. The parent kills
// the child with SIGKILL after a random number of pushes, reopens the store
// and checks that every reported push was acked or is still queued, in
// order, with its attempts; then it lets a new child carry on from there.

const (
	crashChildEnv = "DURABLE_CRASH_CHILD" // the store directory
	crashBaseEnv  = "DURABLE_CRASH_BASE"  // first message id of this child
	crashCount    = 3000                  // messages per child
	crashQueues   = 16
)

func TestMain(m *testing.M) {
	if dir := os.Getenv(crashChildEnv); dir != "" {
		base, _ := strconv.Atoi(os.Getenv(crashBaseEnv))
		if err := crashChild(dir, base); err != nil {
			fmt.Fprintln(os.Stderr, "crash child:", err)
			os.Exit(2)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func crashQueueName(i int) string { return fmt.Sprintf("agent-%d#0", i) }

// crashChild is the child process: it runs until it has pushed and
// settled crashCount messages, unless it is killed first.
func crashChild(dir string, base int) error {
	s, err := durable.Open(dir, durable.WithLogger(quietLog))
	if err != nil {
		return err
	}
	var outMu sync.Mutex
	say := func(format string, args ...any) {
		line := fmt.Sprintf(format+"\n", args...)
		outMu.Lock()
		_, _ = os.Stdout.WriteString(line) // unbuffered: the line is out before we go on
		outMu.Unlock()
	}
	type box struct {
		mu     sync.Mutex // the runtime's mailbox lock: calls on one queue are serialised
		q      *durable.Queue
		notify chan struct{}
	}
	boxes := make([]*box, crashQueues)
	for i := range boxes {
		q, err := s.Queue(crashQueueName(i))
		if err != nil {
			return err
		}
		boxes[i] = &box{q: q, notify: make(chan struct{}, 1)}
	}
	var next atomic.Int64
	next.Store(int64(base))
	var pushers, consumers sync.WaitGroup
	pushing := make(chan struct{})
	var failed atomic.Value
	for range 32 {
		pushers.Go(func() {
			for {
				id := int(next.Add(1)) - 1
				if id >= base+crashCount {
					return
				}
				b := boxes[id%crashQueues]
				e := &store.Envelope{Msg: &acl.Message{Performative: acl.Inform, Content: []byte(strconv.Itoa(id)),
					Priority: acl.Priority(id%3 - 1)}, Receiver: "agent"}
				var err error
				if id%2 == 0 {
					b.mu.Lock()
					err = b.q.Push(e)
					b.mu.Unlock()
				} else { // as a mailbox would: queue under the lock, wait for the disk outside it
					b.mu.Lock()
					wait, perr := b.q.PushAsync(e)
					b.mu.Unlock()
					if err = perr; err == nil {
						err = wait()
					}
				}
				if err != nil {
					failed.Store(err)
					return
				}
				say("P %d", id)
				select {
				case b.notify <- struct{}{}:
				default:
				}
			}
		})
	}
	for _, b := range boxes {
		consumers.Go(func() {
			for {
				b.mu.Lock()
				e := b.q.Pop()
				b.mu.Unlock()
				if e == nil {
					select {
					case <-b.notify:
						continue
					case <-pushing:
						b.mu.Lock()
						empty := b.q.Len() == 0
						b.mu.Unlock()
						if empty {
							return
						}
						continue
					}
				}
				id, _ := strconv.Atoi(string(e.Msg.Content))
				if id%7 == 0 && e.Attempts < 2 { // a failing handler: record the attempt, put it back
					e.Attempts++
					b.mu.Lock()
					err := b.q.Retry(e)
					if err == nil {
						say("R %d %d", id, e.Attempts)
						err = b.q.Release(e)
					}
					b.mu.Unlock()
					if err != nil {
						failed.Store(err)
						return
					}
					continue
				}
				say("A %d", id)
				b.mu.Lock()
				err := b.q.Ack(e)
				b.mu.Unlock()
				if err != nil {
					failed.Store(err)
					return
				}
			}
		})
	}
	pushers.Wait()
	close(pushing)
	consumers.Wait()
	if err, _ := failed.Load().(error); err != nil {
		return err
	}
	say("DONE")
	return s.Close()
}

// crashLog is what the parent heard from its children.
type crashLog struct {
	pushed   map[int]bool
	acked    map[int]bool
	attempts map[int]int
}

func TestCrashKillAndRecover(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns child processes")
	}
	t.Parallel()
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 7))
	dir := t.TempDir()
	log := crashLog{pushed: map[int]bool{}, acked: map[int]bool{}, attempts: map[int]int{}}
	rounds := 3 // two kills, then a child that finishes
	if testenv.Long() {
		rounds = 6
	}
	t.Logf("%d rounds (%s=1 runs 6)", rounds, testenv.LongEnv)
	for round := range rounds {
		base := (round + 1) * 1_000_000
		killAt := 1 + rng.IntN(crashCount) // pushes heard before SIGKILL
		if round == rounds-1 {
			killAt = -1 // the last child runs to the end
		}
		done := runCrashChild(t, dir, base, killAt, &log)
		if round == rounds-1 {
			require.True(t, done, "the last child finishes")
		}
		onDisk := verifyCrashStore(t, dir, &log)
		t.Logf("round %d: kill after %d pushes; heard %d pushes, %d acks in all; %d queued after reopen",
			round, killAt, len(log.pushed), len(log.acked), onDisk)
	}
}

// runCrashChild runs one child and, if killAt > 0, SIGKILLs it once it
// has reported killAt pushes. It reports whether the child said DONE.
func runCrashChild(t *testing.T, dir string, base, killAt int, log *crashLog) bool {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+dir, crashBaseEnv+"="+strconv.Itoa(base))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, w, err := os.Pipe()
	require.NoError(t, err)
	defer out.Close()
	// A one-page pipe keeps the child at most a few hundred lines ahead of
	// what we have read, so the kill lands while it is busy, not after.
	_, _ = unix.FcntlInt(w.Fd(), unix.F_SETPIPE_SZ, 4096)
	cmd.Stdout = w
	require.NoError(t, cmd.Start())
	require.NoError(t, w.Close())
	sc := bufio.NewScanner(out)
	pushes, done := 0, false
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		id := 0
		if len(f) > 1 {
			id, _ = strconv.Atoi(f[1])
		}
		switch f[0] {
		case "P":
			log.pushed[id] = true
			if pushes++; pushes == killAt {
				_ = cmd.Process.Kill() // SIGKILL; lines already written are still read below
			}
		case "A":
			log.acked[id] = true
		case "R":
			n, _ := strconv.Atoi(f[2])
			log.attempts[id] = max(log.attempts[id], n)
		case "DONE":
			done = true
		}
	}
	err = cmd.Wait()
	if !done && killAt < 0 {
		t.Fatalf("child failed: %v\n%s", err, stderr.String())
	}
	if done {
		require.NoError(t, err, stderr.String())
	}
	return done
}

// verifyCrashStore reopens the store and checks it against the log:
// nothing reported pushed is missing unless it was acked, every queue is in
// priority then arrival order, and attempt counts are at least what was
// recorded. It returns how many envelopes are queued.
func verifyCrashStore(t *testing.T, dir string, log *crashLog) int {
	t.Helper()
	s, err := durable.Open(dir, durable.WithLogger(quietLog))
	require.NoError(t, err)
	defer func() { require.NoError(t, s.Close()) }()
	onDisk := map[int]bool{}
	for i := range crashQueues {
		q, err := s.Queue(crashQueueName(i))
		require.NoError(t, err)
		lastLane, lastSeq := 2, uint64(0)
		for e := q.Pop(); e != nil; e = q.Pop() {
			id, err := strconv.Atoi(string(e.Msg.Content))
			require.NoError(t, err)
			require.False(t, onDisk[id], "message %d queued twice", id)
			onDisk[id] = true
			l := int(e.Msg.Priority) + 1
			require.LessOrEqual(t, l, lastLane, "queue %d: priority order", i)
			if l < lastLane {
				lastLane, lastSeq = l, 0
			}
			require.Greater(t, e.Seq, lastSeq, "queue %d: arrival order within a priority", i)
			lastSeq = e.Seq
			assert.GreaterOrEqual(t, e.Attempts, log.attempts[id], "message %d: recorded attempts survive", id)
		}
		require.NoError(t, q.Close())
	}
	var lost []int
	for id := range log.pushed {
		if !log.acked[id] && !onDisk[id] {
			lost = append(lost, id)
		}
	}
	require.Empty(t, lost, "messages whose Push returned, never acked, and gone")
	return len(onDisk)
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/caxton-go/caxton/server"
	"github.com/caxton-go/caxton/server/client"
)

// verb is one CLI verb over the API.
type verb struct {
	usage   string // the arguments, after "caxton VERB"
	help    string
	minArgs int
	maxArgs int // -1: any
	flags   func(fs *flag.FlagSet) func(e *env, args []string) error
}

// env is what a verb runs with.
type env struct {
	ctx  context.Context
	c    *client.Client
	json bool
	out  io.Writer
	err  io.Writer
}

var verbs map[string]verb

func init() {
	verbs = map[string]verb{
		"deploy":   {"FILE.wasm | --path P", "Deploy a wasm agent: upload FILE.wasm, or name a module under the server's module_dir with --path.", 0, 1, deployFlags},
		"list":     {"", "List the agents.", 0, 0, listFlags},
		"status":   {"NAME", "Show one agent: state, version, replicas, queues, counters, health.", 1, 1, statusFlags},
		"logs":     {"NAME", "Show an agent's recent log records; --follow keeps streaming them.", 1, 1, logsFlags},
		"scale":    {"NAME --replicas N", "Set the number of an agent's instances.", 1, 1, scaleFlags},
		"upgrade":  {"NAME FILE.wasm | NAME --path P", "Upgrade an agent to a new module; waits until it took over or was rolled back, showing progress.", 1, 2, upgradeFlags},
		"rollback": {"NAME", "Give up the upgrade in progress, or go back to the version before the last upgrade.", 1, 1, simple("rollback")},
		"stop":     {"NAME [--force]", "Stop an agent after its current message (--force: at once); messages queue up.", 1, 1, stopFlags},
		"start":    {"NAME", "Start a stopped or failed agent.", 1, 1, simple("start")},
		"restart":  {"NAME", "Restart an agent's instances.", 1, 1, simple("restart")},
		"remove":   {"NAME", "Remove an agent; its queued messages are dead-lettered.", 1, 1, removeFlags},
		"send":     {"NAME CONTENT", "Send a message to an agent (or --message FILE: an ACL message as JSON).", 0, 2, sendFlags(false)},
		"request":  {"NAME CONTENT", "Send a request and print the reply's content (or --message FILE).", 0, 2, sendFlags(true)},
		"dlq":      {"list | replay ID...|--all | purge ID...|--all", "List, replay or purge dead letters.", 1, -1, dlqFlags},
		"events":   {"", "Print lifecycle events as they happen (Ctrl-C to stop).", 0, 0, eventsFlags},
		"join":     {"NAME", "Join the bus as agent NAME (WebSocket gateway): print each message it gets, acknowledging it, and send each line of stdin (a JSON message) as NAME.", 1, 1, joinFlags},
	}
}

// runVerb parses the common and the verb's flags (anywhere among the
// arguments) and runs it.
func runVerb(ctx context.Context, name string, v verb, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	srv := fs.String("server", envOr("CAXTON_SERVER", "http://127.0.0.1:7070"), "the server's address ($CAXTON_SERVER)")
	token := fs.String("token", "", "the bearer token (default $CAXTON_TOKEN)")
	asJSON := fs.Bool("json", false, "print the API's JSON instead of a table")
	timeout := fs.Duration("http-timeout", 5*time.Minute, "give up on the server after this long (not for --follow)")
	do := v.flags(fs)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: caxton %s %s\n\n%s\n\nflags:\n", name, v.usage, v.help)
		fs.PrintDefaults()
	}
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return errHelp
			}
			return usageErr(err)
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(pos) < v.minArgs || (v.maxArgs >= 0 && len(pos) > v.maxArgs) {
		fs.Usage()
		return usageErr(fmt.Errorf("%s: want %s, got %d arguments", name, v.usage, len(pos)))
	}
	if *token == "" {
		*token = os.Getenv("CAXTON_TOKEN")
	}
	c, err := client.New(*srv, client.WithToken(*token), client.WithHTTPClient(&http.Client{Timeout: *timeout}))
	if err != nil {
		return usageErr(err)
	}
	e := &env{ctx: ctx, c: c, json: *asJSON, out: stdout, err: stderr}
	return do(e, pos)
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// show prints v as JSON (--json) or with the table printer.
func (e *env) show(v any, table func()) error {
	if e.json {
		enc := json.NewEncoder(e.out)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	table()
	return nil
}

func deployFlags(fs *flag.FlagSet) func(*env, []string) error {
	name := fs.String("name", "", "the agent's name (default: the file's name without .wasm)")
	version := fs.String("version", "", "the version label (default v1)")
	replicas := fs.Int("replicas", 0, "instances (default 1)")
	specFile := fs.String("spec", "", "a JSON DeploySpec file with the other settings")
	path := fs.String("path", "", "a module under the server's module_dir, instead of an upload")
	return func(e *env, args []string) error {
		var spec server.DeploySpec
		if *specFile != "" {
			b, err := os.ReadFile(*specFile)
			if err != nil {
				return usageErr(err)
			}
			dec := json.NewDecoder(bytes.NewReader(b))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&spec); err != nil {
				return usageErr(fmt.Errorf("%s: %w", *specFile, err))
			}
		}
		if (len(args) == 1) == (*path != "") {
			return usageErr(errors.New("deploy: give a FILE.wasm to upload or --path, one of them"))
		}
		var module []byte
		if len(args) == 1 {
			var err error
			if module, err = os.ReadFile(args[0]); err != nil {
				return usageErr(err)
			}
			if spec.Name == "" {
				spec.Name = strings.TrimSuffix(filepath.Base(args[0]), ".wasm")
			}
		}
		spec.Path = *path
		if *name != "" {
			spec.Name = *name
		}
		if spec.Name == "" {
			return usageErr(errors.New("deploy: --name is required with --path"))
		}
		if *version != "" {
			spec.Version = *version
		}
		if *replicas != 0 {
			spec.Replicas = *replicas
		}
		if !e.json {
			if module != nil {
				fmt.Fprintf(e.err, "deploying %s (%s, %s)…\n", spec.Name, args[0], size(len(module)))
			} else {
				fmt.Fprintf(e.err, "deploying %s (%s on the server)…\n", spec.Name, spec.Path)
			}
		}
		st, err := e.c.Deploy(e.ctx, spec, module)
		if err != nil {
			return err
		}
		return e.show(st, func() {
			fmt.Fprintf(e.out, "deployed %s %s: %s, %d replica(s)\n", st.Name, st.Version, st.State, st.Replicas)
		})
	}
}

func size(n int) string {
	if n < 1<<10 {
		return fmt.Sprintf("%d B", n)
	}
	return fmt.Sprintf("%.1f KiB", float64(n)/1024)
}

func listFlags(fs *flag.FlagSet) func(*env, []string) error {
	return func(e *env, _ []string) error {
		list, err := e.c.Agents(e.ctx)
		if err != nil {
			return err
		}
		return e.show(list, func() { agentTable(e.out, list) })
	}
}

func statusFlags(fs *flag.FlagSet) func(*env, []string) error {
	return func(e *env, args []string) error {
		st, err := e.c.Agent(e.ctx, args[0])
		if err != nil {
			return err
		}
		return e.show(st, func() { agentDetail(e.out, st) })
	}
}

func logsFlags(fs *flag.FlagSet) func(*env, []string) error {
	since := fs.String("since", "", "records from this long ago (\"1h\") or this RFC 3339 time")
	follow := fs.Bool("follow", false, "keep streaming new records")
	return func(e *env, args []string) error {
		print := func(l server.LogView) error {
			if e.json {
				return json.NewEncoder(e.out).Encode(l)
			}
			logLine(e.out, l)
			return nil
		}
		if *follow {
			return e.c.FollowLogs(e.ctx, args[0], *since, print)
		}
		recs, err := e.c.Logs(e.ctx, args[0], *since)
		if err != nil {
			return err
		}
		if e.json {
			return e.show(recs, nil)
		}
		for _, l := range recs {
			logLine(e.out, l)
		}
		return nil
	}
}

func scaleFlags(fs *flag.FlagSet) func(*env, []string) error {
	replicas := fs.Int("replicas", 0, "the number of instances (required)")
	return func(e *env, args []string) error {
		if *replicas < 1 {
			return usageErr(errors.New("scale: --replicas N (N ≥ 1) is required"))
		}
		st, err := e.c.Scale(e.ctx, args[0], *replicas)
		if err != nil {
			return err
		}
		return e.show(st, func() { fmt.Fprintf(e.out, "%s: %d replica(s)\n", st.Name, st.Replicas) })
	}
}

func upgradeFlags(fs *flag.FlagSet) func(*env, []string) error {
	strategy := fs.String("strategy", "blue-green", "blue-green, canary or rolling")
	version := fs.String("version", "", "the new version's label (default: the next vN)")
	watch := fs.String("watch", "", "how long the new version runs with the old kept ready (\"30s\")")
	stepEvery := fs.String("step-every", "", "canary steps / rolling instances every (\"1m\")")
	steps := fs.String("steps", "", "canary shares in percent (\"10,50\")")
	drain := fs.String("drain", "", "how long old conversations stay on the old version after the watch")
	maxCrashes := fs.Int("max-crashes", 0, "crashes of the new version tolerated before rolling back")
	path := fs.String("path", "", "a module under the server's module_dir, instead of an upload")
	return func(e *env, args []string) error {
		u := server.UpgradeSpec{Version: *version, Strategy: *strategy, Watch: *watch, StepEvery: *stepEvery, Drain: *drain, Path: *path}
		if *maxCrashes > 0 {
			u.Rollback = &server.RollbackSpec{MaxCrashes: *maxCrashes}
		}
		if *steps != "" {
			for _, s := range strings.Split(*steps, ",") {
				n, err := strconv.Atoi(strings.TrimSpace(s))
				if err != nil {
					return usageErr(fmt.Errorf("--steps: %q is not a number", s))
				}
				u.Steps = append(u.Steps, n)
			}
		}
		if (len(args) == 2) == (*path != "") {
			return usageErr(errors.New("upgrade: give NAME FILE.wasm or NAME --path P"))
		}
		var module []byte
		if len(args) == 2 {
			var err error
			if module, err = os.ReadFile(args[1]); err != nil {
				return usageErr(err)
			}
		}
		// Progress: the agent's lifecycle events while the upgrade runs.
		sctx, stop := context.WithCancel(e.ctx)
		defer stop()
		if !e.json {
			fmt.Fprintf(e.err, "upgrading %s (%s)…\n", args[0], *strategy)
			ready, opened := make(chan struct{}), make(chan struct{})
			go func() {
				_ = e.c.Events(sctx, args[0], func() { close(opened) }, func(ev server.EventView) error {
					fmt.Fprintf(e.err, "  %s %s %s\n", ev.At.Format("15:04:05.000"), ev.Kind, ev.Detail)
					return nil
				})
				close(ready)
			}()
			<-opened // watching before the upgrade begins: no event is missed
			defer func() { stop(); <-ready }()
		}
		st, err := e.c.Upgrade(e.ctx, args[0], u, module)
		if err != nil {
			return err
		}
		return e.show(st, func() { fmt.Fprintf(e.out, "%s: now %s (previous %s)\n", st.Name, st.Version, st.Previous) })
	}
}

// simple is a verb that posts to /v1/agents/NAME/<action>.
func simple(action string) func(fs *flag.FlagSet) func(*env, []string) error {
	return func(fs *flag.FlagSet) func(*env, []string) error {
		return func(e *env, args []string) error {
			call := map[string]func(context.Context, string) (server.AgentStatus, error){
				"start": e.c.Start, "restart": e.c.Restart, "rollback": e.c.Rollback}[action]
			st, err := call(e.ctx, args[0])
			if err != nil {
				return err
			}
			return e.show(st, func() { fmt.Fprintf(e.out, "%s: %s, version %s\n", st.Name, st.State, st.Version) })
		}
	}
}

func stopFlags(fs *flag.FlagSet) func(*env, []string) error {
	force := fs.Bool("force", false, "stop at once, cancelling the message being handled")
	return func(e *env, args []string) error {
		st, err := e.c.Stop(e.ctx, args[0], *force)
		if err != nil {
			return err
		}
		return e.show(st, func() { fmt.Fprintf(e.out, "%s: %s\n", st.Name, st.State) })
	}
}

func removeFlags(fs *flag.FlagSet) func(*env, []string) error {
	return func(e *env, args []string) error {
		if err := e.c.Remove(e.ctx, args[0]); err != nil {
			return err
		}
		if !e.json {
			fmt.Fprintf(e.out, "%s: removed\n", args[0])
		}
		return nil
	}
}

func sendFlags(isRequest bool) func(fs *flag.FlagSet) func(*env, []string) error {
	return func(fs *flag.FlagSet) func(*env, []string) error {
		def := "inform"
		if isRequest {
			def = "request"
		}
		perf := fs.String("performative", def, "the FIPA performative")
		msgFile := fs.String("message", "", "an ACL message as JSON (instead of NAME CONTENT)")
		timeout := fs.String("timeout", "", "how long to wait for the reply (request; default the server's 30s)")
		return func(e *env, args []string) error {
			var body []byte
			ct := "application/json"
			switch {
			case *msgFile != "" && len(args) == 0:
				b, err := os.ReadFile(*msgFile)
				if err != nil {
					return usageErr(err)
				}
				body = b
				if bytes.HasPrefix(bytes.TrimSpace(b), []byte("(")) {
					ct = server.FIPAContentType // the FIPA ACL string form
				}
			case *msgFile == "" && len(args) == 2:
				b, err := json.Marshal(map[string]string{"performative": *perf, "receiver": args[0], "content": args[1]})
				if err != nil {
					return err
				}
				body = b
			default:
				return usageErr(errors.New("give NAME CONTENT or --message FILE"))
			}
			if !isRequest {
				id, err := e.c.SendRaw(e.ctx, ct, body)
				if err != nil {
					return err
				}
				res := server.SendResult{ID: id}
				return e.show(res, func() { fmt.Fprintf(e.out, "sent %s\n", res.ID) })
			}
			var wait time.Duration
			if *timeout != "" {
				d, err := time.ParseDuration(*timeout)
				if err != nil || d <= 0 {
					return usageErr(fmt.Errorf("--timeout: want a duration such as 5s, got %q", *timeout))
				}
				wait = d
			}
			raw, err := e.c.RequestRaw(e.ctx, ct, body, wait)
			if err != nil {
				return err
			}
			if e.json {
				_, err := e.out.Write(raw)
				return err
			}
			var reply struct {
				Performative  string `json:"performative"`
				Content       string `json:"content"`
				ContentBase64 string `json:"content_base64"`
			}
			if err := json.Unmarshal(raw, &reply); err != nil {
				return err
			}
			if reply.ContentBase64 != "" {
				fmt.Fprintf(e.out, "%s (base64): %s\n", reply.Performative, reply.ContentBase64)
			} else {
				fmt.Fprintln(e.out, reply.Content)
			}
			return nil
		}
	}
}

func dlqFlags(fs *flag.FlagSet) func(*env, []string) error {
	all := fs.Bool("all", false, "replay or purge every dead letter you may see")
	return func(e *env, args []string) error {
		switch sub, ids := args[0], args[1:]; sub {
		case "list":
			if len(ids) > 0 || *all {
				return usageErr(errors.New("dlq list takes no arguments"))
			}
			dls, err := e.c.DeadLetters(e.ctx)
			if err != nil {
				return err
			}
			return e.show(dls, func() { deadLetterTable(e.out, dls) })
		case "replay", "purge":
			if (len(ids) > 0) == *all {
				return usageErr(fmt.Errorf("dlq %s: give dead-letter ids or --all", sub))
			}
			act := e.c.ReplayDeadLetters
			if sub == "purge" {
				act = e.c.PurgeDeadLetters
			}
			n, err := act(e.ctx, server.DeadLetterIDs{IDs: ids, All: *all})
			if err != nil {
				return err
			}
			res := server.DeadLetterResult{Count: n}
			past := map[string]string{"replay": "replayed", "purge": "purged"}[sub]
			return e.show(res, func() { fmt.Fprintf(e.out, "%s %d dead letter(s)\n", past, res.Count) })
		default:
			return usageErr(fmt.Errorf("dlq: unknown action %q (want list, replay or purge)", sub))
		}
	}
}

func eventsFlags(fs *flag.FlagSet) func(*env, []string) error {
	agent := fs.String("agent", "", "only this agent's events")
	return func(e *env, _ []string) error {
		return e.c.Events(e.ctx, *agent, nil, func(ev server.EventView) error {
			if e.json {
				return json.NewEncoder(e.out).Encode(ev)
			}
			fmt.Fprintf(e.out, "%s %s %s %s %s\n", ev.At.Format(time.RFC3339), ev.Agent, ev.Kind, ev.Version, ev.Detail)
			return nil
		})
	}
}

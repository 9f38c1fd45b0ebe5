package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/caxton-go/caxton/server"
)

func agentTable(w io.Writer, list []server.AgentStatus) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSTATE\tVERSION\tREPLICAS\tQUEUED\tPROCESSED\tFAILED\tDEAD\tHEALTH")
	for _, a := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%s\n", a.Name, a.State, a.Version, a.Replicas,
			a.QueueDepth, a.Processed, a.Failed, a.DeadLettered, a.Health)
	}
	_ = tw.Flush()
}

func agentDetail(w io.Writer, a server.AgentStatus) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(k string, v any) { fmt.Fprintf(tw, "%s:\t%v\n", k, v) }
	row("name", a.Name)
	row("state", a.State)
	row("version", a.Version)
	if a.Previous != "" {
		row("previous", a.Previous)
	}
	row("replicas", a.Replicas)
	row("queued", a.QueueDepth)
	row("in flight", a.InFlight)
	row("processed", a.Processed)
	row("failed", a.Failed)
	row("retried", a.Retried)
	row("dead-lettered", a.DeadLettered)
	row("restarts", a.Restarts)
	row("breaker", a.Breaker)
	health := a.Health
	if len(a.HealthReasons) > 0 {
		health += " (" + strings.Join(a.HealthReasons, "; ") + ")"
	}
	row("health", health)
	if a.LastError != "" {
		row("last error", a.LastError)
	}
	if len(a.Topics) > 0 {
		row("topics", strings.Join(a.Topics, ", "))
	}
	if r := a.Rollout; r != nil {
		row("rollout", fmt.Sprintf("%s → %s, %s, %d%%, handled %d, failed %d, crashes %d", r.From, r.To, r.Strategy, r.Share, r.Handled, r.Failed, r.Crashes))
	}
	_ = tw.Flush()
}

func deadLetterTable(w io.Writer, dls []server.DeadLetterView) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tRECEIVER\tREASON\tATTEMPTS\tAT\tLAST ERROR")
	for _, d := range dls {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", d.ID, d.Receiver, d.Reason, d.Attempts, d.At.Format(time.RFC3339), oneLine(d.LastError, 60))
	}
	_ = tw.Flush()
}

func logLine(w io.Writer, l server.LogView) {
	keys := make([]string, 0, len(l.Attrs))
	for k := range l.Attrs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, " %s=%q", k, l.Attrs[k])
	}
	fmt.Fprintf(w, "%s %-5s %s: %s%s\n", l.Time.Format(time.RFC3339Nano), l.Level, l.Agent, l.Message, b.String())
}

func oneLine(s string, n int) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len([]rune(s)) > n {
		return string([]rune(s)[:n-1]) + "…"
	}
	return s
}

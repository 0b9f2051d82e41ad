package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/dnsfailover/dnsfailover/internal/failover"
	"github.com/dnsfailover/dnsfailover/internal/health"
)

func printResult(out io.Writer, r *failover.Result, asJSON bool) {
	if asJSON {
		_ = json.NewEncoder(out).Encode(r)
		return
	}
	fmt.Fprintf(out, "%s %s: %s", r.Record, r.Action, r.Outcome)
	if r.Error != "" {
		fmt.Fprintf(out, " (%s)", r.Error)
	}
	fmt.Fprintln(out)
	for _, p := range r.Plan {
		fmt.Fprintf(out, "  plan: %s\n", p)
	}
	if r.Target != nil {
		printVerdict(out, "target", *r.Target)
	}
	for _, c := range r.Candidates {
		printVerdict(out, "candidate", c)
	}
	for _, s := range r.Steps {
		mark := "ok"
		if !s.OK {
			mark = "FAILED"
		}
		fmt.Fprintf(out, "  step %-14s %-6s %8s  %s\n", s.Name, mark, s.End.Sub(s.Start).Round(time.Millisecond), s.Detail)
	}
	if r.After != nil {
		fmt.Fprintf(out, "  now: %s\n", r.After)
	}
}

func printVerdict(out io.Writer, label string, v health.Verdict) {
	state := "healthy"
	if !v.Healthy {
		state = "NOT fit: " + strings.Join(v.Reasons, "; ")
	}
	fmt.Fprintf(out, "  %s %s (%s): %s\n", label, v.Target, v.Endpoint(), state)
}

func printStatus(out io.Writer, st *failover.RecordStatus) {
	fmt.Fprintf(out, "%s (zone %s)\n", st.Record, st.Zone)
	if st.Current != nil {
		fmt.Fprintf(out, "  A:     %s TTL %d\n", strings.Join(st.Current.Data, ","), st.Current.TTL)
	}
	if s := st.State; s != nil {
		fmt.Fprintf(out, "  state: %s", s.Phase)
		if !s.SwappedAt.IsZero() {
			fmt.Fprintf(out, ", last move %s -> %s at %s (%s: %s)", s.Previous, s.Current, s.SwappedAt.Format(time.RFC3339), s.LastID, s.Reason)
		}
		if !s.RestoreAt.IsZero() {
			fmt.Fprintf(out, ", TTL restore due %s", s.RestoreAt.Format(time.RFC3339))
		}
		fmt.Fprintln(out)
	}
	if st.Error != "" {
		fmt.Fprintf(out, "  error: %s\n", st.Error)
	}
	for _, c := range st.Candidates {
		printVerdict(out, "candidate", c)
	}
}

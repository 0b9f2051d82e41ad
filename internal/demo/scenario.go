package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/dnsfailover/dnsfailover/internal/config"
	"github.com/dnsfailover/dnsfailover/internal/failover"
	"github.com/dnsfailover/dnsfailover/internal/health"
	"github.com/dnsfailover/dnsfailover/internal/incident"
)

// alertFailover: the primary dies, Monitoring publishes an incident, OnAlert
// moves the record to the standby.
func (w *world) alertFailover(ctx context.Context) error {
	w.say("")
	w.say("== 1. the primary Redis is lost; Cloud Monitoring's incident fails over ==")
	w.showDNS("before")
	killed := time.Now()
	if err := w.a.Kill(); err != nil {
		return fmt.Errorf("kill primary: %w", err)
	}
	w.say("  killed session-a (%s)", w.a.Addr())

	id := fmt.Sprintf("0.demo%06d", rand.IntN(1_000_000))
	msg := w.incident(id)
	published := time.Now()
	if _, err := w.ps.publish(ctx, alerts, jsonBytes(msg)); err != nil {
		return err
	}
	w.say("  published incident %s to %s (policy labels: %s=%s, %s=failover)", id, alerts,
		incident.LabelRecord, config.LabelValue(record), incident.LabelAction)
	got, err := w.ps.await(ctx, 90*time.Second, byRequestID(incident.RequestID(id, failover.ActionFailover)))
	if err != nil {
		return fmt.Errorf("waiting for the failover result: %w", err)
	}
	w.timeline(published, got)
	if got.res.Outcome != failover.OutcomeSwapped {
		return fmt.Errorf("outcome %q (%s), want swapped", got.res.Outcome, got.res.Error)
	}
	w.say("  primary lost -> result published: %s", got.at.Sub(killed).Round(time.Millisecond))
	w.showDNS("after")
	return w.appCheck(ctx, hostB)
}

// manualFailback: session-a is repaired. An impatient request to move back
// at once is refused by the cooldown; after it, an operator publishes a
// planned failover back with gcloud.
func (w *world) manualFailback(ctx context.Context) error {
	w.say("")
	w.say("== 2. session-a is repaired; the record moves back, but not before the cooldown ==")
	if err := w.a.Restart(ctx); err != nil {
		return fmt.Errorf("restart session-a: %w", err)
	}
	w.say("  session-a restarted at %s", w.a.Addr())

	hasty := fmt.Sprintf(`{"record":%q,"target":%q,"mode":"emergency","reason":"move back now","request_id":"demo-hasty"}`, record, instA)
	w.say("  an operator asks to move back at once: publish to %s: %s", requests, hasty)
	published := time.Now()
	if _, err := w.ps.publish(ctx, requests, []byte(hasty)); err != nil {
		return err
	}
	got, err := w.ps.await(ctx, 90*time.Second, byRequestID("demo-hasty"))
	if err != nil {
		return fmt.Errorf("waiting for demo-hasty: %w", err)
	}
	w.timeline(published, got)
	if got.res.Outcome != failover.OutcomeRejected || !strings.Contains(got.res.Error, "cooldown") {
		return fmt.Errorf("outcome %q (%s), want a cooldown refusal", got.res.Outcome, got.res.Error)
	}
	wait := time.Until(got.res.State.SwappedAt.Add(cooldown)) + 200*time.Millisecond
	w.say("  refused by the cooldown, as it should be: no flapping. Waiting %s for it to end.", wait.Round(100*time.Millisecond))
	select {
	case <-time.After(wait):
	case <-ctx.Done():
		return ctx.Err()
	}

	body := fmt.Sprintf(`{"record":%q,"target":%q,"mode":"planned","reason":"session-a repaired","request_id":"demo-failback"}`, record, instA)
	published = time.Now()
	if err := w.publishRequest(ctx, body); err != nil {
		return err
	}
	if got, err = w.ps.await(ctx, 90*time.Second, byRequestID("demo-failback")); err != nil {
		return fmt.Errorf("waiting for demo-failback: %w", err)
	}
	w.timeline(published, got)
	if got.res.Outcome != failover.OutcomeSwapped {
		return fmt.Errorf("outcome %q (%s), want swapped", got.res.Outcome, got.res.Error)
	}
	w.showDNS("after")
	return w.appCheck(ctx, hostA)
}

// publishRequest publishes a manual request with the real gcloud command
// when the emulator can take it, else with the Go client.
func (w *world) publishRequest(ctx context.Context, body string) error {
	if w.ps.emulator && haveGcloud() {
		_, err := w.gcloud(ctx, "pubsub", "topics", "publish", requests, "--message="+body)
		return err
	}
	w.say("  publish to %s: %s", requests, body)
	_, err := w.ps.publish(ctx, requests, []byte(body))
	return err
}

// incident is a Cloud Monitoring notification (schema 1.2) for session-a,
// from a policy whose user labels route it to the record.
func (w *world) incident(id string) map[string]any {
	now := time.Now().Unix()
	return map[string]any{
		"version": "1.2",
		"incident": map[string]any{
			"incident_id": id, "scoping_project_id": project, "scoping_project_number": 123456789012,
			"url": "https://console.cloud.google.com/monitoring/alerting/incidents/" + id, "severity": "Critical",
			"started_at": now, "ended_at": nil, "state": "open",
			"summary":     "Uptime for session-a is absent for 60s.",
			"resource":    map[string]any{"type": "redis_instance", "labels": map[string]string{"project_id": project, "region": "europe-west1", "instance_id": instA, "node_id": "node-0"}},
			"metric":      map[string]any{"type": "redis.googleapis.com/server/uptime", "displayName": "Uptime"},
			"policy_name": "Memorystore session-a lost",
			"policy_user_labels": map[string]string{
				incident.LabelRecord: config.LabelValue(record), incident.LabelAction: "failover",
			},
			"condition_name": "Uptime absent",
		},
	}
}

// timeline prints a result's steps relative to the moment of publishing.
func (w *world) timeline(published time.Time, got received) {
	r := got.res
	at := func(t time.Time) string { return fmt.Sprintf("%+8.3fs", t.Sub(published).Seconds()) }
	w.say("  timeline (request %s, %s %s):", r.RequestID, r.Source, r.Mode)
	w.say("    %s  request published", at(published))
	w.say("    %s  function received it", at(r.Started))
	for _, s := range r.Steps {
		mark := "ok  "
		if !s.OK {
			mark = "FAIL"
		}
		w.say("    %s  %-14s %s %s (%s)", at(s.End), s.Name, mark, s.Detail, s.End.Sub(s.Start).Round(time.Millisecond))
	}
	w.say("    %s  result published: %s %s", at(got.at), r.Outcome, strings.TrimPrefix(r.Error, string(r.Outcome)+": "))
}

// showDNS prints what a pod's resolver would get for the record now.
func (w *world) showDNS(when string) {
	m := new(dns.Msg)
	m.SetQuestion(record, dns.TypeA)
	in, _, err := (&dns.Client{Timeout: 2 * time.Second}).Exchange(m, w.emu.DNSAddr())
	if err != nil {
		w.say("  dns %s: %v", when, err)
		return
	}
	var rrs []string
	for _, rr := range in.Answer {
		rrs = append(rrs, strings.ReplaceAll(rr.String(), "\t", " "))
	}
	w.say("  dns %-6s  %s", when+":", strings.Join(rrs, "; "))
}

// appCheck does what the app does: resolve the name, connect, PING.
func (w *world) appCheck(ctx context.Context, want string) error {
	m := new(dns.Msg)
	m.SetQuestion(record, dns.TypeA)
	in, _, err := (&dns.Client{Timeout: 2 * time.Second}).Exchange(m, w.emu.DNSAddr())
	if err != nil || len(in.Answer) != 1 {
		return fmt.Errorf("app check: resolve %s: %v %v", record, err, in)
	}
	a, ok := in.Answer[0].(*dns.A)
	if !ok || a.A.String() != want {
		return fmt.Errorf("app check: %s resolves to %v, want %s", record, in.Answer[0], want)
	}
	addr := fmt.Sprintf("%s:%d", a.A, w.port)
	pr := health.Probe(ctx, addr, health.ProbeOptions{Timeout: 2 * time.Second})
	if !pr.OK {
		return fmt.Errorf("app check: %s: %s", addr, pr.Err)
	}
	w.say("  app check: %s -> %s, PING %s, ROLE %s", strings.TrimSuffix(record, "."), addr, pr.Latency.Round(time.Microsecond), pr.Role)
	return nil
}

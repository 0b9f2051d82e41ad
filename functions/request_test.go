package functions

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/dnsfailover/dnsfailover/internal/failover"
)

func TestRequestEmergencyToInstance(t *testing.T) {
	w := newWorld(t)
	body := `{"record":"redis-session-staging.staging.internal","target":"` + instB + `","mode":"emergency","reason":"primary degraded","request_id":"chg-1"}`
	if code := deliver(t, NameOnRequest, binaryCE, []byte(body)); code != http.StatusOK {
		t.Fatalf("HTTP %d; logs:\n%s", code, w.logs)
	}
	if data, ttl := w.liveA(t, recordFQD); !slices.Equal(data, []string{hostB}) || ttl != 60 {
		t.Fatalf("A = %v TTL %d", data, ttl)
	}
	res := w.onlyResult(t)
	if res.Outcome != failover.OutcomeSwapped || res.RequestID != "chg-1" || res.Source != SourceManual || res.Reason != "primary degraded" {
		t.Fatalf("result %+v", res)
	}
	// Re-sent with the same request id: a duplicate, nothing moves.
	if code := deliver(t, NameOnRequest, structuredCE, []byte(body)); code != http.StatusOK {
		t.Fatalf("resend: HTTP %d", code)
	}
	if rs := w.results(t); len(rs) != 2 || rs[1].Outcome != failover.OutcomeDuplicate {
		t.Fatalf("results %+v", rs)
	}
}

func TestRequestPlannedToIP(t *testing.T) {
	w := newWorld(t, func(cfg map[string]any) {
		r := cfg["records"].([]any)[1].(map[string]any)
		r["normalTTL"], r["failoverTTL"] = 1, 1 // planned mode waits the old TTL out
	})
	body := `{"record":"` + jobsFQD + `","target":"` + hostB + `","mode":"planned","reason":"maintenance window"}`
	if code := deliverID(t, NameOnRequest, binaryCE, "pubsub-42", []byte(body)); code != http.StatusOK {
		t.Fatalf("HTTP %d; logs:\n%s", code, w.logs)
	}
	res := w.onlyResult(t)
	if res.Outcome != failover.OutcomeSwapped || res.RequestID != "pubsub-42" || res.Mode != failover.Planned {
		t.Fatalf("result %+v (the message id is the idempotency key without request_id)", res)
	}
	if data, _ := w.liveA(t, jobsFQD); !slices.Equal(data, []string{hostB}) {
		t.Fatalf("A = %v", data)
	}
}

func TestRequestDryRunChangesNothing(t *testing.T) {
	w := newWorld(t)
	before := w.snapshot(t)
	body := `{"record":"` + recordFQD + `","target":"` + instB + `","mode":"emergency","reason":"what if","dry_run":true,"request_id":"dry-7"}`
	if code := deliver(t, NameOnRequest, pushEnvelope, []byte(body)); code != http.StatusOK {
		t.Fatalf("HTTP %d; logs:\n%s", code, w.logs)
	}
	if w.snapshot(t) != before {
		t.Fatal("a dry run changed the zone")
	}
	res := w.onlyResult(t)
	if res.Outcome != failover.OutcomeDryRun || !res.DryRun || res.RequestID != "dry-7" || len(res.Plan) == 0 {
		t.Fatalf("result %+v", res)
	}
}

func TestRequestInvalidIsAcknowledged(t *testing.T) {
	const ok = `"record":"redis-session-staging.staging.internal.","mode":"emergency","reason":"r"`
	for _, tc := range []struct{ name, body, want, requestID string }{
		{"bad json", `{"record":`, "not JSON", ""},
		{"unknown field", `{` + ok + `,"request_id":"bad-1","force":true}`, "force: unknown field", "bad-1"},
		{"record missing", `{"mode":"emergency","reason":"r","request_id":"bad-2"}`, "record: required", "bad-2"},
		{"record invalid", `{"record":"no spaces allowed","mode":"emergency","reason":"r","request_id":"bad-3"}`, "is not a DNS name", "bad-3"},
		{"target hostname", `{` + ok + `,"target":"redis.example.com","request_id":"bad-4"}`, "hostnames are not accepted", "bad-4"},
		{"mode missing", `{"record":"a.b.","reason":"r","request_id":"bad-5"}`, "mode: required", "bad-5"},
		{"mode invalid", `{"record":"a.b.","mode":"now","reason":"r","request_id":"bad-6"}`, `mode: "now"`, "bad-6"},
		{"reason missing", `{"record":"a.b.","mode":"planned","request_id":"bad-7"}`, "reason: required", "bad-7"},
		{"reason too long", `{"record":"a.b.","mode":"planned","reason":"` + strings.Repeat("x", 501) + `","request_id":"bad-8"}`, "limit 500", "bad-8"},
		{"dry_run not bool", `{` + ok + `,"dry_run":"yes","request_id":"bad-9"}`, "dry_run: must be true or false", "bad-9"},
		{"request_id invalid", `{` + ok + `,"request_id":"has space"}`, "request_id:", "has space"},
		// Valid shape, refused by the engine against the configuration.
		{"unknown record", `{"record":"redis-other.staging.internal.","mode":"emergency","reason":"r","request_id":"bad-10"}`, "unknown record", "bad-10"},
		{"target not allowed", `{` + ok + `,"target":"127.0.0.9","request_id":"bad-11"}`, "127.0.0.9", "bad-11"},
		{"target instance not allowed", `{` + ok + `,"target":"projects/acme-staging/locations/europe-west1/instances/other","request_id":"bad-12"}`, "other", "bad-12"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			before := w.snapshot(t)
			if code := deliverID(t, NameOnRequest, binaryCE, "msg-"+tc.name, []byte(tc.body)); code != http.StatusOK {
				t.Fatalf("HTTP %d, want 200 (acknowledged); logs:\n%s", code, w.logs)
			}
			if w.snapshot(t) != before {
				t.Fatal("the zone changed")
			}
			res := w.onlyResult(t)
			wantID := tc.requestID
			if wantID == "" {
				wantID = "msg-" + tc.name
			}
			if res.Outcome != failover.OutcomeRejected || !strings.Contains(res.Error, tc.want) || res.RequestID != wantID {
				t.Fatalf("result outcome=%q id=%q error=%q; want rejected, id %q, error containing %q", res.Outcome, res.RequestID, res.Error, wantID, tc.want)
			}
			errLine := false
			for _, l := range logLines(t, w.logs) {
				if l["severity"] == "ERROR" && strings.Contains(l["error"].(string), tc.want) {
					errLine = true
				}
			}
			if !errLine {
				t.Fatalf("no ERROR log with the reason:\n%s", w.logs)
			}
		})
	}
}

func TestRequestTargetDownIsRejected(t *testing.T) {
	w := newWorld(t)
	w.b.Kill()
	body := `{"record":"` + recordFQD + `","target":"` + instB + `","mode":"emergency","reason":"r","request_id":"down-1"}`
	if code := deliver(t, NameOnRequest, binaryCE, []byte(body)); code != http.StatusOK {
		t.Fatalf("HTTP %d; logs:\n%s", code, w.logs)
	}
	res := w.onlyResult(t)
	if res.Outcome != failover.OutcomeRejected {
		t.Fatalf("result %+v: an unhealthy target must be refused", res)
	}
	if data, _ := w.liveA(t, recordFQD); !slices.Equal(data, []string{hostA}) {
		t.Fatalf("A = %v", data)
	}
}

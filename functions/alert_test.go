package functions

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/dnsfailover/dnsfailover/internal/clouddnsemu"
	"github.com/dnsfailover/dnsfailover/internal/failover"
	"github.com/dnsfailover/dnsfailover/internal/incident"
)

func incidentJSON(id, state string, extra string) []byte {
	return []byte(fmt.Sprintf(`{"version":"1.2","incident":{"incident_id":%q,"scoping_project_id":%q,"scoping_project_number":123,
		"started_at":1767225600,"ended_at":null,"state":%q,"summary":"session-a uptime absent","policy_name":"session-a lost",
		"resource":{"type":"redis_instance","labels":{"project_id":%q,"region":"europe-west1","instance_id":%q}}%s}}`,
		id, project, state, project, instA, extra))
}

func TestAlertOpenFailsOverEveryEncoding(t *testing.T) {
	for _, enc := range []encoding{binaryCE, structuredCE, pushEnvelope} {
		t.Run(enc.String(), func(t *testing.T) {
			w := newWorld(t)
			if code := deliver(t, NameOnAlert, enc, incidentJSON("0.open-"+enc.String(), "open", "")); code != http.StatusOK {
				t.Fatalf("HTTP %d, want 200; logs:\n%s", code, w.logs)
			}
			data, ttl := w.liveA(t, recordFQD)
			if !slices.Equal(data, []string{hostB}) || ttl != 60 {
				t.Fatalf("A = %v TTL %d, want [%s] TTL 60", data, ttl, hostB)
			}
			if other, _ := w.liveA(t, jobsFQD); !slices.Equal(other, []string{hostA}) {
				t.Fatalf("the jobs record moved too: %v", other)
			}
			res := w.onlyResult(t)
			if res.Outcome != failover.OutcomeSwapped || res.RequestID != "incident:0.open-"+enc.String()+":failover" ||
				res.Source != SourceAlert || res.Record != recordFQD {
				t.Fatalf("result %+v", res)
			}
			if !strings.Contains(w.logs.String(), `"incident_id":"0.open-`+enc.String()+`"`) {
				t.Fatalf("logs lack the incident label:\n%s", w.logs)
			}
		})
	}
}

// The same incident 20 times in every encoding, with a close and a manual
// dry run in between: one swap, and a result for every delivery.
func TestAlertDuplicatesAndReorder(t *testing.T) {
	w := newWorld(t)
	labels := `,"policy_user_labels":{"dnsfailover_record":"redis-session-staging_staging_internal"}`
	open := incidentJSON("0.dup", "open", labels)
	manual := []byte(`{"record":"` + jobsFQD + `","target":"` + hostB + `","mode":"emergency","reason":"check","dry_run":true,"request_id":"dry-1"}`)
	for i := 0; i < 20; i++ {
		if code := deliver(t, NameOnAlert, encoding(i%3), open); code != http.StatusOK {
			t.Fatalf("delivery %d: HTTP %d; logs:\n%s", i, code, w.logs)
		}
		switch i {
		case 7:
			if code := deliver(t, NameOnRequest, binaryCE, manual); code != http.StatusOK {
				t.Fatalf("manual: HTTP %d", code)
			}
		case 12:
			if code := deliver(t, NameOnAlert, binaryCE, incidentJSON("0.dup", "closed", labels)); code != http.StatusOK {
				t.Fatalf("close: HTTP %d", code)
			}
		}
	}
	rs := w.results(t)
	if len(rs) != 22 {
		t.Fatalf("%d results, want 22 (20 opens, a close, a manual request)", len(rs))
	}
	count := map[failover.Outcome]int{}
	for _, r := range rs {
		count[r.Outcome]++
	}
	if count[failover.OutcomeSwapped] != 1 || count[failover.OutcomeDuplicate]+count[failover.OutcomeStale] != 19 ||
		count[failover.OutcomeClosed] != 1 || count[failover.OutcomeDryRun] != 1 {
		t.Fatalf("outcomes %v", count)
	}
	if rs[0].Outcome != failover.OutcomeSwapped {
		t.Fatalf("first delivery: %q", rs[0].Outcome)
	}
	if data, _ := w.liveA(t, recordFQD); !slices.Equal(data, []string{hostB}) {
		t.Fatalf("A = %v", data)
	}
}

// Without routing labels an incident is matched by the instance's address.
// Once the record has moved away, redeliveries still find their record (it
// pointed there before the swap) and are answered as duplicates; the close of
// the same incident is recorded too.
func TestAlertInstanceMatchedRedeliveryAfterSwap(t *testing.T) {
	w := newWorld(t)
	open := incidentJSON("0.inst", "open", "")
	for i := 0; i < 3; i++ {
		if code := deliver(t, NameOnAlert, encoding(i%3), open); code != http.StatusOK {
			t.Fatalf("delivery %d: HTTP %d", i, code)
		}
	}
	if code := deliver(t, NameOnAlert, binaryCE, incidentJSON("0.inst", "closed", "")); code != http.StatusOK {
		t.Fatalf("close: HTTP %d", code)
	}
	rs := w.results(t)
	var outcomes []failover.Outcome
	for _, r := range rs {
		outcomes = append(outcomes, r.Outcome)
	}
	want := []failover.Outcome{failover.OutcomeSwapped, failover.OutcomeDuplicate, failover.OutcomeDuplicate}
	if len(outcomes) != 4 || !slices.Equal(outcomes[:3], want) || (outcomes[3] != failover.OutcomeClosed && outcomes[3] != failover.OutcomeTTLRestored) {
		t.Fatalf("outcomes %v, want %v then the close recorded", outcomes, want)
	}
	if data, _ := w.liveA(t, recordFQD); !slices.Equal(data, []string{hostB}) {
		t.Fatalf("A = %v", data)
	}
}

func TestAlertClosedBeforeOpenIsStale(t *testing.T) {
	w := newWorld(t)
	before := w.snapshot(t)
	if code := deliver(t, NameOnAlert, binaryCE, incidentJSON("0.late", "closed", "")); code != http.StatusOK {
		t.Fatalf("close: HTTP %d; logs:\n%s", code, w.logs)
	}
	if code := deliver(t, NameOnAlert, binaryCE, incidentJSON("0.late", "open", "")); code != http.StatusOK {
		t.Fatalf("late open: HTTP %d", code)
	}
	if data, _ := w.liveA(t, recordFQD); !slices.Equal(data, []string{hostA}) {
		t.Fatalf("a late opening moved the record: %v", data)
	}
	rs := w.results(t)
	if len(rs) < 2 || rs[len(rs)-1].Outcome != failover.OutcomeStale {
		t.Fatalf("results %+v", rs)
	}
	_ = before
}

func TestAlertClosedRestoresTTLWhenConfigured(t *testing.T) {
	w := newWorld(t)
	t.Setenv(incident.EnvRestoreTTLOnClose, "true")
	w.install(t)
	prepare := `,"policy_user_labels":{"dnsfailover_record":"redis-session-staging_staging_internal","dnsfailover_action":"prepare"}`
	if code := deliver(t, NameOnAlert, binaryCE, incidentJSON("0.prep", "open", prepare)); code != http.StatusOK {
		t.Fatalf("prepare: HTTP %d; logs:\n%s", code, w.logs)
	}
	if data, ttl := w.liveA(t, recordFQD); ttl != 60 || !slices.Equal(data, []string{hostA}) {
		t.Fatalf("after prepare: %v TTL %d, want the same address with TTL 60", data, ttl)
	}
	if code := deliver(t, NameOnAlert, binaryCE, incidentJSON("0.prep", "closed", prepare)); code != http.StatusOK {
		t.Fatalf("close: HTTP %d", code)
	}
	if data, ttl := w.liveA(t, recordFQD); ttl != 300 || !slices.Equal(data, []string{hostA}) {
		t.Fatalf("after close: %v TTL %d, want TTL 300 and no fail-back", data, ttl)
	}
	rs := w.results(t)
	if len(rs) != 2 || rs[0].Outcome != failover.OutcomePrepared || rs[1].Outcome != failover.OutcomeTTLRestored ||
		rs[1].RequestID != "incident:0.prep:closed" {
		t.Fatalf("results %+v", rs)
	}
}

func TestAlertAcknowledgedWithoutAction(t *testing.T) {
	for _, tc := range []struct{ name, body, log, severity string }{
		{"test channel", `{"incident":{"incident_id":"12345","state":"OPEN","resource":{"type":"test_resource_type","labels":{}},"started_at":0,"ended_at":null,"summary":"This is a test notification."},"version":"test"}`,
			"Monitoring test notification", "INFO"},
		{"unknown resource type", `{"version":"1.2","incident":{"incident_id":"0.gce","state":"open","resource":{"type":"gce_instance","labels":{"instance_id":"123"}}}}`,
			`resource type \"gce_instance\" is not redis_instance`, "WARNING"},
		{"missing labels, unknown instance", `{"version":"1.2","incident":{"incident_id":"0.other","state":"open","resource":{"type":"redis_instance","labels":{"instance_id":"projects/x/locations/y/instances/z"}}}}`,
			"no configured record uses instance projects/x/locations/y/instances/z", "WARNING"},
		{"missing labels, no instance id", `{"version":"1.2","incident":{"incident_id":"0.noid","state":"open","resource":{"type":"redis_instance","labels":{}}}}`,
			"has no instance_id label", "WARNING"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			before := w.snapshot(t)
			if code := deliver(t, NameOnAlert, binaryCE, []byte(tc.body)); code != http.StatusOK {
				t.Fatalf("HTTP %d, want 200; logs:\n%s", code, w.logs)
			}
			if w.snapshot(t) != before {
				t.Fatal("the zone changed")
			}
			if rs := w.results(t); len(rs) != 0 {
				t.Fatalf("results published for an ignored incident: %+v", rs)
			}
			found := false
			for _, l := range logLines(t, w.logs) {
				if strings.Contains(fmt.Sprint(l["message"]), strings.ReplaceAll(tc.log, `\"`, `"`)) && l["severity"] == tc.severity {
					found = true
				}
			}
			if !found {
				t.Fatalf("no %s log line containing %q:\n%s", tc.severity, tc.log, w.logs)
			}
		})
	}
}

func TestAlertRejectedInputIsAcknowledged(t *testing.T) {
	for _, tc := range []struct{ name, body, want string }{
		{"not json", `{"version":"1.2","incident":`, "not a JSON object"},
		{"no incident", `{"version":"1.2"}`, `no "incident" object`},
		{"bad state", `{"version":"1.2","incident":{"incident_id":"1","state":"firing"}}`, `state "firing"`},
		{"unknown record label", `{"version":"1.2","incident":{"incident_id":"1","state":"open","policy_user_labels":{"dnsfailover_record":"nope"}}}`, "matches no configured record"},
		{"bad action label", `{"version":"1.2","incident":{"incident_id":"1","state":"open","policy_user_labels":{"dnsfailover_record":"redis-jobs_staging_internal","dnsfailover_action":"failback"}}}`, "want failover or prepare"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			before := w.snapshot(t)
			if code := deliver(t, NameOnAlert, structuredCE, []byte(tc.body)); code != http.StatusOK {
				t.Fatalf("HTTP %d, want 200 (poison messages are acknowledged)", code)
			}
			if w.snapshot(t) != before {
				t.Fatal("the zone changed")
			}
			res := w.onlyResult(t)
			if res.Outcome != failover.OutcomeRejected || !strings.Contains(res.Error, tc.want) || res.Source != SourceAlert {
				t.Fatalf("result %+v, want rejected with %q", res, tc.want)
			}
			if !strings.Contains(w.logs.String(), `"severity":"ERROR"`) {
				t.Fatalf("no ERROR log:\n%s", w.logs)
			}
		})
	}
}

func TestAlertTransientFailureIsRetried(t *testing.T) {
	w := newWorld(t)
	w.emu.SetFaults(clouddnsemu.Faults{Status503: 1000, Match: "changes"})
	body := incidentJSON("0.flaky", "open", "")
	if code := deliver(t, NameOnAlert, binaryCE, body); code != http.StatusInternalServerError {
		t.Fatalf("HTTP %d, want 500 so that --retry redelivers; logs:\n%s", code, w.logs)
	}
	if data, _ := w.liveA(t, recordFQD); !slices.Equal(data, []string{hostA}) {
		t.Fatalf("A = %v after a failed change", data)
	}
	w.emu.SetFaults(clouddnsemu.Faults{})
	if code := deliver(t, NameOnAlert, binaryCE, body); code != http.StatusOK {
		t.Fatalf("redelivery: HTTP %d; logs:\n%s", code, w.logs)
	}
	rs := w.results(t)
	if len(rs) != 2 || rs[0].Outcome != failover.OutcomeFailed || rs[1].Outcome != failover.OutcomeSwapped {
		t.Fatalf("results %+v", rs)
	}
	if data, _ := w.liveA(t, recordFQD); !slices.Equal(data, []string{hostB}) {
		t.Fatalf("A = %v after redelivery", data)
	}
}

func TestWrongEventTypeIsRejected(t *testing.T) {
	w := newWorld(t)
	hdr := http.Header{}
	hdr.Set("Content-Type", "application/json")
	hdr.Set("ce-specversion", "1.0")
	hdr.Set("ce-id", "gcs-1")
	hdr.Set("ce-type", "google.cloud.storage.object.v1.finalized")
	hdr.Set("ce-source", "//storage.googleapis.com/projects/_/buckets/b")
	if code := post(t, "/"+NameOnAlert, hdr, []byte(`{"name":"x"}`)); code != http.StatusOK {
		t.Fatalf("HTTP %d", code)
	}
	res := w.onlyResult(t)
	if res.Outcome != failover.OutcomeRejected || res.RequestID != "gcs-1" || !strings.Contains(res.Error, "not a Pub/Sub messagePublished event") {
		t.Fatalf("result %+v", res)
	}
}

func TestAlertInstanceLookupFailureIsRetried(t *testing.T) {
	w := newWorld(t)
	w.ms.SetFault(status.Error(codes.Unavailable, "memorystore down"))
	body := incidentJSON("0.msdown", "open", "")
	if code := deliver(t, NameOnAlert, binaryCE, body); code != http.StatusInternalServerError {
		t.Fatalf("HTTP %d, want 500; logs:\n%s", code, w.logs)
	}
	res := w.onlyResult(t)
	if res.Outcome != failover.OutcomeFailed || res.RequestID != "incident:0.msdown:failover" || !strings.Contains(res.Error, "memorystore down") {
		t.Fatalf("result %+v", res)
	}
	w.ms.SetFault(nil)
	if code := deliver(t, NameOnAlert, binaryCE, body); code != http.StatusOK {
		t.Fatalf("redelivery: HTTP %d; logs:\n%s", code, w.logs)
	}
	if data, _ := w.liveA(t, recordFQD); !slices.Equal(data, []string{hostB}) {
		t.Fatalf("A = %v after redelivery", data)
	}
}

package incident

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodeRealisticOpen(t *testing.T) {
	n, err := Decode(readTestdata(t, "open-redis.json"))
	if err != nil {
		t.Fatal(err)
	}
	in := n.Incident
	if n.Version != "1.2" || n.IsTest() || in.ID != "0.nq3k2l8x7z1a" || in.State != StateOpen {
		t.Fatalf("decoded %+v", n)
	}
	if in.ScopingProjectNumber != "123456789012" {
		t.Errorf("project number %q", in.ScopingProjectNumber)
	}
	if !in.StartedAt.Equal(time.Unix(1767225600, 0)) || !in.EndedAt.IsZero() {
		t.Errorf("times %v %v", in.StartedAt, in.EndedAt)
	}
	if in.Resource.Type != ResourceTypeRedis || in.Resource.Labels["instance_id"] != "projects/acme-prod/locations/europe-west1/instances/cache-primary" {
		t.Errorf("resource %+v", in.Resource)
	}
	if in.Metric.Type != "redis.googleapis.com/server/uptime" || in.PolicyUserLabels != nil {
		t.Errorf("metric %+v labels %v", in.Metric, in.PolicyUserLabels)
	}
}

func TestDecodeNumbersAsStringsAndUppercaseState(t *testing.T) {
	n, err := Decode(readTestdata(t, "open-labelled-strings.json"))
	if err != nil {
		t.Fatal(err)
	}
	in := n.Incident
	if in.State != StateOpen {
		t.Errorf("state %q not normalised", in.State)
	}
	if in.ScopingProjectNumber != "123456789012" || in.ThresholdValue != "1" || in.ObservedValue != "0" {
		t.Errorf("flex strings: %q %q %q", in.ScopingProjectNumber, in.ThresholdValue, in.ObservedValue)
	}
	if !in.StartedAt.Equal(time.Unix(1767225600, 0)) {
		t.Errorf("started_at as string: %v", in.StartedAt)
	}
	if in.Resource.Labels["port"] != "6378" {
		t.Errorf("numeric label value: %v", in.Resource.Labels)
	}
	if in.PolicyUserLabels[LabelRecord] != "redis-session-staging_staging_internal" || in.PolicyUserLabels[LabelAction] != "prepare" {
		t.Errorf("policy labels %v", in.PolicyUserLabels)
	}
}

func TestDecodeClosedAndTestChannel(t *testing.T) {
	n, err := Decode(readTestdata(t, "closed-redis.json"))
	if err != nil {
		t.Fatal(err)
	}
	if n.Incident.State != StateClosed || !n.Incident.EndedAt.Equal(time.Unix(1767226200, 0)) {
		t.Fatalf("closed: %+v", n.Incident)
	}
	n, err = Decode(readTestdata(t, "test-channel.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !n.IsTest() || n.Incident.State != StateOpen || n.Incident.ID != "12345" || !n.Incident.StartedAt.IsZero() {
		t.Fatalf("test channel: %+v", n)
	}
}

func TestDecodeRejects(t *testing.T) {
	for _, tc := range []struct{ name, body, want string }{
		{"not json", `{"version":`, "not a JSON object"},
		{"array", `[1,2]`, "not a JSON object"},
		{"no incident", `{"version":"1.2"}`, `no "incident"`},
		{"null incident", `{"version":"1.2","incident":null}`, `no "incident"`},
		{"incident not object", `{"version":"1.2","incident":"x"}`, "incident:"},
		{"no id", `{"version":"1.2","incident":{"state":"open"}}`, "incident_id is missing"},
		{"bad state", `{"version":"1.2","incident":{"incident_id":"1","state":"firing"}}`, `state "firing"`},
		{"bad started_at", `{"version":"1.2","incident":{"incident_id":"1","state":"open","started_at":"soon"}}`, "epoch seconds"},
		{"object as number", `{"version":"1.2","incident":{"incident_id":"1","state":"open","scoping_project_number":{}}}`, "want a string or number"},
		{"labels not object", `{"version":"1.2","incident":{"incident_id":"1","state":"open","policy_user_labels":[1]}}`, "labels"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode([]byte(tc.body))
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want ErrInvalid containing %q", err, tc.want)
			}
		})
	}
	big := make([]byte, MaxSize+1)
	if _, err := Decode(big); !errors.Is(err, ErrInvalid) {
		t.Fatalf("oversize: %v", err)
	}
}

func TestDecodeTolerates(t *testing.T) {
	// Missing version, null label values, RFC 3339 times, ids with spaces.
	n, err := Decode([]byte(`{"incident":{"incident_id":" 7 ","state":" Closed ","ended_at":"2026-01-01T00:00:00Z","started_at":1.5,
		"policy_user_labels":{"a":null,"b":true,"c":{"x":1}},"resource":null}}`))
	if err != nil {
		t.Fatal(err)
	}
	in := n.Incident
	if in.ID != "7" || in.State != StateClosed || in.EndedAt.Year() != 2026 || in.StartedAt.UnixMilli() != 1500 {
		t.Fatalf("%+v", in)
	}
	if _, ok := in.PolicyUserLabels["a"]; ok || in.PolicyUserLabels["b"] != "true" || len(in.PolicyUserLabels) != 1 {
		t.Fatalf("labels %v", in.PolicyUserLabels)
	}
}

func FuzzDecodeIncident(f *testing.F) {
	for _, name := range []string{"open-redis.json", "open-labelled-strings.json", "closed-redis.json", "test-channel.json", "open-gce.json"} {
		f.Add(readTestdata(f, name))
	}
	f.Add([]byte(`{"incident":{"incident_id":1,"state":"OPEN","started_at":"1e3"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		n, err := Decode(data)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error does not wrap ErrInvalid: %v", err)
			}
			return
		}
		if n.IsTest() {
			return
		}
		if n.Incident.ID == "" || (n.Incident.State != StateOpen && n.Incident.State != StateClosed) {
			t.Fatalf("accepted an incident without id/state: %+v", n.Incident)
		}
		if strings.TrimSpace(n.Incident.ID) != n.Incident.ID {
			t.Fatalf("id not trimmed: %q", n.Incident.ID)
		}
	})
}

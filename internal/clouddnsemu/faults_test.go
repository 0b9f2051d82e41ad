package clouddnsemu

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	dnsv1 "google.golang.org/api/dns/v1"
	"google.golang.org/api/googleapi"
)

func swapChange(to string) *dnsv1.Change {
	return &dnsv1.Change{
		Deletions: []*dnsv1.ResourceRecordSet{rrs(testName, "A", 300, "10.0.0.5")},
		Additions: []*dnsv1.ResourceRecordSet{rrs(testName, "A", 60, to)},
	}
}

func TestInjectedStatusFaults(t *testing.T) {
	for _, tc := range []struct {
		faults Faults
		code   int
		reason string
		kind   string
	}{
		{Faults{Status429: 2}, 429, "rateLimitExceeded", "429"},
		{Faults{Status500: 2}, 500, "internalError", "500"},
		{Faults{Status503: 2}, 503, "backendError", "503"},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			s, svc := setupZone(t, Options{})
			before := snapshot(t, s)
			s.SetFaults(tc.faults)
			for range 2 {
				_, err := svc.Changes.Create(testProject, testZone, swapChange("10.0.0.6")).Do()
				wantAPIError(t, err, tc.code, tc.reason)
			}
			if after := snapshot(t, s); !bytes.Equal(before, after) {
				t.Fatalf("faulted change was applied")
			}
			// Only the next N calls fail.
			if _, err := svc.Changes.Create(testProject, testZone, swapChange("10.0.0.6")).Do(); err != nil {
				t.Fatalf("third call: %v", err)
			}
			if got := s.Counters().FaultsInjected[tc.kind]; got != 2 {
				t.Fatalf("FaultsInjected[%s] = %d", tc.kind, got)
			}
		})
	}
}

func TestFaultMatchSelectsCalls(t *testing.T) {
	s, svc := setupZone(t, Options{})
	s.SetFaults(Faults{Status503: 1, Match: "POST /dns/v1/projects/" + testProject + "/managedZones/" + testZone + "/changes"})
	if _, err := svc.ResourceRecordSets.Get(testProject, testZone, testName, "A").Do(); err != nil {
		t.Fatalf("non-matching call failed: %v", err)
	}
	_, err := svc.Changes.Create(testProject, testZone, swapChange("10.0.0.6")).Do()
	wantAPIError(t, err, 503, "backendError")
	if f := s.Faults(); f.Status503 != 0 {
		t.Fatalf("remaining 503s = %d", f.Status503)
	}
}

func TestInjectedLatency(t *testing.T) {
	s, svc := setupZone(t, Options{})
	s.SetFaults(Faults{Latency: 300 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := svc.Changes.Create(testProject, testZone, swapChange("10.0.0.6")).Context(ctx).Do()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("want deadline exceeded under latency, got %v", err)
	}
	// The handler saw the client go away and did not apply the change.
	s.SetFaults(Faults{})
	got, err := svc.ResourceRecordSets.Get(testProject, testZone, testName, "A").Do()
	if err != nil || got.Rrdatas[0] != "10.0.0.5" {
		t.Fatalf("record after abandoned call: %+v %v", got, err)
	}
	if s.Counters().FaultsInjected["latency"] != 1 {
		t.Fatalf("latency not counted: %+v", s.Counters().FaultsInjected)
	}
}

func TestInjectedDroppedConnections(t *testing.T) {
	s, svc := setupZone(t, Options{})
	before := snapshot(t, s)
	s.SetFaults(Faults{DropConnections: 1})
	_, err := svc.Changes.Create(testProject, testZone, swapChange("10.0.0.6")).Do()
	var ge *googleapi.Error
	if err == nil || errors.As(err, &ge) {
		t.Fatalf("want a transport error from a dropped connection, got %v", err)
	}
	if !strings.Contains(err.Error(), "EOF") && !strings.Contains(err.Error(), "reset") {
		t.Logf("dropped connection error: %v", err)
	}
	if after := snapshot(t, s); !bytes.Equal(before, after) {
		t.Fatalf("dropped call was applied")
	}
	if _, err := svc.Changes.Create(testProject, testZone, swapChange("10.0.0.6")).Do(); err != nil {
		t.Fatalf("call after the drop: %v", err)
	}
	c := s.Counters()
	if c.FaultsInjected["drop"] != 1 || c.Responses[http.StatusOK] == 0 {
		t.Fatalf("counters: %+v", c)
	}
}

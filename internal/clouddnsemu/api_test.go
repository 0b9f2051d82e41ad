package clouddnsemu

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	dnsv1 "google.golang.org/api/dns/v1"
)

func TestManagedZonesThroughGoClient(t *testing.T) {
	s := startEmu(t, Options{})
	svc := newClient(t, s)
	ctx := context.Background()

	created, err := svc.ManagedZones.Create(testProject, &dnsv1.ManagedZone{
		Name: testZone, DnsName: testOrigin, Description: "staging", Visibility: "private",
		PrivateVisibilityConfig: &dnsv1.ManagedZonePrivateVisibilityConfig{Networks: []*dnsv1.ManagedZonePrivateVisibilityConfigNetwork{
			{NetworkUrl: "https://www.googleapis.com/compute/v1/projects/proj-1/global/networks/default"}}},
	}).Context(ctx).Do()
	if err != nil {
		t.Fatalf("create zone: %v", err)
	}
	if created.Kind != "dns#managedZone" || created.Id == 0 || len(created.NameServers) != 4 || created.Visibility != "private" {
		t.Fatalf("unexpected zone: %+v", created)
	}
	if _, err := time.Parse(time.RFC3339, created.CreationTime); err != nil {
		t.Fatalf("creationTime %q: %v", created.CreationTime, err)
	}
	if created.PrivateVisibilityConfig == nil || len(created.PrivateVisibilityConfig.Networks) != 1 {
		t.Fatalf("privateVisibilityConfig not echoed: %+v", created.PrivateVisibilityConfig)
	}
	byID, err := svc.ManagedZones.Get(testProject, fmt.Sprint(created.Id)).Do()
	if err != nil || byID.Name != testZone {
		t.Fatalf("get by id: %v %+v", err, byID)
	}
	_, err = svc.ManagedZones.Create(testProject, &dnsv1.ManagedZone{Name: testZone, DnsName: testOrigin, Description: "x"}).Do()
	wantAPIError(t, err, 409, "alreadyExists")
	_, err = svc.ManagedZones.Create(testProject, &dnsv1.ManagedZone{Name: "Bad_Name", DnsName: testOrigin}).Do()
	wantAPIError(t, err, 400, "invalid")
	_, err = svc.ManagedZones.Create(testProject, &dnsv1.ManagedZone{Name: "nodot", DnsName: "example.com"}).Do()
	wantAPIError(t, err, 400, "invalid")
	_, err = svc.ManagedZones.Get(testProject, "missing").Do()
	wantAPIError(t, err, 404, "notFound")

	// Creating the zone created its SOA and NS record sets, as the real API does.
	list, err := svc.ResourceRecordSets.List(testProject, testZone).Do()
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, r := range list.Rrsets {
		types = append(types, r.Name+"/"+r.Type)
	}
	if got := strings.Join(types, " "); got != "staging.internal./NS staging.internal./SOA" {
		t.Fatalf("initial rrsets = %s", got)
	}

	for _, n := range []string{"zone-b", "zone-c"} {
		if _, err := svc.ManagedZones.Create(testProject, &dnsv1.ManagedZone{Name: n, DnsName: n + ".example.", Description: "d"}).Do(); err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	err = svc.ManagedZones.List(testProject).MaxResults(2).Pages(ctx, func(p *dnsv1.ManagedZonesListResponse) error {
		if len(p.ManagedZones) > 2 {
			t.Errorf("page of %d > maxResults 2", len(p.ManagedZones))
		}
		for _, z := range p.ManagedZones {
			names = append(names, z.Name)
		}
		return nil
	})
	if err != nil || strings.Join(names, ",") != "staging-internal,zone-b,zone-c" {
		t.Fatalf("paged list = %v, %v", names, err)
	}
	other, err := svc.ManagedZones.List("other-project").Do()
	if err != nil || len(other.ManagedZones) != 0 {
		t.Fatalf("zones leak across projects: %v %v", other, err)
	}

	if _, err := svc.ResourceRecordSets.Create(testProject, testZone, rrs(testName, "A", 300, "10.0.0.5")).Do(); err != nil {
		t.Fatal(err)
	}
	err = svc.ManagedZones.Delete(testProject, testZone).Do()
	wantAPIError(t, err, 400, "containerNotEmpty")
	if _, err := svc.ResourceRecordSets.Delete(testProject, testZone, testName, "A").Do(); err != nil {
		t.Fatal(err)
	}
	if err := svc.ManagedZones.Delete(testProject, testZone).Do(); err != nil {
		t.Fatalf("delete empty zone: %v", err)
	}
	_, err = svc.ManagedZones.Get(testProject, testZone).Do()
	wantAPIError(t, err, 404, "notFound")
}

func TestChangeErrorsAreGoogleAPIErrors(t *testing.T) {
	s, svc := setupZone(t, Options{})
	live := rrs(testName, "A", 300, "10.0.0.5")
	cases := []struct {
		name    string
		change  *dnsv1.Change
		code    int
		reason  string
		message string
	}{
		{"deletion with wrong ttl", &dnsv1.Change{Deletions: []*dnsv1.ResourceRecordSet{rrs(testName, "A", 60, "10.0.0.5")}, Additions: []*dnsv1.ResourceRecordSet{rrs(testName, "A", 60, "10.0.0.6")}},
			412, "conditionNotMet", "Precondition not met for 'entity.change.deletions[0]'"},
		{"deletion with wrong rrdatas", &dnsv1.Change{Deletions: []*dnsv1.ResourceRecordSet{rrs(testName, "A", 300, "10.0.0.9")}},
			412, "conditionNotMet", "Precondition not met for 'entity.change.deletions[0]'"},
		{"deletion of missing set", &dnsv1.Change{Deletions: []*dnsv1.ResourceRecordSet{live, rrs("nope.staging.internal.", "A", 300, "10.0.0.5")}},
			404, "notFound", "The 'entity.change.deletions[1]' resource named 'nope.staging.internal. (A)' does not exist."},
		{"addition of existing set", &dnsv1.Change{Additions: []*dnsv1.ResourceRecordSet{rrs("new.staging.internal.", "A", 30, "10.0.0.8"), rrs(testName, "A", 60, "10.0.0.6")}},
			409, "alreadyExists", "The resource 'entity.change.additions[1]' named 'redis-session-staging.staging.internal. (A)' already exists"},
		{"name outside zone", &dnsv1.Change{Additions: []*dnsv1.ResourceRecordSet{rrs("redis.other.internal.", "A", 60, "10.0.0.6")}}, 400, "invalid", ""},
		{"invalid IPv4", &dnsv1.Change{Additions: []*dnsv1.ResourceRecordSet{rrs("x.staging.internal.", "A", 60, "10.0.0.256")}}, 400, "invalid", ""},
		{"IPv6 in A", &dnsv1.Change{Additions: []*dnsv1.ResourceRecordSet{rrs("x.staging.internal.", "A", 60, "::1")}}, 400, "invalid", ""},
		{"negative ttl", &dnsv1.Change{Additions: []*dnsv1.ResourceRecordSet{rrs("x.staging.internal.", "A", -1, "10.0.0.6")}}, 400, "invalid", ""},
		{"empty rrdatas", &dnsv1.Change{Additions: []*dnsv1.ResourceRecordSet{rrs("x.staging.internal.", "A", 60)}}, 400, "invalid", ""},
		{"unknown type", &dnsv1.Change{Additions: []*dnsv1.ResourceRecordSet{rrs("x.staging.internal.", "BOGUS", 60, "1")}}, 400, "invalid", ""},
		{"empty change", &dnsv1.Change{}, 400, "invalid", ""},
		{"delete SOA", &dnsv1.Change{Deletions: []*dnsv1.ResourceRecordSet{rrs(testOrigin, "SOA", 21600, "ns-cloud-e1.googledomains.com. cloud-dns-hostmaster.google.com. 2 21600 3600 259200 300")}}, 400, "invalid", ""},
		{"CNAME beside A", &dnsv1.Change{Additions: []*dnsv1.ResourceRecordSet{rrs(testName, "CNAME", 60, "other.staging.internal.")}}, 400, "cnameResourceRecordSetConflict", ""},
	}
	before := snapshot(t, s)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := svc.Changes.Create(testProject, testZone, tc.change).Do()
			ge := wantAPIError(t, err, tc.code, tc.reason)
			if tc.message != "" && ge.Message != tc.message {
				t.Errorf("message = %q, want %q", ge.Message, tc.message)
			}
			if !strings.Contains(string(ge.Body), `"domain":"global"`) {
				t.Errorf("error body lacks domain global: %s", ge.Body)
			}
			if after := snapshot(t, s); !bytes.Equal(before, after) {
				t.Errorf("failed change modified the zone:\nbefore:\n%s\nafter:\n%s", before, after)
			}
		})
	}
	if got := s.Counters().PreconditionFailed; got != 2 {
		t.Errorf("PreconditionFailed = %d, want 2", got)
	}
}

func TestChangeIsAtomicAndCAS(t *testing.T) {
	s, svc := setupZone(t, Options{})
	before := snapshot(t, s)
	// Several valid items and one bad deletion at the end: nothing may be applied.
	_, err := svc.Changes.Create(testProject, testZone, &dnsv1.Change{
		Additions: []*dnsv1.ResourceRecordSet{rrs("a.staging.internal.", "A", 60, "10.0.1.1"), rrs("t.staging.internal.", "TXT", 60, `"state=x"`), rrs(testName, "A", 60, "10.0.0.6")},
		Deletions: []*dnsv1.ResourceRecordSet{rrs(testName, "A", 300, "10.0.0.5"), rrs("b.staging.internal.", "A", 60, "10.0.1.2")},
	}).Do()
	wantAPIError(t, err, 404, "notFound")
	if after := snapshot(t, s); !bytes.Equal(before, after) {
		t.Fatalf("partial apply:\n%s", after)
	}

	// Compare-and-swap: the exact live set (rrdatas order ignored) swapped with a state TXT in one change.
	if err := s.AddRecordSets(testProject, testZone, RecordSet{Name: "multi.staging.internal.", Type: "A", TTL: 60, Rrdatas: []string{"10.0.2.1", "10.0.2.2"}}); err != nil {
		t.Fatal(err)
	}
	c, err := svc.Changes.Create(testProject, testZone, &dnsv1.Change{
		Deletions: []*dnsv1.ResourceRecordSet{rrs(testName, "A", 300, "10.0.0.5"), rrs("multi.staging.internal.", "A", 60, "10.0.2.2", "10.0.2.1")},
		Additions: []*dnsv1.ResourceRecordSet{rrs(testName, "A", 60, "10.0.0.6"), rrs("_state.staging.internal.", "TXT", 60, `"phase=swapped"`)},
	}).Do()
	if err != nil {
		t.Fatalf("CAS change: %v", err)
	}
	if c.Kind != "dns#change" || c.Id != "3" || c.Status != "done" || len(c.Additions) != 2 {
		t.Fatalf("change = %+v", c)
	}
	if _, err := time.Parse(time.RFC3339, c.StartTime); err != nil {
		t.Fatalf("startTime: %v", err)
	}
	got, err := svc.ResourceRecordSets.Get(testProject, testZone, testName, "A").Do()
	if err != nil || got.Ttl != 60 || strings.Join(got.Rrdatas, ",") != "10.0.0.6" {
		t.Fatalf("after CAS: %+v %v", got, err)
	}
	// The same CAS again fails: its deletion is stale now.
	_, err = svc.Changes.Create(testProject, testZone, &dnsv1.Change{
		Deletions: []*dnsv1.ResourceRecordSet{rrs(testName, "A", 300, "10.0.0.5")},
		Additions: []*dnsv1.ResourceRecordSet{rrs(testName, "A", 60, "10.0.0.7")},
	}).Do()
	wantAPIError(t, err, 412, "conditionNotMet")
}

func TestClientOperationIDIsIdempotent(t *testing.T) {
	s, svc := setupZone(t, Options{})
	swap := func(to string) (*dnsv1.Change, error) {
		return svc.Changes.Create(testProject, testZone, &dnsv1.Change{
			Deletions: []*dnsv1.ResourceRecordSet{rrs(testName, "A", 300, "10.0.0.5")},
			Additions: []*dnsv1.ResourceRecordSet{rrs(testName, "A", 60, to)},
		}).ClientOperationId("failover-42").Do()
	}
	first, err := swap("10.0.0.6")
	if err != nil {
		t.Fatal(err)
	}
	applied := s.Counters().ChangesApplied
	// The retry would be a 412 if applied again; it must return the first change instead.
	second, err := swap("10.0.0.7")
	if err != nil {
		t.Fatalf("retry with same clientOperationId: %v", err)
	}
	if second.Id != first.Id || second.Additions[0].Rrdatas[0] != "10.0.0.6" {
		t.Fatalf("retry returned %+v, want change %s", second, first.Id)
	}
	if got := s.Counters().ChangesApplied; got != applied {
		t.Fatalf("ChangesApplied went from %d to %d on a replay", applied, got)
	}
}

func TestRRSetsMethodsAndListFilters(t *testing.T) {
	_, svc := setupZone(t, Options{})
	for i := range 5 {
		if _, err := svc.ResourceRecordSets.Create(testProject, testZone, rrs(fmt.Sprintf("h%d.staging.internal.", i), "A", 30, fmt.Sprintf("10.0.3.%d", i))).Do(); err != nil {
			t.Fatal(err)
		}
	}
	_, err := svc.ResourceRecordSets.Create(testProject, testZone, rrs("h1.staging.internal.", "A", 30, "10.0.3.9")).Do()
	ge := wantAPIError(t, err, 409, "alreadyExists")
	if !strings.Contains(ge.Message, "entity.rrset") {
		t.Errorf("rrsets.create conflict message = %q", ge.Message)
	}
	if _, err := svc.ResourceRecordSets.Create(testProject, testZone, rrs("h1.staging.internal.", "TXT", 30, `"hello"`)).Do(); err != nil {
		t.Fatal(err)
	}

	var seen []string
	err = svc.ResourceRecordSets.List(testProject, testZone).MaxResults(3).Pages(context.Background(), func(p *dnsv1.ResourceRecordSetsListResponse) error {
		if len(p.Rrsets) > 3 {
			t.Errorf("page size %d", len(p.Rrsets))
		}
		for _, r := range p.Rrsets {
			seen = append(seen, r.Name+"/"+r.Type)
		}
		return nil
	})
	if err != nil || len(seen) != 9 { // SOA, NS, the ADR record, 5 hosts, 1 TXT
		t.Fatalf("paged rrsets = %v, %v", seen, err)
	}
	byName, err := svc.ResourceRecordSets.List(testProject, testZone).Name("h1.staging.internal.").Do()
	if err != nil || len(byName.Rrsets) != 2 {
		t.Fatalf("name filter: %v %v", byName, err)
	}
	byType, err := svc.ResourceRecordSets.List(testProject, testZone).Name("h1.staging.internal.").Type("TXT").Do()
	if err != nil || len(byType.Rrsets) != 1 || byType.Rrsets[0].Rrdatas[0] != `"hello"` {
		t.Fatalf("type filter: %v %v", byType, err)
	}
	_, err = svc.ResourceRecordSets.List(testProject, testZone).Type("A").Do()
	wantAPIError(t, err, 400, "invalid")
	_, err = svc.ResourceRecordSets.List(testProject, testZone).PageToken("%%%").Do()
	wantAPIError(t, err, 400, "invalid")

	patched, err := svc.ResourceRecordSets.Patch(testProject, testZone, testName, "A", &dnsv1.ResourceRecordSet{Ttl: 60, Rrdatas: []string{"10.0.0.6"}}).Do()
	if err != nil || patched.Ttl != 60 || patched.Rrdatas[0] != "10.0.0.6" {
		t.Fatalf("patch: %+v %v", patched, err)
	}
	_, err = svc.ResourceRecordSets.Patch(testProject, testZone, "none.staging.internal.", "A", &dnsv1.ResourceRecordSet{Ttl: 60, Rrdatas: []string{"10.0.0.6"}}).Do()
	wantAPIError(t, err, 404, "notFound")
	_, err = svc.ResourceRecordSets.Patch(testProject, testZone, testName, "A", &dnsv1.ResourceRecordSet{Rrdatas: []string{"not-an-ip"}}).Do()
	wantAPIError(t, err, 400, "invalid")
	_, err = svc.ResourceRecordSets.Get(testProject, testZone, "none.staging.internal.", "A").Do()
	wantAPIError(t, err, 404, "notFound")
	_, err = svc.ResourceRecordSets.Delete(testProject, testZone, "none.staging.internal.", "A").Do()
	wantAPIError(t, err, 404, "notFound")
	_, err = svc.ResourceRecordSets.Delete(testProject, testZone, testOrigin, "SOA").Do()
	wantAPIError(t, err, 400, "invalid")

	changes, err := svc.Changes.List(testProject, testZone).SortOrder("descending").MaxResults(2).Do()
	if err != nil || len(changes.Changes) != 2 || changes.Changes[0].Id != "8" || changes.NextPageToken == "" {
		t.Fatalf("changes list: %+v %v", changes, err)
	}
	next, err := svc.Changes.List(testProject, testZone).SortOrder("descending").MaxResults(2).PageToken(changes.NextPageToken).Do()
	if err != nil || next.Changes[0].Id != "6" {
		t.Fatalf("changes page 2: %+v %v", next, err)
	}
	c0, err := svc.Changes.Get(testProject, testZone, "0").Do()
	if err != nil || len(c0.Additions) != 2 || c0.Status != "done" {
		t.Fatalf("change 0 (zone creation): %+v %v", c0, err)
	}
	_, err = svc.Changes.Get(testProject, testZone, "99").Do()
	wantAPIError(t, err, 404, "notFound")
}

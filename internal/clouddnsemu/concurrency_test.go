package clouddnsemu

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	dnsv1 "google.golang.org/api/dns/v1"
	"google.golang.org/api/googleapi"
)

// 50 goroutines all try to swap the same version of the record: exactly one may win per version,
// the rest get 412, and the record ends with the winner's address.
func TestConcurrentConflictingChangesOneWinnerPerVersion(t *testing.T) {
	s, svc := setupZone(t, Options{})
	const workers = 50
	const rounds = 3
	cur := rrs(testName, "A", 300, "10.0.0.5")
	for round := range rounds {
		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			winners []string
			lost    int
			other   []error
		)
		for i := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				to := fmt.Sprintf("10.%d.0.%d", round+1, i+1)
				_, err := svc.Changes.Create(testProject, testZone, &dnsv1.Change{
					Deletions: []*dnsv1.ResourceRecordSet{cur},
					Additions: []*dnsv1.ResourceRecordSet{rrs(testName, "A", 60, to)},
				}).Do()
				mu.Lock()
				defer mu.Unlock()
				var ge *googleapi.Error
				switch {
				case err == nil:
					winners = append(winners, to)
				case errors.As(err, &ge) && ge.Code == 412:
					lost++
				default:
					other = append(other, err)
				}
			}()
		}
		wg.Wait()
		if len(other) > 0 || len(winners) != 1 || lost != workers-1 {
			t.Fatalf("round %d: winners %v, 412s %d, other errors %v", round, winners, lost, other)
		}
		got, err := svc.ResourceRecordSets.Get(testProject, testZone, testName, "A").Do()
		if err != nil || len(got.Rrdatas) != 1 || got.Rrdatas[0] != winners[0] {
			t.Fatalf("round %d: record %+v (err %v), winner %s", round, got, err, winners[0])
		}
		r := query(t, s, "udp", testName, 1)
		if addrs, _ := answerA(r); len(addrs) != 1 || addrs[0] != winners[0] {
			t.Fatalf("round %d: DNS answers %v, winner %s", round, addrs, winners[0])
		}
		cur = got
	}
	if c := s.Counters(); c.PreconditionFailed != rounds*(workers-1) || c.Calls["dns.changes.create"] != rounds*workers {
		t.Fatalf("counters: %+v", c)
	}
}

// Concurrent retries of one operation (same clientOperationId) apply it once and all see the same change.
func TestConcurrentClientOperationIDAppliesOnce(t *testing.T) {
	s, svc := setupZone(t, Options{})
	applied := s.Counters().ChangesApplied
	var wg sync.WaitGroup
	ids := make([]string, 20)
	errs := make([]error, 20)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := svc.Changes.Create(testProject, testZone, swapChange("10.0.0.6")).ClientOperationId("op-1").Do()
			if err == nil {
				ids[i] = c.Id
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for i := range ids {
		if errs[i] != nil || ids[i] != ids[0] {
			t.Fatalf("call %d: id %q err %v (first id %q)", i, ids[i], errs[i], ids[0])
		}
	}
	if got := s.Counters().ChangesApplied; got != applied+1 {
		t.Fatalf("ChangesApplied %d -> %d, want +1", applied, got)
	}
}

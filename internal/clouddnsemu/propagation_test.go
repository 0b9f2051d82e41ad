package clouddnsemu

import (
	"testing"
	"time"

	"github.com/miekg/dns"
	dnsv1 "google.golang.org/api/dns/v1"
)

// A change is "pending" for PropagationDelay and DNS keeps the old answer until it is "done";
// the SOA serial moves with the served data.
func TestPendingThenDoneWithPropagationDelay(t *testing.T) {
	const delay = 400 * time.Millisecond
	s, svc := setupZone(t, Options{PropagationDelay: delay})
	// setupZone's record addition is itself delayed: wait until it is served.
	waitDNS(t, s, "10.0.0.5", 2*time.Second)
	serialBefore := soaSerial(t, s)

	start := time.Now()
	c, err := svc.Changes.Create(testProject, testZone, &dnsv1.Change{
		Deletions: []*dnsv1.ResourceRecordSet{rrs(testName, "A", 300, "10.0.0.5")},
		Additions: []*dnsv1.ResourceRecordSet{rrs(testName, "A", 60, "10.0.0.6")},
	}).Do()
	if err != nil {
		t.Fatal(err)
	}
	if c.Status != "pending" {
		t.Fatalf("new change status %q, want pending", c.Status)
	}
	// The API already shows the new data (the next CAS must delete it) ...
	got, err := svc.ResourceRecordSets.Get(testProject, testZone, testName, "A").Do()
	if err != nil || got.Rrdatas[0] != "10.0.0.6" {
		t.Fatalf("API view: %+v %v", got, err)
	}
	// ... while DNS still serves the old record and serial.
	if addrs, ttls := answerA(query(t, s, "udp", testName, dns.TypeA)); time.Since(start) < delay && (addrs[0] != "10.0.0.5" || ttls[0] != 300) {
		t.Fatalf("DNS before done: %v %v", addrs, ttls)
	}
	if time.Since(start) < delay && soaSerial(t, s) != serialBefore {
		t.Fatalf("serial moved before the change was done")
	}
	for {
		c, err = svc.Changes.Get(testProject, testZone, c.Id).Do()
		if err != nil {
			t.Fatal(err)
		}
		if c.Status == "done" {
			break
		}
		if time.Since(start) > 5*time.Second {
			t.Fatalf("change still %q after 5s", c.Status)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if el := time.Since(start); el < delay {
		t.Fatalf("change done after %v, before the %v delay", el, delay)
	}
	addrs, ttls := answerA(query(t, s, "tcp", testName, dns.TypeA))
	if len(addrs) != 1 || addrs[0] != "10.0.0.6" || ttls[0] != 60 {
		t.Fatalf("DNS after done: %v %v", addrs, ttls)
	}
	if got := soaSerial(t, s); got != serialBefore+1 {
		t.Fatalf("serial %d after one change, want %d", got, serialBefore+1)
	}
}

func soaSerial(t *testing.T, s *Server) uint32 {
	t.Helper()
	r := query(t, s, "udp", testOrigin, dns.TypeSOA)
	if len(r.Answer) != 1 {
		t.Fatalf("SOA answer: %v", r)
	}
	return r.Answer[0].(*dns.SOA).Serial
}

func waitDNS(t *testing.T, s *Server, want string, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		if addrs, _ := answerA(query(t, s, "udp", testName, dns.TypeA)); len(addrs) == 1 && addrs[0] == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("DNS never answered %s", want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

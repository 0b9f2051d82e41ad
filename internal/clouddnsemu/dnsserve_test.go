package clouddnsemu

import (
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func TestDNSServingSemantics(t *testing.T) {
	s, _ := setupZone(t, Options{})
	if err := s.CreateZone("other-project", "public-zone", "example.test.", false); err != nil {
		t.Fatal(err)
	}
	err := s.AddRecordSets(testProject, testZone,
		RecordSet{Name: "v6.staging.internal.", Type: "AAAA", TTL: 120, Rrdatas: []string{"fd00::5"}},
		RecordSet{Name: "txt.staging.internal.", Type: "TXT", TTL: 30, Rrdatas: []string{`"phase=done" "id=7"`}},
		RecordSet{Name: "alias.staging.internal.", Type: "CNAME", TTL: 45, Rrdatas: []string{testName}},
		RecordSet{Name: "deep.ent.staging.internal.", Type: "A", TTL: 10, Rrdatas: []string{"10.0.9.9"}},
		RecordSet{Name: "*.wild.staging.internal.", Type: "A", TTL: 20, Rrdatas: []string{"10.0.8.8"}},
		RecordSet{Name: "sub.staging.internal.", Type: "NS", TTL: 50, Rrdatas: []string{"ns1.sub.staging.internal."}},
		RecordSet{Name: "ns1.sub.staging.internal.", Type: "A", TTL: 50, Rrdatas: []string{"10.0.7.7"}},
	)
	if err != nil {
		t.Fatal(err)
	}
	for _, network := range []string{"udp", "tcp"} {
		t.Run(network, func(t *testing.T) {
			r := query(t, s, network, testName, dns.TypeA)
			addrs, ttls := answerA(r)
			if r.Rcode != dns.RcodeSuccess || !r.Authoritative || r.RecursionAvailable || len(addrs) != 1 || addrs[0] != "10.0.0.5" || ttls[0] != 300 {
				t.Fatalf("A answer: %v", r)
			}
			if r := query(t, s, network, "V6.Staging.Internal.", dns.TypeAAAA); len(r.Answer) != 1 || r.Answer[0].(*dns.AAAA).AAAA.String() != "fd00::5" {
				t.Fatalf("AAAA (mixed case): %v", r)
			}
			if r := query(t, s, network, "txt.staging.internal.", dns.TypeTXT); len(r.Answer) != 1 || strings.Join(r.Answer[0].(*dns.TXT).Txt, "|") != "phase=done|id=7" {
				t.Fatalf("TXT: %v", r)
			}
			// NODATA: name exists, type does not; SOA in authority with the negative TTL.
			r = query(t, s, network, testName, dns.TypeAAAA)
			if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 0 || len(r.Ns) != 1 || r.Ns[0].Header().Rrtype != dns.TypeSOA || r.Ns[0].Header().Ttl != 300 || !r.Authoritative {
				t.Fatalf("NODATA: %v", r)
			}
			// Empty non-terminal is NODATA, not NXDOMAIN.
			if r := query(t, s, network, "ent.staging.internal.", dns.TypeA); r.Rcode != dns.RcodeSuccess || len(r.Answer) != 0 {
				t.Fatalf("empty non-terminal: %v", r)
			}
			r = query(t, s, network, "missing.staging.internal.", dns.TypeA)
			if r.Rcode != dns.RcodeNameError || len(r.Ns) != 1 || r.Ns[0].Header().Rrtype != dns.TypeSOA || !r.Authoritative {
				t.Fatalf("NXDOMAIN: %v", r)
			}
			if r := query(t, s, network, "redis.example.com.", dns.TypeA); r.Rcode != dns.RcodeRefused || r.Authoritative {
				t.Fatalf("outside every zone: %v", r)
			}
			r = query(t, s, network, "alias.staging.internal.", dns.TypeA)
			if len(r.Answer) != 2 || r.Answer[0].Header().Rrtype != dns.TypeCNAME || r.Answer[0].Header().Ttl != 45 {
				t.Fatalf("CNAME chase: %v", r)
			}
			if addrs, _ := answerA(query(t, s, network, "x.wild.staging.internal.", dns.TypeA)); len(addrs) != 1 || addrs[0] != "10.0.8.8" {
				t.Fatalf("wildcard: %v", addrs)
			}
			r = query(t, s, network, "host.sub.staging.internal.", dns.TypeA)
			if r.Authoritative || len(r.Answer) != 0 || len(r.Ns) != 1 || len(r.Extra) != 1 {
				t.Fatalf("referral: %v", r)
			}
			if r := query(t, s, network, testOrigin, dns.TypeNS); len(r.Answer) != 4 || r.Answer[0].Header().Ttl != 21600 {
				t.Fatalf("apex NS: %v", r)
			}
			// A zone of another project and visibility is served too.
			if r := query(t, s, network, "example.test.", dns.TypeSOA); len(r.Answer) != 1 || !r.Authoritative {
				t.Fatalf("second zone SOA: %v", r)
			}
		})
	}
}

func TestSOASerialIncrementsPerChange(t *testing.T) {
	s, svc := setupZone(t, Options{})
	first := soaSerial(t, s)
	for i, to := range []string{"10.0.0.6", "10.0.0.7"} {
		cur, err := svc.ResourceRecordSets.Get(testProject, testZone, testName, "A").Do()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.ResourceRecordSets.Patch(testProject, testZone, testName, "A", rrs(testName, "A", cur.Ttl, to)).Do(); err != nil {
			t.Fatal(err)
		}
		if got := soaSerial(t, s); got != first+uint32(i)+1 {
			t.Fatalf("serial after %d changes = %d, want %d", i+1, got, first+uint32(i)+1)
		}
	}
	// A rejected change does not move the serial.
	if _, err := svc.Changes.Create(testProject, testZone, swapChange("10.0.0.9")).Do(); err == nil {
		t.Fatal("stale swap succeeded")
	}
	if got := soaSerial(t, s); got != first+2 {
		t.Fatalf("serial moved on a rejected change: %d", got)
	}
}

func TestUDPTruncationFallsBackToTCP(t *testing.T) {
	s, _ := setupZone(t, Options{})
	var many []string
	for i := range 60 {
		many = append(many, "10.1.0."+strconv.Itoa(i+1))
	}
	if err := s.AddRecordSets(testProject, testZone, RecordSet{Name: "big.staging.internal.", Type: "A", TTL: 5, Rrdatas: many}); err != nil {
		t.Fatal(err)
	}
	m := new(dns.Msg)
	m.SetQuestion("big.staging.internal.", dns.TypeA)
	r, _, err := (&dns.Client{Net: "udp", Timeout: 2 * time.Second}).Exchange(m, s.DNSAddr())
	if err != nil || !r.Truncated {
		t.Fatalf("want TC over 512-byte UDP, got %v %v", r, err)
	}
	if r := query(t, s, "tcp", "big.staging.internal.", dns.TypeA); len(r.Answer) != 60 || r.Truncated {
		t.Fatalf("TCP answer has %d records", len(r.Answer))
	}
}

// dig is the independent client: it must see the same answers as miekg's.
func TestDigAgainstEmulator(t *testing.T) {
	dig, err := exec.LookPath("dig")
	if err != nil {
		requireTool(t, "dig (Debian package bind9-dnsutils)")
		return
	}
	s, _ := setupZone(t, Options{})
	host, port := splitHostPort(t, s.DNSAddr())
	for _, transport := range []string{"+notcp", "+tcp"} {
		out, err := exec.Command(dig, "@"+host, "-p", port, transport, "+norec", "+noall", "+answer", "+comments", testName, "A").CombinedOutput()
		if err != nil {
			t.Fatalf("dig %s: %v\n%s", transport, err, out)
		}
		text := string(out)
		if !strings.Contains(text, "status: NOERROR") || !strings.Contains(text, "flags: qr aa") {
			t.Fatalf("dig %s header:\n%s", transport, text)
		}
		if f := strings.Fields(lastLine(text)); len(f) != 5 || f[0] != testName || f[1] != "300" || f[3] != "A" || f[4] != "10.0.0.5" {
			t.Fatalf("dig %s answer:\n%s", transport, text)
		}
	}
	out, err := exec.Command(dig, "@"+host, "-p", port, "+norec", "nothing.staging.internal.", "A").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "status: NXDOMAIN") {
		t.Fatalf("dig NXDOMAIN: %v\n%s", err, out)
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

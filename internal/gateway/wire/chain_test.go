package wire

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/dnsfailover/dnsfailover/internal/gateway/index"
)

// In-zone CNAME targets are followed into the answer, as authoritative
// servers do; targets outside the zone are left to the resolver.
func TestCNAMEChainInsideZone(t *testing.T) {
	ix := testIndex(t)
	for key, ep := range map[string]index.Endpoint{
		"service/default/alias":   {Name: "alias.gw.example.com", CNAME: "www.gw.example.com"},
		"service/default/alias2":  {Name: "alias2.gw.example.com", CNAME: "alias.gw.example.com"},
		"service/default/wild":    {Name: "to-wild.gw.example.com", CNAME: "x.apps.gw.example.com"},
		"service/default/dangle":  {Name: "dangle.gw.example.com", CNAME: "gone.gw.example.com"},
		"service/default/out":     {Name: "out.gw.example.com", CNAME: "redis.gw.example.com"},
		"service/default/loop-a":  {Name: "loop-a.gw.example.com", CNAME: "loop-b.gw.example.com"},
		"service/default/loop-b":  {Name: "loop-b.gw.example.com", CNAME: "loop-a.gw.example.com"},
		"service/default/to-apex": {Name: "to-apex.gw.example.com", CNAME: "gw.example.com"},
	} {
		if err := ix.Apply(key, []index.Endpoint{ep}); err != nil {
			t.Fatal(err)
		}
	}
	r := &Responder{Index: ix}
	cases := []struct {
		name    string
		qtype   uint16
		rcode   int
		answers []string // "owner TYPE rdata"
		soa     bool
	}{
		{"Alias.gw.example.com.", dns.TypeA, dns.RcodeSuccess, []string{"Alias.gw.example.com. CNAME www.gw.example.com.", "www.gw.example.com. A 10.0.0.5"}, false},
		{"alias.gw.example.com.", dns.TypeAAAA, dns.RcodeSuccess, []string{"alias.gw.example.com. CNAME www.gw.example.com.", "www.gw.example.com. AAAA 2001:db8::5"}, false},
		{"alias2.gw.example.com.", dns.TypeA, dns.RcodeSuccess, []string{"alias2.gw.example.com. CNAME alias.gw.example.com.",
			"alias.gw.example.com. CNAME www.gw.example.com.", "www.gw.example.com. A 10.0.0.5"}, false},
		{"alias.gw.example.com.", dns.TypeCNAME, dns.RcodeSuccess, []string{"alias.gw.example.com. CNAME www.gw.example.com."}, false},
		{"alias.gw.example.com.", dns.TypeTXT, dns.RcodeSuccess, []string{"alias.gw.example.com. CNAME www.gw.example.com."}, true},
		{"to-wild.gw.example.com.", dns.TypeA, dns.RcodeSuccess, []string{"to-wild.gw.example.com. CNAME x.apps.gw.example.com.", "x.apps.gw.example.com. A 10.0.0.7"}, false},
		{"dangle.gw.example.com.", dns.TypeA, dns.RcodeNameError, []string{"dangle.gw.example.com. CNAME gone.gw.example.com."}, true},
		{"out.gw.example.com.", dns.TypeA, dns.RcodeSuccess, []string{"out.gw.example.com. CNAME redis.gw.example.com.", "redis.gw.example.com. CNAME redis.staging.internal."}, false},
		{"to-apex.gw.example.com.", dns.TypeA, dns.RcodeSuccess, []string{"to-apex.gw.example.com. CNAME gw.example.com."}, true},
	}
	for _, c := range cases {
		for _, tcp := range []bool{false, true} {
			m, res := exchange(t, r, ask(c.name, c.qtype), tcp)
			var got []string
			for _, rr := range m.Answer {
				f := strings.Fields(rr.String())
				got = append(got, f[0]+" "+strings.Join(f[3:], " "))
			}
			if m.Rcode != c.rcode || res.Rcode != c.rcode || strings.Join(got, "; ") != strings.Join(c.answers, "; ") {
				t.Errorf("%s %s: %s %q, want %s %q", c.name, dns.TypeToString[c.qtype], dns.RcodeToString[m.Rcode], got, dns.RcodeToString[c.rcode], c.answers)
			}
			if hasSOA := len(m.Ns) == 1 && m.Ns[0].Header().Rrtype == dns.TypeSOA; hasSOA != c.soa {
				t.Errorf("%s %s: authority %v, want SOA=%v", c.name, dns.TypeToString[c.qtype], m.Ns, c.soa)
			}
		}
	}
	// A loop is cut after maxChain hops.
	m, _ := exchange(t, r, ask("loop-a.gw.example.com.", dns.TypeA), false)
	if len(m.Answer) != 1+maxChain || m.Rcode != dns.RcodeSuccess {
		t.Errorf("loop: %d answers %s, want %d", len(m.Answer), dns.RcodeToString[m.Rcode], 1+maxChain)
	}
	// Changing the target changes the chased answer at once (no dependency
	// tracking needed: the chain is followed per query).
	if err := ix.Apply("ingress/default/web", []index.Endpoint{{Name: "www.gw.example.com", Addrs: []netip.Addr{netip.MustParseAddr("10.0.0.6")}}}); err != nil {
		t.Fatal(err)
	}
	if m, _ := exchange(t, r, ask("alias.gw.example.com.", dns.TypeA), false); len(m.Answer) != 2 || m.Answer[1].(*dns.A).A.String() != "10.0.0.6" {
		t.Errorf("after the target changed: %v", m.Answer)
	}
}

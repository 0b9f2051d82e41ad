package wire

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/miekg/dns"

	"github.com/dnsfailover/dnsfailover/internal/gateway/index"
)

// benchIndex is testIndex plus 10k Ingress-like names, the size the
// dnsperf benchmarks load, so map lookups run at that scale.
func benchIndex(b *testing.B) *index.Index {
	b.Helper()
	ix := testIndex(b)
	for i := range 10000 {
		name := fmt.Sprintf("app-%05d.gw.example.com", i)
		addr := netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)})
		if err := ix.Apply("ingress/bench/"+name, []index.Endpoint{{Name: name, Addrs: []netip.Addr{addr}}}); err != nil {
			b.Fatal(err)
		}
	}
	var big []netip.Addr
	for i := range 60 {
		big = append(big, netip.AddrFrom4([4]byte{10, 9, 0, byte(i)}))
	}
	if err := ix.Apply("ingress/default/big", []index.Endpoint{{Name: "big.gw.example.com", Addrs: big}}); err != nil {
		b.Fatal(err)
	}
	if err := ix.Apply("service/default/alias", []index.Endpoint{{Name: "alias.gw.example.com", CNAME: "app-04242.gw.example.com"}}); err != nil {
		b.Fatal(err)
	}
	return ix
}

// BenchmarkRespond measures one query through Respond into a reused buffer,
// as the UDP loop calls it: bytes in, bytes out, no sockets.
func BenchmarkRespond(b *testing.B) {
	r := &Responder{Index: benchIndex(b)}
	edns := func(m *dns.Msg) *dns.Msg { m.SetEdns0(1232, false); return m }
	cases := []struct {
		name string
		q    *dns.Msg
		tcp  bool
	}{
		{"hit/A", ask("app-04242.gw.example.com.", dns.TypeA), false},
		{"hit/A/mixed-case", ask("App-04242.GW.example.com.", dns.TypeA), false},
		{"hit/A/edns", edns(ask("app-04242.gw.example.com.", dns.TypeA)), false},
		{"hit/wildcard", ask("x.apps.gw.example.com.", dns.TypeA), false},
		{"cname/out-of-zone", ask("redis.gw.example.com.", dns.TypeA), false},
		{"cname/chased-in-zone", ask("alias.gw.example.com.", dns.TypeA), false},
		{"nodata/TXT", ask("app-04242.gw.example.com.", dns.TypeTXT), false},
		{"nxdomain", ask("missing-04242.gw.example.com.", dns.TypeA), false},
		{"nxdomain/edns", edns(ask("missing-04242.gw.example.com.", dns.TypeA)), false},
		{"refused", ask("www.example.org.", dns.TypeA), false},
		{"apex/NS+glue", ask("gw.example.com.", dns.TypeNS), false},
		{"truncated/60A-udp512", ask("big.gw.example.com.", dns.TypeA), false},
		{"big/60A-edns", edns(ask("big.gw.example.com.", dns.TypeA)), false},
		{"big/60A-tcp", ask("big.gw.example.com.", dns.TypeA), true},
		{"slow/compressed-extra", func() *dns.Msg {
			m := ask("app-04242.gw.example.com.", dns.TypeA)
			m.Compress = true
			m.Extra = []dns.RR{&dns.TXT{Hdr: dns.RR_Header{Name: "app-04242.gw.example.com.", Rrtype: dns.TypeTXT, Class: dns.ClassINET}, Txt: []string{"x"}}}
			return m
		}(), false},
	}
	for _, c := range cases {
		raw, err := c.q.Pack()
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.name, func(b *testing.B) {
			buf := make([]byte, 0, 65535)
			b.ReportAllocs()
			b.SetBytes(int64(len(raw)))
			for b.Loop() {
				out, _ := r.Respond(buf[:0], raw, c.tcp)
				if len(out) < headerLen {
					b.Fatal("no answer")
				}
			}
		})
	}
}

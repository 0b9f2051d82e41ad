package wire

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/dnsfailover/dnsfailover/internal/gateway/index"
	"github.com/miekg/dns"
)

func testIndex(t testing.TB) *index.Index {
	t.Helper()
	ix, err := index.New([]index.ZoneConfig{{
		Name: "gw.example.com", TTL: 60, NegativeTTL: 30,
		NameServers: []index.NameServer{
			{Name: "ns1.gw.example.com", Addrs: []netip.Addr{netip.MustParseAddr("192.0.2.53"), netip.MustParseAddr("2001:db8::53")}},
			{Name: "ns2.other.example.net"},
		},
	}})
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(ix.Apply("ingress/default/web", []index.Endpoint{{Name: "www.gw.example.com", Addrs: []netip.Addr{netip.MustParseAddr("10.0.0.5"), netip.MustParseAddr("2001:db8::5")}}}))
	must(ix.Apply("service/default/ext", []index.Endpoint{{Name: "redis.gw.example.com", CNAME: "redis.staging.internal"}}))
	must(ix.Apply("route/default/wild", []index.Endpoint{{Name: "*.apps.gw.example.com", Addrs: []netip.Addr{netip.MustParseAddr("10.0.0.7")}}}))
	must(ix.Apply("ingress/default/deep", []index.Endpoint{{Name: "a.b.deep.gw.example.com", Addrs: []netip.Addr{netip.MustParseAddr("10.0.0.8")}}}))
	return ix
}

func exchange(t *testing.T, r *Responder, q *dns.Msg, tcp bool) (*dns.Msg, Result) {
	t.Helper()
	raw, err := q.Pack()
	if err != nil {
		t.Fatal(err)
	}
	out, res := r.Respond(nil, raw, tcp)
	if out == nil {
		t.Fatalf("no response to %v", q.Question)
	}
	m := new(dns.Msg)
	if err := m.Unpack(out); err != nil {
		t.Fatalf("unpack response: %v", err)
	}
	if m.Id != q.Id {
		t.Fatalf("id %d, want %d", m.Id, q.Id)
	}
	return m, res
}

func ask(name string, qtype uint16) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.Id = 4242
	return m
}

func TestAnswers(t *testing.T) {
	r := &Responder{Index: testIndex(t)}
	tests := []struct {
		name    string
		qtype   uint16
		rcode   int
		answers []string // substrings of each answer RR's text, in order
		soa     bool
		glue    int
	}{
		{"www.gw.example.com.", dns.TypeA, dns.RcodeSuccess, []string{"\tA\t10.0.0.5"}, false, 0},
		{"WwW.Gw.Example.COM.", dns.TypeAAAA, dns.RcodeSuccess, []string{"\tAAAA\t2001:db8::5"}, false, 0},
		{"www.gw.example.com.", dns.TypeTXT, dns.RcodeSuccess, nil, true, 0},
		{"www.gw.example.com.", dns.TypeMX, dns.RcodeSuccess, nil, true, 0},
		{"nope.gw.example.com.", dns.TypeA, dns.RcodeNameError, nil, true, 0},
		{"nope.gw.example.com.", dns.TypeTXT, dns.RcodeNameError, nil, true, 0},
		{"redis.gw.example.com.", dns.TypeA, dns.RcodeSuccess, []string{"\tCNAME\tredis.staging.internal."}, false, 0},
		{"redis.gw.example.com.", dns.TypeCNAME, dns.RcodeSuccess, []string{"\tCNAME\tredis.staging.internal."}, false, 0},
		{"x.apps.gw.example.com.", dns.TypeA, dns.RcodeSuccess, []string{"x.apps.gw.example.com.\t60\tIN\tA\t10.0.0.7"}, false, 0},
		{"y.x.apps.gw.example.com.", dns.TypeA, dns.RcodeSuccess, []string{"y.x.apps.gw.example.com.\t60\tIN\tA\t10.0.0.7"}, false, 0},
		{"x.apps.gw.example.com.", dns.TypeAAAA, dns.RcodeSuccess, nil, true, 0},
		{"apps.gw.example.com.", dns.TypeA, dns.RcodeSuccess, nil, true, 0},   // empty non-terminal
		{"b.deep.gw.example.com.", dns.TypeA, dns.RcodeSuccess, nil, true, 0}, // empty non-terminal
		{"c.b.deep.gw.example.com.", dns.TypeA, dns.RcodeNameError, nil, true, 0},
		{"gw.example.com.", dns.TypeSOA, dns.RcodeSuccess, []string{"\tSOA\tns1.gw.example.com. hostmaster.gw.example.com. "}, false, 0},
		{"gw.example.com.", dns.TypeNS, dns.RcodeSuccess, []string{"\tNS\tns1.gw.example.com.", "\tNS\tns2.other.example.net."}, false, 2},
		{"gw.example.com.", dns.TypeA, dns.RcodeSuccess, nil, true, 0},
		{"ns1.gw.example.com.", dns.TypeAAAA, dns.RcodeSuccess, []string{"\tAAAA\t2001:db8::53"}, false, 0},
		{"example.com.", dns.TypeA, dns.RcodeRefused, nil, false, 0},
		{"www.gw.example.org.", dns.TypeA, dns.RcodeRefused, nil, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name+"/"+dns.TypeToString[tt.qtype], func(t *testing.T) {
			m, res := exchange(t, r, ask(tt.name, tt.qtype), false)
			if m.Rcode != tt.rcode || res.Rcode != tt.rcode {
				t.Fatalf("rcode %s (result %s), want %s\n%v", dns.RcodeToString[m.Rcode], dns.RcodeToString[res.Rcode], dns.RcodeToString[tt.rcode], m)
			}
			if m.Question[0].Name != tt.name {
				t.Errorf("question %q, want the query's case %q", m.Question[0].Name, tt.name)
			}
			if got := m.Authoritative; got != (tt.rcode != dns.RcodeRefused) {
				t.Errorf("AA=%v", got)
			}
			if len(m.Answer) != len(tt.answers) {
				t.Fatalf("answers %v, want %d", m.Answer, len(tt.answers))
			}
			for i, want := range tt.answers {
				if !strings.Contains(m.Answer[i].String(), want) {
					t.Errorf("answer %d = %q, want it to contain %q", i, m.Answer[i].String(), want)
				}
				if !strings.EqualFold(m.Answer[i].Header().Name, tt.name) {
					t.Errorf("answer owner %q, want %q", m.Answer[i].Header().Name, tt.name)
				}
			}
			if tt.soa {
				if len(m.Ns) != 1 {
					t.Fatalf("authority %v, want one SOA", m.Ns)
				}
				soa, ok := m.Ns[0].(*dns.SOA)
				if !ok || soa.Hdr.Name != "gw.example.com." || soa.Minttl != 30 || soa.Hdr.Ttl != 30 {
					t.Errorf("authority %v, want SOA of gw.example.com. with minimum and TTL 30", m.Ns[0])
				}
			} else if len(m.Ns) != 0 {
				t.Errorf("authority %v, want none", m.Ns)
			}
			if len(m.Extra) != tt.glue {
				t.Errorf("additional %v, want %d glue records", m.Extra, tt.glue)
			}
		})
	}
}

func TestSerialChangesWithData(t *testing.T) {
	ix := testIndex(t)
	z := ix.Zones()[0]
	before := z.Serial()
	if err := ix.Apply("ingress/default/new", []index.Endpoint{{Name: "new.gw.example.com", Addrs: []netip.Addr{netip.MustParseAddr("10.1.1.1")}}}); err != nil {
		t.Fatal(err)
	}
	if after := z.Serial(); int32(after-before) <= 0 {
		t.Fatalf("serial %d after a change, was %d", after, before)
	}
	r := &Responder{Index: ix}
	m, _ := exchange(t, r, ask("gw.example.com.", dns.TypeSOA), false)
	if got := m.Answer[0].(*dns.SOA).Serial; got != z.Serial() {
		t.Fatalf("served serial %d, zone serial %d", got, z.Serial())
	}
	if err := ix.Apply("ingress/default/new", nil); err != nil {
		t.Fatal(err)
	}
	m, _ = exchange(t, r, ask("new.gw.example.com.", dns.TypeA), false)
	if m.Rcode != dns.RcodeNameError {
		t.Fatalf("deleted name: rcode %s, want NXDOMAIN", dns.RcodeToString[m.Rcode])
	}
}

func TestTruncationAndEDNS(t *testing.T) {
	ix := testIndex(t)
	var addrs []netip.Addr
	for i := range 60 {
		addrs = append(addrs, netip.AddrFrom4([4]byte{10, 9, 0, byte(i)}))
	}
	if err := ix.Apply("ingress/default/big", []index.Endpoint{{Name: "big.gw.example.com", Addrs: addrs}}); err != nil {
		t.Fatal(err)
	}
	r := &Responder{Index: ix}
	// 60 A records = 12+24+60*16 > 512: truncated without EDNS.
	m, res := exchange(t, r, ask("big.gw.example.com.", dns.TypeA), false)
	if !m.Truncated || !res.Truncated || len(m.Answer) != 0 {
		t.Fatalf("plain UDP: TC=%v answers=%d, want TC and none", m.Truncated, len(m.Answer))
	}
	q := ask("big.gw.example.com.", dns.TypeA)
	q.SetEdns0(4096, true)
	m, _ = exchange(t, r, q, false)
	if m.Truncated || len(m.Answer) != 60 {
		t.Fatalf("EDNS 4096: TC=%v answers=%d, want all 60", m.Truncated, len(m.Answer))
	}
	opt := m.IsEdns0()
	if opt == nil || opt.UDPSize() != DefaultMaxUDPSize || opt.Do() {
		t.Fatalf("response OPT %v, want size %d without DO", opt, DefaultMaxUDPSize)
	}
	m, _ = exchange(t, r, ask("big.gw.example.com.", dns.TypeA), true)
	if m.Truncated || len(m.Answer) != 60 {
		t.Fatalf("TCP: TC=%v answers=%d", m.Truncated, len(m.Answer))
	}
}

func TestSlowPath(t *testing.T) {
	r := &Responder{Index: testIndex(t)}
	q := ask("www.gw.example.com.", dns.TypeA)
	q.Opcode = dns.OpcodeNotify
	if m, _ := exchange(t, r, q, false); m.Rcode != dns.RcodeNotImplemented {
		t.Errorf("NOTIFY: %s, want NOTIMP", dns.RcodeToString[m.Rcode])
	}
	q = ask("www.gw.example.com.", dns.TypeA)
	q.SetEdns0(1232, false)
	q.IsEdns0().SetVersion(1)
	if m, _ := exchange(t, r, q, false); m.Rcode != dns.RcodeBadVers {
		t.Errorf("EDNS version 1: %s, want BADVERS", dns.RcodeToString[m.Rcode])
	}
	q = ask("www.gw.example.com.", dns.TypeA)
	q.Question[0].Qclass = dns.ClassCHAOS
	if m, _ := exchange(t, r, q, false); m.Rcode != dns.RcodeRefused {
		t.Errorf("CH class: %s, want REFUSED", dns.RcodeToString[m.Rcode])
	}
	q = ask("gw.example.com.", dns.TypeAXFR)
	if m, _ := exchange(t, r, q, true); m.Rcode != dns.RcodeRefused {
		t.Errorf("AXFR: %s, want REFUSED", dns.RcodeToString[m.Rcode])
	}
	// A compressed question (legal, unusual) is answered like a plain one.
	q = ask("www.gw.example.com.", dns.TypeA)
	q.Compress = true
	q.Extra = []dns.RR{&dns.TXT{Hdr: dns.RR_Header{Name: "www.gw.example.com.", Rrtype: dns.TypeTXT, Class: dns.ClassINET}, Txt: []string{"x"}}}
	m, res := exchange(t, r, q, false)
	if m.Rcode != dns.RcodeSuccess || len(m.Answer) != 1 || !res.Slow {
		t.Errorf("query with an extra record: %v (slow=%v)", m, res.Slow)
	}
	// Responses are dropped, garbage gets FORMERR.
	resp := ask("www.gw.example.com.", dns.TypeA)
	resp.Response = true
	raw, _ := resp.Pack()
	if out, _ := r.Respond(nil, raw, false); out != nil {
		t.Errorf("answered a response")
	}
	out, res := r.Respond(nil, []byte{1, 2, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 63, 'a'}, false)
	if out == nil || res.Rcode != dns.RcodeFormatError || out[0] != 1 || out[1] != 2 {
		t.Errorf("truncated question: %v %+v, want FORMERR with the ID", out, res)
	}
}

func FuzzRespond(f *testing.F) {
	r := &Responder{Index: testIndex(f)}
	for _, q := range []*dns.Msg{ask("www.gw.example.com.", dns.TypeA), ask("x.apps.gw.example.com.", dns.TypeAAAA), ask("gw.example.com.", dns.TypeNS)} {
		raw, _ := q.Pack()
		f.Add(raw)
		q.SetEdns0(1232, true)
		raw, _ = q.Pack()
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, q []byte) {
		for _, tcp := range []bool{false, true} {
			out, res := r.Respond(nil, q, tcp)
			if out == nil {
				continue
			}
			m := new(dns.Msg)
			if err := m.Unpack(out); err != nil && len(out) > headerLen {
				t.Fatalf("response does not parse: %v\nquery %x\nresponse %x", err, q, out)
			}
			if out[0] != q[0] || out[1] != q[1] {
				t.Fatalf("ID not echoed")
			}
			if out[2]&0x80 == 0 {
				t.Fatalf("QR not set")
			}
			if !tcp && len(out) > DefaultMaxUDPSize {
				t.Fatalf("UDP response of %d bytes", len(out))
			}
			_ = res
		}
	})
}

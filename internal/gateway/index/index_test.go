package index

import (
	"net/netip"
	"strings"
	"testing"
	"time"
)

func mustIndex(t *testing.T, zones ...ZoneConfig) *Index {
	t.Helper()
	if len(zones) == 0 {
		zones = []ZoneConfig{{Name: "gw.example.com", TTL: 60, NameServers: []NameServer{{Name: "ns1.gw.example.com", Addrs: addrs("192.0.2.53")}}}}
	}
	ix, err := New(zones)
	if err != nil {
		t.Fatal(err)
	}
	return ix
}

func addrs(s ...string) []netip.Addr {
	var out []netip.Addr
	for _, a := range s {
		out = append(out, netip.MustParseAddr(a))
	}
	return out
}

func lookup(t *testing.T, ix *Index, name string) *Node {
	t.Helper()
	w, err := WireName(name)
	if err != nil {
		t.Fatal(err)
	}
	return ix.Lookup([]byte(w))
}

func TestApplyMergesReplacesAndDeletes(t *testing.T) {
	ix := mustIndex(t)
	if err := ix.Apply("a", []Endpoint{{Name: "www.gw.example.com", Addrs: addrs("10.0.0.2", "10.0.0.1")}}); err != nil {
		t.Fatal(err)
	}
	// A second object adds to the same name; duplicates collapse.
	if err := ix.Apply("b", []Endpoint{{Name: "WWW.gw.example.com.", Addrs: addrs("10.0.0.1", "2001:db8::1")}}); err != nil {
		t.Fatal(err)
	}
	n := lookup(t, ix, "www.gw.example.com")
	if n == nil || n.A.Count != 2 || n.AAAA.Count != 1 || n.CNAME.Count != 0 || n.Any.Count != 3 {
		t.Fatalf("merged node: %+v", n)
	}
	if got := ix.DataNames(); got != 2 { // www and the in-zone name server
		t.Errorf("DataNames %d, want 2", got)
	}
	// Replacing object a's records drops its address only.
	if err := ix.Apply("a", []Endpoint{{Name: "other.gw.example.com", Addrs: addrs("10.0.0.9")}}); err != nil {
		t.Fatal(err)
	}
	if n := lookup(t, ix, "www.gw.example.com"); n == nil || n.A.Count != 1 || n.AAAA.Count != 1 {
		t.Fatalf("after replace: %+v", n)
	}
	if err := ix.Apply("b", nil); err != nil {
		t.Fatal(err)
	}
	if n := lookup(t, ix, "www.gw.example.com"); n != nil {
		t.Fatalf("deleted name still there: %+v", n)
	}
	if got := ix.DataNames(); got != 2 { // other and the name server
		t.Errorf("DataNames %d, want 2", got)
	}
}

func TestEmptyNonTerminals(t *testing.T) {
	ix := mustIndex(t)
	if err := ix.Apply("a", []Endpoint{{Name: "a.b.c.gw.example.com", Addrs: addrs("10.0.0.1")}}); err != nil {
		t.Fatal(err)
	}
	if err := ix.Apply("b", []Endpoint{{Name: "x.c.gw.example.com", Addrs: addrs("10.0.0.2")}}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"b.c.gw.example.com", "c.gw.example.com"} {
		if n := lookup(t, ix, name); n == nil || n.HasData() {
			t.Errorf("%s: %+v, want an empty non-terminal", name, n)
		}
	}
	if err := ix.Apply("a", nil); err != nil {
		t.Fatal(err)
	}
	if n := lookup(t, ix, "b.c.gw.example.com"); n != nil {
		t.Errorf("b.c still exists after its only child went: %+v", n)
	}
	if n := lookup(t, ix, "c.gw.example.com"); n == nil {
		t.Errorf("c disappeared although x.c still exists")
	}
	if err := ix.Apply("b", nil); err != nil {
		t.Fatal(err)
	}
	if n := lookup(t, ix, "c.gw.example.com"); n != nil {
		t.Errorf("c still exists with no names below: %+v", n)
	}
	if n := lookup(t, ix, "gw.example.com"); n == nil || !n.Apex {
		t.Errorf("apex gone: %+v", n)
	}
}

func TestCNAMERules(t *testing.T) {
	ix := mustIndex(t)
	// Two objects disagree: the smallest target wins on every replica.
	if err := ix.Apply("a", []Endpoint{{Name: "db.gw.example.com", CNAME: "z.example.net"}}); err != nil {
		t.Fatal(err)
	}
	if err := ix.Apply("b", []Endpoint{{Name: "db.gw.example.com", CNAME: "a.example.net"}}); err != nil {
		t.Fatal(err)
	}
	n := lookup(t, ix, "db.gw.example.com")
	if n == nil || n.CNAME.Count != 1 || !strings.Contains(string(n.CNAME.Wire), "\x01a\x07example\x03net") {
		t.Fatalf("CNAME node: %+v", n)
	}
	// Addresses from another object win over a CNAME (no CNAME beside data).
	if err := ix.Apply("c", []Endpoint{{Name: "db.gw.example.com", Addrs: addrs("10.0.0.1")}}); err != nil {
		t.Fatal(err)
	}
	if n := lookup(t, ix, "db.gw.example.com"); n.CNAME.Count != 0 || n.A.Count != 1 {
		t.Fatalf("addresses beside CNAME: %+v", n)
	}
	// One endpoint with both: an error, and the addresses are used.
	err := ix.Apply("d", []Endpoint{{Name: "both.gw.example.com", Addrs: addrs("10.0.0.2"), CNAME: "x.example.net"}})
	if err == nil || !strings.Contains(err.Error(), "using the addresses") {
		t.Errorf("both: error %v", err)
	}
	if n := lookup(t, ix, "both.gw.example.com"); n == nil || n.A.Count != 1 || n.CNAME.Count != 0 {
		t.Errorf("both: %+v", n)
	}
	// A CNAME at the apex is refused.
	if err := ix.Apply("e", []Endpoint{{Name: "gw.example.com", CNAME: "x.example.net"}}); err == nil {
		t.Error("apex CNAME accepted")
	}
	if n := lookup(t, ix, "gw.example.com"); n.CNAME.Count != 0 {
		t.Errorf("apex has a CNAME: %+v", n)
	}
}

func TestInvalidAndOutOfZoneEndpoints(t *testing.T) {
	ix := mustIndex(t)
	err := ix.Apply("a", []Endpoint{
		{Name: "bad..name.gw.example.com", Addrs: addrs("10.0.0.1")},
		{Name: "ok.gw.example.com", Addrs: []netip.Addr{{}, netip.MustParseAddr("10.0.0.2")}},
		{Name: "www.example.org", Addrs: addrs("10.0.0.3")},
		{Name: strings.Repeat("a", 64) + ".gw.example.com", Addrs: addrs("10.0.0.4")},
	})
	if err == nil || !strings.Contains(err.Error(), "invalid domain name") || !strings.Contains(err.Error(), "invalid address") {
		t.Errorf("error %v, want invalid name and invalid address reported", err)
	}
	if n := lookup(t, ix, "ok.gw.example.com"); n == nil || n.A.Count != 1 {
		t.Errorf("valid endpoint not applied: %+v", n)
	}
	w, _ := WireName("www.example.org")
	if ix.Lookup([]byte(w)) != nil {
		t.Error("out-of-zone name stored")
	}
}

func TestSerialMovesOnlyOnChange(t *testing.T) {
	ix := mustIndex(t)
	z := ix.Zones()[0]
	now := time.Unix(2_000_000_000, 0)
	ix.now = func() time.Time { return now }
	ep := []Endpoint{{Name: "www.gw.example.com", Addrs: addrs("10.0.0.1")}}
	if err := ix.Apply("a", ep); err != nil {
		t.Fatal(err)
	}
	s1 := z.Serial()
	if s1 != 2_000_000_000 {
		t.Errorf("serial %d, want the change's Unix time", s1)
	}
	if err := ix.Apply("a", ep); err != nil { // same data: no change
		t.Fatal(err)
	}
	if z.Serial() != s1 {
		t.Errorf("serial moved without a change")
	}
	// Two changes in one second still move it.
	if err := ix.Apply("a", []Endpoint{{Name: "www.gw.example.com", Addrs: addrs("10.0.0.2")}}); err != nil {
		t.Fatal(err)
	}
	if z.Serial() != s1+1 {
		t.Errorf("serial %d, want %d", z.Serial(), s1+1)
	}
	if !ix.LastUpdate().Equal(now) {
		t.Errorf("last update %v", ix.LastUpdate())
	}
}

func TestNestedZonesAndFindZone(t *testing.T) {
	ns := []NameServer{{Name: "ns.example.net"}}
	ix := mustIndex(t, ZoneConfig{Name: "gw.example.com", TTL: 60, NameServers: ns}, ZoneConfig{Name: "sub.gw.example.com", TTL: 30, NameServers: ns})
	for name, want := range map[string]string{
		"a.sub.gw.example.com": "sub.gw.example.com.",
		"sub.gw.example.com":   "sub.gw.example.com.",
		"a.gw.example.com":     "gw.example.com.",
		"example.com":          "",
	} {
		w, _ := WireName(name)
		z, off := ix.FindZone([]byte(w))
		got := ""
		if z != nil {
			got = PresentationName(z.Apex)
			if w[off:] != z.Apex {
				t.Errorf("%s: offset %d does not point at the apex", name, off)
			}
		}
		if got != want {
			t.Errorf("FindZone(%s) = %q, want %q", name, got, want)
		}
	}
}

func TestZoneConfigErrors(t *testing.T) {
	ns := []NameServer{{Name: "ns.example.net"}}
	cases := []struct {
		zones []ZoneConfig
		want  string
	}{
		{nil, "no zones"},
		{[]ZoneConfig{{Name: ".", TTL: 60, NameServers: ns}}, "root zone"},
		{[]ZoneConfig{{Name: "gw.example.com", NameServers: ns}}, "TTL must be positive"},
		{[]ZoneConfig{{Name: "gw.example.com", TTL: 60}}, "at least one name server"},
		{[]ZoneConfig{{Name: "gw.example.com", TTL: 60, NameServers: []NameServer{{Name: "ns1.gw.example.com"}}}}, "needs at least one address for glue"},
		{[]ZoneConfig{{Name: "gw.example.com", TTL: 60, NameServers: ns}, {Name: "GW.example.com.", TTL: 60, NameServers: ns}}, "configured twice"},
		{[]ZoneConfig{{Name: "bad..zone", TTL: 60, NameServers: ns}}, "invalid domain name"},
	}
	for _, c := range cases {
		if _, err := New(c.zones); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("New(%+v): %v, want %q", c.zones, err, c.want)
		}
	}
}

func TestWireName(t *testing.T) {
	w, err := WireName(" WWW.Example.COM ")
	if err != nil || w != "\x03www\x07example\x03com\x00" {
		t.Fatalf("WireName: %q %v", w, err)
	}
	if p := PresentationName(w); p != "www.example.com." {
		t.Errorf("PresentationName: %q", p)
	}
	if _, err := WireName(strings.Repeat("a.", 128)); err == nil {
		t.Error("over-long name accepted")
	}
}

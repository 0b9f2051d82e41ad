package server

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/dnsfailover/dnsfailover/internal/gateway/index"
	"github.com/dnsfailover/dnsfailover/internal/gateway/source"
	"github.com/dnsfailover/dnsfailover/internal/gateway/wire"
)

func testIndex(t testing.TB) *index.Index {
	t.Helper()
	ix, err := index.New([]index.ZoneConfig{{Name: "gw.example.com", TTL: 60,
		NameServers: []index.NameServer{{Name: "ns1.gw.example.com", Addrs: []netip.Addr{netip.MustParseAddr("192.0.2.53")}}}}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		name := fmt.Sprintf("app-%02d.gw.example.com", i)
		if err := ix.Apply("ingress/default/"+name, []index.Endpoint{{Name: name, Addrs: []netip.Addr{netip.AddrFrom4([4]byte{10, 0, 0, byte(i)})}}}); err != nil {
			t.Fatal(err)
		}
	}
	return ix
}

// serve runs UDP and TCP servers on loopback until the test ends.
func serve(t testing.TB, ix *index.Index, m *Metrics) (udp, tcp string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	conns, err := ListenUDP(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if want := runtime.GOMAXPROCS(0); reusePortSupported && len(conns) != want {
		t.Errorf("%d UDP sockets, want one per CPU (%d)", len(conns), want)
	}
	port := conns[0].LocalAddr().(*net.UDPAddr).Port
	for _, c := range conns {
		if p := c.LocalAddr().(*net.UDPAddr).Port; p != port {
			t.Errorf("socket on port %d, want all on %d", p, port)
		}
	}
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	d := &DNS{Responder: &wire.Responder{Index: ix}, Metrics: m}
	done := make(chan error, 2)
	go func() { done <- d.ServeUDP(ctx, conns) }()
	go func() { done <- d.ServeTCP(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		for range 2 {
			if err := <-done; err != nil {
				t.Errorf("server stopped with: %v", err)
			}
		}
	})
	return conns[0].LocalAddr().String(), ln.Addr().String()
}

// A burst of queries from one socket lands in batches; every query gets its
// own answer, and packets that must not be answered (responses, runts) in
// the middle of a batch are dropped without losing their neighbours.
func TestUDPBurstAnswersEveryQuery(t *testing.T) {
	ix := testIndex(t)
	m := NewMetrics(ix, nil)
	addr, _ := serve(t, ix, m)
	conn, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const n = 200
	for i := range n {
		q := new(dns.Msg)
		q.SetQuestion(fmt.Sprintf("APP-%02d.gw.example.com.", i%100), dns.TypeA)
		q.Id = uint16(i)
		raw, _ := q.Pack()
		if _, err := conn.Write(raw); err != nil {
			t.Fatal(err)
		}
		if i%50 == 25 {
			q.Response = true // must be dropped
			raw, _ = q.Pack()
			_, _ = conn.Write(raw)
			_, _ = conn.Write([]byte{1}) // runt
		}
	}
	seen := map[uint16]bool{}
	buf := make([]byte, 1500)
	for len(seen) < n {
		_ = conn.SetReadDeadline(time.Now().Add(3 * time.Second))
		k, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("after %d answers: %v", len(seen), err)
		}
		r := new(dns.Msg)
		if err := r.Unpack(buf[:k]); err != nil {
			t.Fatal(err)
		}
		i := int(r.Id)
		a, ok := r.Answer[0].(*dns.A)
		if !ok || seen[r.Id] || r.Question[0].Name != fmt.Sprintf("APP-%02d.gw.example.com.", i%100) || a.A.String() != fmt.Sprintf("10.0.0.%d", i%100) {
			t.Fatalf("answer to query %d: %v", i, r)
		}
		seen[r.Id] = true
	}
	_ = conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if k, err := conn.Read(buf); err == nil {
		t.Errorf("extra datagram of %d bytes (a dropped packet was answered)", k)
	}
	rec := httptest.NewRecorder()
	HTTPHandler(&source.Watcher{}, m, false).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	for _, want := range []string{`dnsgw_queries_total{qtype="A",rcode="NOERROR"} 200`, "dnsgw_dropped_total 8", "dnsgw_index_names 101",
		`dnsgw_query_duration_seconds_count{transport="udp"} 200`} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

func TestTCPPipelined(t *testing.T) {
	ix := testIndex(t)
	_, addr := serve(t, ix, nil)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Three queries in one write (RFC 7766 pipelining), answered in any order.
	var out []byte
	for i := range 3 {
		q := new(dns.Msg)
		q.SetQuestion(fmt.Sprintf("app-%02d.gw.example.com.", i), dns.TypeA)
		q.Id = uint16(100 + i)
		raw, _ := q.Pack()
		out = binary.BigEndian.AppendUint16(out, uint16(len(raw)))
		out = append(out, raw...)
	}
	if _, err := conn.Write(out); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(3 * time.Second))
	got := map[uint16]string{}
	for range 3 {
		var l [2]byte
		if _, err := io.ReadFull(conn, l[:]); err != nil {
			t.Fatal(err)
		}
		msg := make([]byte, binary.BigEndian.Uint16(l[:]))
		if _, err := io.ReadFull(conn, msg); err != nil {
			t.Fatal(err)
		}
		r := new(dns.Msg)
		if err := r.Unpack(msg); err != nil {
			t.Fatal(err)
		}
		got[r.Id] = r.Answer[0].(*dns.A).A.String()
	}
	for i := range 3 {
		if got[uint16(100+i)] != fmt.Sprintf("10.0.0.%d", i) {
			t.Errorf("answers %v", got)
		}
	}
}

func TestReadyzBeforeStart(t *testing.T) {
	w := &source.Watcher{}
	h := HTTPHandler(w, NewMetrics(testIndex(t), w), false)
	for path, want := range map[string]int{"/healthz": http.StatusOK, "/readyz": http.StatusServiceUnavailable, "/debug/pprof/": http.StatusNotFound} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != want {
			t.Errorf("%s: %d, want %d", path, rec.Code, want)
		}
	}
	rec := httptest.NewRecorder()
	HTTPHandler(w, NewMetrics(testIndex(t), w), true).ServeHTTP(rec, httptest.NewRequest("GET", "/debug/pprof/", nil))
	if rec.Code != http.StatusOK {
		t.Errorf("/debug/pprof/ with pprof on: %d", rec.Code)
	}
}

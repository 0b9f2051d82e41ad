package dnsrec_test

import (
	"context"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/dnsfailover/dnsfailover/internal/dnsrec"
)

// answer is what a test server says to one query.
type answer struct {
	rcode int
	ips   []string
	tc    bool // set TC and drop the answers (UDP only)
}

// testServer is a tiny authoritative server on loopback, UDP and TCP on one
// port, whose answers a test scripts per query.
type testServer struct {
	addr      string
	udpCount  atomic.Int64
	tcpCount  atomic.Int64
	mu        sync.Mutex
	script    func(n int, proto string) answer // n counts queries from 1, both protocols
	n         int
	extraName string // an unrelated A record added to every answer
}

func startServer(t *testing.T, script func(n int, proto string) answer) *testServer {
	t.Helper()
	s := &testServer{script: script}
	var pc net.PacketConn
	var ln net.Listener
	for i := 0; ; i++ {
		var err error
		pc, err = net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ln, err = net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			break
		}
		_ = pc.Close()
		if i == 20 {
			t.Fatalf("no port free for both UDP and TCP: %v", err)
		}
	}
	s.addr = pc.LocalAddr().String()
	handler := func(proto string) dns.HandlerFunc {
		return func(w dns.ResponseWriter, q *dns.Msg) {
			if proto == "udp" {
				s.udpCount.Add(1)
			} else {
				s.tcpCount.Add(1)
			}
			s.mu.Lock()
			s.n++
			a := s.script(s.n, proto)
			s.mu.Unlock()
			m := new(dns.Msg)
			m.SetRcode(q, a.rcode)
			m.Authoritative = true
			name := q.Question[0].Name
			if a.tc && proto == "udp" {
				m.Truncated = true
			} else {
				for _, ip := range a.ips {
					m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60}, A: net.ParseIP(ip)})
				}
				if s.extraName != "" {
					m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: s.extraName, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60}, A: net.ParseIP("10.9.9.9")})
				}
			}
			_ = w.WriteMsg(m)
		}
	}
	udp := &dns.Server{PacketConn: pc, Handler: handler("udp")}
	tcp := &dns.Server{Listener: ln, Handler: handler("tcp")}
	go func() { _ = udp.ActivateAndServe() }()
	go func() { _ = tcp.ActivateAndServe() }()
	t.Cleanup(func() { _ = udp.Shutdown(); _ = tcp.Shutdown() })
	return s
}

func always(a answer) func(int, string) answer {
	return func(int, string) answer { return a }
}

func ok(ips ...string) answer { return answer{rcode: dns.RcodeSuccess, ips: ips} }

func verifyCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// Against the emulator's real DNS server: exact set, K in a row, full report.
func TestVerifierAgainstEmulator(t *testing.T) {
	emu := emulator(t, 0)
	rep := dnsrec.NewVerifier().Verify(verifyCtx(t), dnsrec.VerifyRequest{
		Name: "Redis-Session-Staging.staging.internal", Type: "a", Want: []string{"10.0.0.5"},
		Resolvers: []string{emu.DNSAddr()}, Consecutive: 3, Interval: time.Millisecond, Timeout: 30 * time.Second,
	})
	if !rep.OK || rep.Err != "" {
		t.Fatalf("report %+v", rep)
	}
	if rep.Name != record || len(rep.Resolvers) != 1 || rep.Elapsed <= 0 {
		t.Fatalf("report header %+v", rep)
	}
	r := rep.Resolvers[0]
	if r.Server != emu.DNSAddr() || !r.OK || r.Streak != 3 || r.Queries != 3 || r.TTL != 300 || r.Rcode != "NOERROR" || r.Err != "" {
		t.Errorf("resolver report %+v", r)
	}
	if !dnsrec.SameData(r.Answers, []string{"10.0.0.5"}) {
		t.Errorf("answers %v", r.Answers)
	}
	if r.FirstMatch <= 0 || r.ConfirmedAt < r.FirstMatch || r.ConfirmedAt > rep.Elapsed {
		t.Errorf("timings first=%v confirmed=%v elapsed=%v", r.FirstMatch, r.ConfirmedAt, rep.Elapsed)
	}
}

// The old address is never mistaken for the new one, and the report keeps
// what the resolver really answered.
func TestVerifierEmulatorWrongAnswerTimesOut(t *testing.T) {
	emu := emulator(t, 0)
	rep := dnsrec.NewVerifier().Verify(verifyCtx(t), dnsrec.VerifyRequest{
		Name: record, Want: []string{"10.0.0.6"}, Resolvers: []string{emu.DNSAddr()},
		Consecutive: 1, Interval: 10 * time.Millisecond, Timeout: 300 * time.Millisecond,
	})
	if rep.OK || rep.Err == "" {
		t.Fatalf("verified an address the zone does not hold: %+v", rep)
	}
	r := rep.Resolvers[0]
	if r.OK || r.Streak != 0 || !dnsrec.SameData(r.Answers, []string{"10.0.0.5"}) || r.Queries < 1 || !strings.Contains(r.Err, "10.0.0.5") {
		t.Errorf("resolver report %+v", r)
	}
}

func TestVerifierExactSet(t *testing.T) {
	cases := []struct {
		name   string
		served []string
		want   []string
		ok     bool
	}{
		{"same set other order", []string{"10.0.0.6", "10.0.0.5"}, []string{"10.0.0.5", "10.0.0.6"}, true},
		{"superset", []string{"10.0.0.5", "10.0.0.6"}, []string{"10.0.0.5"}, false},
		{"subset", []string{"10.0.0.5"}, []string{"10.0.0.5", "10.0.0.6"}, false},
		{"empty answer", nil, []string{"10.0.0.5"}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := startServer(t, always(ok(c.served...)))
			s.extraName = "unrelated.staging.internal." // ignored: another name
			rep := dnsrec.NewVerifier().Verify(verifyCtx(t), dnsrec.VerifyRequest{
				Name: record, Want: c.want, Resolvers: []string{s.addr},
				Consecutive: 2, Interval: time.Millisecond, Timeout: 300 * time.Millisecond,
			})
			if rep.OK != c.ok {
				t.Fatalf("OK = %v, want %v: %+v", rep.OK, c.ok, rep)
			}
			if !dnsrec.SameData(rep.Resolvers[0].Answers, c.served) {
				t.Errorf("reported answers %v, served %v", rep.Resolvers[0].Answers, c.served)
			}
		})
	}
}

// K in a row: an answer that flips back resets the streak.
func TestVerifierStreakResetsWhenAnswerFlips(t *testing.T) {
	seq := []answer{ok("10.0.0.6"), ok("10.0.0.6"), ok("10.0.0.5"), ok("10.0.0.6"), ok("10.0.0.6"), ok("10.0.0.6")}
	s := startServer(t, func(n int, _ string) answer {
		if n <= len(seq) {
			return seq[n-1]
		}
		return ok("10.0.0.6")
	})
	rep := dnsrec.NewVerifier().Verify(verifyCtx(t), dnsrec.VerifyRequest{
		Name: record, Want: []string{"10.0.0.6"}, Resolvers: []string{s.addr},
		Consecutive: 3, Interval: time.Millisecond, Timeout: 30 * time.Second,
	})
	r := rep.Resolvers[0]
	if !rep.OK || r.Queries != 6 || r.Streak != 3 {
		t.Fatalf("confirmed=%v after %d queries (streak %d); want confirmation at query 6", rep.OK, r.Queries, r.Streak)
	}
}

// NXDOMAIN and SERVFAIL never count, even when they carry the address.
func TestVerifierErrorRcodesNeverCount(t *testing.T) {
	for _, rc := range []int{dns.RcodeNameError, dns.RcodeServerFailure, dns.RcodeRefused} {
		t.Run(dns.RcodeToString[rc], func(t *testing.T) {
			s := startServer(t, always(answer{rcode: rc, ips: []string{"10.0.0.6"}}))
			rep := dnsrec.NewVerifier().Verify(verifyCtx(t), dnsrec.VerifyRequest{
				Name: record, Want: []string{"10.0.0.6"}, Resolvers: []string{s.addr},
				Consecutive: 1, Interval: 5 * time.Millisecond, Timeout: 300 * time.Millisecond,
			})
			r := rep.Resolvers[0]
			if rep.OK || r.OK || r.Streak != 0 {
				t.Fatalf("counted a %s answer: %+v", dns.RcodeToString[rc], r)
			}
			if r.Rcode != dns.RcodeToString[rc] {
				t.Errorf("Rcode = %q, want %q", r.Rcode, dns.RcodeToString[rc])
			}
		})
	}
	// A SERVFAIL between good answers breaks the streak.
	seq := []int{dns.RcodeSuccess, dns.RcodeServerFailure, dns.RcodeSuccess, dns.RcodeSuccess}
	s := startServer(t, func(n int, _ string) answer {
		if n <= len(seq) {
			return answer{rcode: seq[n-1], ips: []string{"10.0.0.6"}}
		}
		return ok("10.0.0.6")
	})
	rep := dnsrec.NewVerifier().Verify(verifyCtx(t), dnsrec.VerifyRequest{
		Name: record, Want: []string{"10.0.0.6"}, Resolvers: []string{s.addr},
		Consecutive: 2, Interval: time.Millisecond, Timeout: 30 * time.Second,
	})
	if r := rep.Resolvers[0]; !rep.OK || r.Queries != 4 {
		t.Fatalf("confirmed=%v after %d queries, want confirmation at query 4", rep.OK, r.Queries)
	}
}

// A truncated UDP answer is asked again over TCP, where the real answer is.
func TestVerifierFallsBackToTCP(t *testing.T) {
	s := startServer(t, func(_ int, proto string) answer {
		if proto == "udp" {
			return answer{rcode: dns.RcodeSuccess, tc: true}
		}
		return ok("10.0.0.6")
	})
	rep := dnsrec.NewVerifier().Verify(verifyCtx(t), dnsrec.VerifyRequest{
		Name: record, Want: []string{"10.0.0.6"}, Resolvers: []string{s.addr},
		Consecutive: 2, Interval: time.Millisecond, Timeout: 30 * time.Second,
	})
	if !rep.OK {
		t.Fatalf("not verified over TCP: %+v", rep)
	}
	if s.udpCount.Load() != 2 || s.tcpCount.Load() != 2 {
		t.Errorf("udp=%d tcp=%d queries, want 2 and 2", s.udpCount.Load(), s.tcpCount.Load())
	}
}

// One unreachable resolver fails the verification and says why; the others
// are reported on their own.
func TestVerifierUnreachableResolver(t *testing.T) {
	good := startServer(t, always(ok("10.0.0.6")))
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := pc.LocalAddr().String()
	_ = pc.Close() // nothing listens there now: queries are refused
	v := &dnsrec.Verifier{QueryTimeout: 200 * time.Millisecond}
	rep := v.Verify(verifyCtx(t), dnsrec.VerifyRequest{
		Name: record, Want: []string{"10.0.0.6"}, Resolvers: []string{good.addr, dead},
		Consecutive: 2, Interval: 10 * time.Millisecond, Timeout: time.Second,
	})
	if rep.OK || rep.Err == "" {
		t.Fatalf("verified with a dead resolver: %+v", rep)
	}
	if len(rep.Resolvers) != 2 || rep.Resolvers[0].Server != good.addr || rep.Resolvers[1].Server != dead {
		t.Fatalf("reports not in resolver order: %+v", rep.Resolvers)
	}
	if g := rep.Resolvers[0]; !g.OK || g.Err != "" {
		t.Errorf("good resolver report %+v", g)
	}
	if d := rep.Resolvers[1]; d.OK || d.Err == "" || d.Queries < 1 || d.Answers != nil {
		t.Errorf("dead resolver report %+v", d)
	}
}

// A resolver that never answers cannot hold verification past its deadline,
// whichever of Timeout and ctx ends first.
func TestVerifierHonoursDeadline(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0") // reads nothing, answers nothing
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	v := &dnsrec.Verifier{QueryTimeout: time.Minute}
	for _, viaCtx := range []bool{false, true} {
		req := dnsrec.VerifyRequest{Name: record, Want: []string{"10.0.0.6"}, Resolvers: []string{pc.LocalAddr().String()}, Interval: time.Millisecond}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		if viaCtx {
			cancel()
			ctx, cancel = context.WithTimeout(context.Background(), 300*time.Millisecond)
		} else {
			req.Timeout = 300 * time.Millisecond
		}
		start := time.Now()
		rep := v.Verify(ctx, req)
		took := time.Since(start)
		cancel()
		if rep.OK || rep.Resolvers[0].Err == "" {
			t.Errorf("ctx=%v: %+v", viaCtx, rep)
		}
		if took > 20*time.Second { // the per-query timeout is a minute
			t.Errorf("ctx=%v: Verify took %v with a 300ms deadline", viaCtx, took)
		}
	}
}

func TestVerifierBadRequests(t *testing.T) {
	v := dnsrec.NewVerifier()
	if rep := v.Verify(verifyCtx(t), dnsrec.VerifyRequest{Name: record, Want: []string{"10.0.0.6"}}); rep.OK || rep.Err == "" {
		t.Errorf("no resolvers: %+v", rep)
	}
	if rep := v.Verify(verifyCtx(t), dnsrec.VerifyRequest{Name: record, Type: "BOGUS", Want: []string{"10.0.0.6"}, Resolvers: []string{"127.0.0.1:1"}}); rep.OK || !strings.Contains(rep.Err, "BOGUS") {
		t.Errorf("unknown type: %+v", rep)
	}
}

// A resolver given without a port is asked on 53; its report names it so.
func TestVerifierDefaultPort(t *testing.T) {
	v := &dnsrec.Verifier{QueryTimeout: 100 * time.Millisecond}
	rep := v.Verify(verifyCtx(t), dnsrec.VerifyRequest{Name: record, Want: []string{"10.0.0.6"}, Resolvers: []string{"127.0.0.1", "::1"},
		Timeout: 150 * time.Millisecond, Interval: 50 * time.Millisecond})
	if rep.Resolvers[0].Server != "127.0.0.1:53" || rep.Resolvers[1].Server != "[::1]:53" {
		t.Errorf("servers %q %q", rep.Resolvers[0].Server, rep.Resolvers[1].Server)
	}
}

package server

import (
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// BenchmarkUDPRoundTrip sends bursts of 32 queries over loopback and reads
// the 32 answers: the whole server path (recvmmsg, Respond, metrics,
// sendmmsg) plus the client's own system calls. allocs/op counts every
// goroutine, so it shows whether the server allocates per batch.
func BenchmarkUDPRoundTrip(b *testing.B) {
	ix := testIndex(b)
	addr, _ := serve(b, ix, NewMetrics(ix, nil))
	conn, err := net.Dial("udp", addr)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	const burst = 32
	var queries [burst][]byte
	for i := range burst {
		q := new(dns.Msg)
		q.SetQuestion(fmt.Sprintf("app-%02d.gw.example.com.", i), dns.TypeA)
		queries[i], _ = q.Pack()
	}
	buf := make([]byte, 1500)
	b.ReportAllocs()
	for b.Loop() {
		for _, q := range queries {
			if _, err := conn.Write(q); err != nil {
				b.Fatal(err)
			}
		}
		for range burst {
			_ = conn.SetReadDeadline(time.Now().Add(2 * time.Second))
			if _, err := conn.Read(buf); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*burst), "ns/query")
}

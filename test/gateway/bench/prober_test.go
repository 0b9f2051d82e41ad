package bench_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
)

// probeResult summarizes a fixed-rate run.
type probeResult struct {
	Sent, Received, Bad int
	Latency             latencies
}

// latencies is a sample of round-trip times.
type latencies []time.Duration

// quantile returns the q-quantile (0..1) of the sorted sample.
func (l latencies) quantile(q float64) time.Duration {
	if len(l) == 0 {
		return 0
	}
	return l[min(len(l)-1, int(q*float64(len(l))))]
}

func (l latencies) String() string {
	return fmt.Sprintf("n=%d p50=%v p90=%v p99=%v p99.9=%v max=%v", len(l),
		l.quantile(0.5), l.quantile(0.9), l.quantile(0.99), l.quantile(0.999), l.quantile(1))
}

// probeFixedRate sends rate queries per second over UDP to addr for d, in
// small bursts every 100µs (sleeping between, unlike dnsperf's busy-wait),
// and records each answer's round trip. names are asked in turn; every
// answer must be NOERROR with one answer record or it counts as bad.
func probeFixedRate(addr string, names []string, rate int, d time.Duration) (probeResult, error) {
	conn, err := net.Dial("udp", addr)
	if err != nil {
		return probeResult{}, fmt.Errorf("dial %s: %w", addr, err)
	}
	defer conn.Close()
	_ = conn.(*net.UDPConn).SetReadBuffer(4 << 20)
	queries := make([][]byte, len(names))
	for i, n := range names {
		m := new(dns.Msg)
		m.SetQuestion(dns.Fqdn(n), dns.TypeA)
		if queries[i], err = m.Pack(); err != nil {
			return probeResult{}, fmt.Errorf("pack %s: %w", n, err)
		}
	}
	total := int(float64(rate) * d.Seconds())
	var sentAt [1 << 16]atomic.Int64 // by DNS ID
	res := probeResult{Latency: make(latencies, 0, total)}
	done := make(chan struct{})
	go func() { // receiver
		defer close(done)
		buf := make([]byte, 4096)
		for res.Received+res.Bad < total {
			_ = conn.SetReadDeadline(time.Now().Add(time.Second))
			n, err := conn.Read(buf)
			now := time.Now().UnixNano()
			if err != nil {
				return // timeout after the last answer: the rest are lost
			}
			if n < 12 {
				res.Bad++
				continue
			}
			id := binary.BigEndian.Uint16(buf)
			at := sentAt[id].Swap(0)
			rcode := buf[3] & 0xF
			if at == 0 || rcode != dns.RcodeSuccess || binary.BigEndian.Uint16(buf[6:]) != 1 {
				res.Bad++
				continue
			}
			res.Received++
			res.Latency = append(res.Latency, time.Duration(now-at))
		}
	}()
	start := time.Now()
	for res.Sent < total {
		due := min(total, int(time.Since(start).Seconds()*float64(rate)))
		for ; res.Sent < due; res.Sent++ {
			q := queries[res.Sent%len(queries)]
			id := uint16(res.Sent)
			binary.BigEndian.PutUint16(q, id)
			sentAt[id].Store(time.Now().UnixNano())
			if _, err := conn.Write(q); err != nil && !errors.Is(err, net.ErrClosed) {
				return res, fmt.Errorf("send: %w", err)
			}
		}
		time.Sleep(100 * time.Microsecond)
	}
	<-done
	slices.Sort(res.Latency)
	return res, nil
}

// firstCorrectAnswer asks name (A) over conn in a tight loop until the
// answer is want, and returns how long that took; it gives up after limit.
func firstCorrectAnswer(conn net.Conn, name string, want [4]byte, limit time.Duration) (time.Duration, error) {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), dns.TypeA)
	q, err := m.Pack()
	if err != nil {
		return 0, err
	}
	buf := make([]byte, 1500)
	start := time.Now()
	for id := uint16(1); time.Since(start) < limit; id++ {
		binary.BigEndian.PutUint16(q, id)
		if _, err := conn.Write(q); err != nil {
			return 0, fmt.Errorf("send: %w", err)
		}
		_ = conn.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		for {
			n, err := conn.Read(buf)
			if err != nil {
				break // lost or late: ask again
			}
			if n < 12 || binary.BigEndian.Uint16(buf) != id {
				continue // a late answer to an earlier query
			}
			r := new(dns.Msg)
			if err := r.Unpack(buf[:n]); err == nil && len(r.Answer) == 1 {
				if a, ok := r.Answer[0].(*dns.A); ok && [4]byte(a.A.To4()) == want {
					return time.Since(start), nil
				}
			}
			break
		}
	}
	return 0, fmt.Errorf("%s not answered with %v within %v", name, want, limit)
}

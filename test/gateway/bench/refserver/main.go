// Command refserver is the benchmarks' yardstick: a plain miekg/dns
// dns.Server answering A records of the benchmark names from a map, the
// design the issue measured at about 1.3x k8s_gateway on this kind of
// machine. Running it beside the gateway under the same machine load makes
// the gateway's numbers comparable with the reference. Loopback only.
package main

import (
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strings"

	"github.com/miekg/dns"
)

func main() {
	addr := flag.String("dns-addr", "127.0.0.1:0", "UDP listen address (loopback)")
	zone := flag.String("zone", "gw.example.com", "zone of the names")
	n := flag.Int("names", 10000, "answer app-00000 .. app-<n-1>")
	flag.String("http-addr", "", "ignored (accepted so the benchmark can start it like the gateway)")
	flag.String("log-level", "", "ignored")
	flag.Parse()
	if ip, err := netip.ParseAddrPort(*addr); err != nil || !ip.Addr().IsLoopback() {
		fmt.Fprintln(os.Stderr, "refserver: --dns-addr must be a loopback address:port")
		os.Exit(1)
	}
	records := make(map[string]net.IP, *n)
	for i := range *n {
		records[fmt.Sprintf("app-%05d.%s.", i, *zone)] = net.IPv4(10, byte(i>>16), byte(i>>8), byte(i))
	}
	handler := dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(r)
		m.Authoritative = true
		q := r.Question[0]
		if ip, ok := records[strings.ToLower(q.Name)]; ok && q.Qtype == dns.TypeA {
			m.Answer = []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60}, A: ip}}
		} else if !ok {
			m.Rcode = dns.RcodeNameError
		}
		_ = w.WriteMsg(m)
	})
	pc, err := net.ListenPacket("udp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "refserver:", err)
		os.Exit(1)
	}
	slog.New(slog.NewJSONHandler(os.Stderr, nil)).Info("gateway listening", "dns", pc.LocalAddr().String(), "http", "")
	srv := &dns.Server{PacketConn: pc, Handler: handler}
	if err := srv.ActivateAndServe(); err != nil {
		fmt.Fprintln(os.Stderr, "refserver:", err)
		os.Exit(1)
	}
}

package gateway_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"k8s.io/client-go/rest"

	"github.com/dnsfailover/dnsfailover/internal/gateway"
	"github.com/dnsfailover/dnsfailover/internal/gateway/index"
	"github.com/dnsfailover/dnsfailover/internal/gateway/source"
)

const zone = "gw.example.com."

// startGateway runs the gateway in-process against cfg on loopback ports.
func startGateway(t *testing.T, cfg *rest.Config, kinds ...source.Kind) *gateway.Gateway {
	t.Helper()
	return startGatewayWith(t, cfg, func(*gateway.Config) {}, kinds...)
}

// startGatewayWith is startGateway with the configuration changed by edit.
func startGatewayWith(t *testing.T, cfg *rest.Config, edit func(*gateway.Config), kinds ...source.Kind) *gateway.Gateway {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	config := gateway.Config{
		Zones:       []string{"gw.example.com"},
		TTL:         60,
		NegativeTTL: 30,
		NameServers: []index.NameServer{{Name: "ns1.gw.example.com", Addrs: []netip.Addr{netip.MustParseAddr("192.0.2.53"), netip.MustParseAddr("2001:db8::53")}}},
		Sources:     kinds,
		DNSAddr:     "127.0.0.1:0",
		HTTPAddr:    "127.0.0.1:0",
		REST:        cfg,
		Log:         log,
	}
	edit(&config)
	gw, err := gateway.New(config)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := gw.Start(ctx); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		if err := gw.Wait(); err != nil {
			t.Errorf("gateway stopped with: %v", err)
		}
	})
	return gw
}

// eventually polls f every 20ms until it returns "" or the timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, f func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		msg := f()
		if msg == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v: %s", what, timeout, msg)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func httpStatus(t *testing.T, gw *gateway.Gateway, path string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + gw.HTTPAddr.String() + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func waitReady(t *testing.T, gw *gateway.Gateway) {
	t.Helper()
	eventually(t, 60*time.Second, "gateway ready", func() string {
		if code, body := httpStatus(t, gw, "/readyz"); code != http.StatusOK {
			return body
		}
		return ""
	})
}

// query asks the gateway over "udp" or "tcp" with a miekg/dns client.
func query(t *testing.T, gw *gateway.Gateway, network, name string, qtype uint16, edns bool) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	if edns {
		m.SetEdns0(1232, false)
	}
	c := &dns.Client{Net: network, Timeout: 2 * time.Second}
	addr := gw.UDPAddr.String()
	if network == "tcp" {
		addr = gw.TCPAddr.String()
	}
	r, _, err := c.Exchange(m, addr)
	if err != nil {
		t.Fatalf("%s %s %s: %v", network, name, dns.TypeToString[qtype], err)
	}
	return r
}

// answerText is the answer section's records as "TYPE rdata" lines, sorted as sent.
func answerText(m *dns.Msg) string {
	var parts []string
	for _, rr := range m.Answer {
		f := strings.Fields(rr.String())
		parts = append(parts, strings.Join(f[3:], " "))
	}
	return strings.Join(parts, "; ")
}

// dig runs the dig command against the gateway and returns its output.
func dig(t *testing.T, gw *gateway.Gateway, args ...string) string {
	t.Helper()
	path, err := exec.LookPath("dig")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("dig not installed (Debian package bind9-dnsutils)")
		}
		t.Skip("dig not installed (Debian package bind9-dnsutils)")
	}
	host, port, _ := strings.Cut(gw.UDPAddr.String(), ":")
	full := append([]string{"@" + host, "-p", port, "+time=2", "+tries=1"}, args...)
	out, err := exec.Command(path, full...).CombinedOutput()
	if err != nil {
		t.Fatalf("dig %v: %v\n%s", full, err, out)
	}
	return string(out)
}

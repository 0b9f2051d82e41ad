package prober

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/dnsfailover/dnsfailover/internal/health"
)

// Locator says which endpoint (IP:port) is the record's primary right now.
type Locator interface {
	Locate(ctx context.Context) (string, error)
}

// NewLocator builds the locator the record's config asks for. lookup is
// needed only for instance primaries.
func NewLocator(r Record, lookup health.InstanceLookup) (Locator, error) {
	p := r.Primary
	switch {
	case p.Endpoint != "":
		return staticLocator(p.Endpoint), nil
	case p.Instance != "":
		if lookup == nil {
			return nil, errors.New("primary.instance needs the Memorystore API")
		}
		return &instanceLocator{name: p.Instance, port: r.Port, lookup: lookup, refresh: 30 * time.Second}, nil
	case len(p.Resolvers) > 0:
		return &DNSLocator{Name: r.Name, Port: r.Port, Resolvers: p.Resolvers, Timeout: DefaultResolveTimeout}, nil
	}
	return nil, fmt.Errorf("record %s: no primary configured", r.Name)
}

type staticLocator string

func (s staticLocator) Locate(context.Context) (string, error) { return string(s), nil }

// DNSLocator asks DNS what the record points at, as the apps do. If no
// resolver answers it keeps the last answer: a DNS hiccup says nothing about
// Redis, and the primary almost certainly did not move in that second.
type DNSLocator struct {
	Name      string
	Port      int
	Resolvers []string
	Timeout   time.Duration

	mu   sync.Mutex
	last string
}

// Locate queries the resolvers in order and returns IP:port of the lowest
// A record (one is expected).
func (d *DNSLocator) Locate(ctx context.Context) (string, error) {
	ip, err := d.Query(ctx)
	d.mu.Lock()
	defer d.mu.Unlock()
	if err != nil {
		if d.last != "" {
			return d.last, nil
		}
		return "", err
	}
	d.last = net.JoinHostPort(ip.String(), strconv.Itoa(d.Port))
	return d.last, nil
}

// Query returns the record's address from the first resolver that answers.
func (d *DNSLocator) Query(ctx context.Context) (netip.Addr, error) {
	var errs []error
	for _, rs := range d.Resolvers {
		a, err := queryA(ctx, rs, d.Name, d.Timeout)
		if err == nil {
			return a, nil
		}
		errs = append(errs, err)
	}
	return netip.Addr{}, fmt.Errorf("resolve %s: %w", d.Name, errors.Join(errs...))
}

func queryA(ctx context.Context, resolver, name string, timeout time.Duration) (netip.Addr, error) {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), dns.TypeA)
	c := &dns.Client{Timeout: timeout}
	in, _, err := c.ExchangeContext(ctx, m, resolver)
	if err == nil && in.Truncated {
		c.Net = "tcp"
		in, _, err = c.ExchangeContext(ctx, m, resolver)
	}
	if err != nil {
		return netip.Addr{}, fmt.Errorf("%s: %w", resolver, err)
	}
	if in.Rcode != dns.RcodeSuccess {
		return netip.Addr{}, fmt.Errorf("%s: %s", resolver, dns.RcodeToString[in.Rcode])
	}
	var addrs []netip.Addr
	for _, rr := range in.Answer {
		if a, ok := rr.(*dns.A); ok {
			if ip, ok := netip.AddrFromSlice(a.A.To4()); ok {
				addrs = append(addrs, ip)
			}
		}
	}
	if len(addrs) == 0 {
		return netip.Addr{}, fmt.Errorf("%s: no A record for %s", resolver, name)
	}
	slices.SortFunc(addrs, netip.Addr.Compare)
	return addrs[0], nil
}

// instanceLocator resolves a Memorystore instance's address, refreshed now
// and then (an instance's IP changes only when it is recreated).
type instanceLocator struct {
	name    string
	port    int
	lookup  health.InstanceLookup
	refresh time.Duration

	mu   sync.Mutex
	last string
	at   time.Time
}

func (l *instanceLocator) Locate(ctx context.Context) (string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.last != "" && time.Since(l.at) < l.refresh {
		return l.last, nil
	}
	inst, err := l.lookup.Lookup(ctx, l.name)
	if err != nil || !inst.Addr.IsValid() {
		if l.last != "" {
			return l.last, nil
		}
		if err == nil {
			err = fmt.Errorf("instance host %q is not an IP", inst.Host)
		}
		return "", fmt.Errorf("locate %s: %w", l.name, err)
	}
	port := inst.Port
	if port == 0 {
		port = l.port
	}
	l.last, l.at = net.JoinHostPort(inst.Addr.String(), strconv.Itoa(port)), time.Now()
	return l.last, nil
}

package dnsrec

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// VerifyRequest says what every resolver must answer, and how patiently to ask.
type VerifyRequest struct {
	Name        string
	Type        string   // "A" or "AAAA"
	Want        []string // the exact address set expected
	Resolvers   []string // "ip:port" (or "ip", port 53)
	Consecutive int      // identical answers in a row required per resolver
	Interval    time.Duration
	Timeout     time.Duration // whole verification; also bounded by ctx
}

// ResolverReport is what one resolver answered.
type ResolverReport struct {
	Server      string        `json:"server"`
	OK          bool          `json:"ok"`
	Answers     []string      `json:"answers"` // the last answer seen
	TTL         uint32        `json:"ttl"`     // TTL of the last answer
	Rcode       string        `json:"rcode,omitempty"`
	Queries     int           `json:"queries"`
	Streak      int           `json:"streak"`
	FirstMatch  time.Duration `json:"first_match_ns,omitempty"` // since the start of verification
	ConfirmedAt time.Duration `json:"confirmed_ns,omitempty"`
	Err         string        `json:"error,omitempty"`
}

// Report is the outcome of a verification.
type Report struct {
	OK        bool             `json:"ok"`
	Name      string           `json:"name"`
	Want      []string         `json:"want"`
	Resolvers []ResolverReport `json:"resolvers"`
	Elapsed   time.Duration    `json:"elapsed_ns"`
	Err       string           `json:"error,omitempty"`
}

// Verifier asks resolvers directly over UDP, retrying over TCP on truncation,
// so no local cache can hide what they serve.
type Verifier struct {
	QueryTimeout time.Duration // one query; default 1s
}

// NewVerifier returns a verifier with defaults.
func NewVerifier() *Verifier { return &Verifier{QueryTimeout: time.Second} }

// Verify polls every resolver until each returns exactly Want Consecutive
// times in a row, or the timeout passes. It never reports success it did not see.
func (v *Verifier) Verify(ctx context.Context, r VerifyRequest) Report {
	start := time.Now()
	rep := Report{Name: FQDN(r.Name), Want: slices.Clone(r.Want)}
	if len(r.Resolvers) == 0 {
		rep.Err = "no resolvers to verify with"
		return rep
	}
	if r.Consecutive < 1 {
		r.Consecutive = 1
	}
	if r.Type == "" {
		r.Type = "A"
	}
	qtype, ok := dns.StringToType[strings.ToUpper(r.Type)]
	if !ok {
		rep.Err = fmt.Sprintf("unknown record type %q", r.Type)
		return rep
	}
	if r.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, r.Timeout)
		defer cancel()
	}
	rep.Resolvers = make([]ResolverReport, len(r.Resolvers))
	var wg sync.WaitGroup
	for i, server := range r.Resolvers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rep.Resolvers[i] = v.poll(ctx, start, server, rep.Name, qtype, r)
		}()
	}
	wg.Wait()
	rep.OK = true
	for _, rr := range rep.Resolvers {
		rep.OK = rep.OK && rr.OK
	}
	rep.Elapsed = time.Since(start)
	if !rep.OK {
		rep.Err = fmt.Sprintf("not every resolver confirmed %s %v within %s", rep.Name, r.Want, r.Timeout)
	}
	return rep
}

func (v *Verifier) poll(ctx context.Context, start time.Time, server, name string, qtype uint16, r VerifyRequest) ResolverReport {
	addr := hostPort(server)
	out := ResolverReport{Server: addr}
	for {
		out.Queries++
		answers, ttl, rcode, err := v.query(ctx, addr, name, qtype)
		if err != nil && ended(ctx) {
			// The deadline cut this query short: that says nothing new about
			// the resolver, so report what it last really answered.
			if out.Err == "" && out.Rcode == "" {
				out.Err = fmt.Sprintf("no answer before the deadline after %d queries: %v", out.Queries, err)
			} else if out.Err == "" {
				out.Err = fmt.Sprintf("gave up after %d queries: last answer %v (%s), want %v", out.Queries, out.Answers, out.Rcode, r.Want)
			}
			return out
		}
		if err == nil { // an error keeps the last answer actually seen
			out.Answers, out.TTL, out.Rcode = answers, ttl, rcode
		}
		switch {
		case err != nil:
			out.Err, out.Streak = err.Error(), 0
		case rcode == "NOERROR" && SameData(answers, r.Want):
			out.Err = ""
			if out.Streak++; out.Streak == 1 {
				out.FirstMatch = time.Since(start)
			}
		default:
			out.Err, out.Streak = "", 0
		}
		if out.Streak >= r.Consecutive {
			out.OK, out.ConfirmedAt = true, time.Since(start)
			return out
		}
		t := time.NewTimer(r.Interval)
		select {
		case <-ctx.Done():
			t.Stop()
			if out.Err == "" {
				out.Err = fmt.Sprintf("gave up after %d queries: last answer %v (%s), want %v", out.Queries, out.Answers, out.Rcode, r.Want)
			}
			return out
		case <-t.C:
		}
	}
}

// ended reports whether ctx is done or past its deadline; a dial can fail
// on the deadline a moment before ctx.Err() is set.
func ended(ctx context.Context) bool {
	dl, ok := ctx.Deadline()
	return ctx.Err() != nil || ok && !time.Now().Before(dl)
}

// query asks one server once; a truncated UDP answer is retried over TCP.
func (v *Verifier) query(ctx context.Context, addr, name string, qtype uint16) ([]string, uint32, string, error) {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.SetEdns0(1232, false)
	timeout := v.QueryTimeout
	if timeout <= 0 {
		timeout = time.Second
	}
	c := &dns.Client{Net: "udp", Timeout: timeout}
	in, _, err := c.ExchangeContext(ctx, m, addr)
	if err == nil && in.Truncated {
		c.Net = "tcp"
		in, _, err = c.ExchangeContext(ctx, m, addr)
	}
	if err != nil {
		return nil, 0, "", fmt.Errorf("query %s: %w", addr, err)
	}
	var answers []string
	var ttl uint32
	for _, rr := range in.Answer {
		if rr.Header().Rrtype != qtype || !strings.EqualFold(rr.Header().Name, name) {
			continue
		}
		switch a := rr.(type) {
		case *dns.A:
			answers = append(answers, a.A.String())
		case *dns.AAAA:
			answers = append(answers, a.AAAA.String())
		default:
			answers = append(answers, strings.TrimPrefix(rr.String(), rr.Header().String()))
		}
		ttl = rr.Header().Ttl
	}
	return answers, ttl, dns.RcodeToString[in.Rcode], nil
}

// hostPort adds port 53 where a resolver was given without one.
func hostPort(s string) string {
	if _, err := netip.ParseAddrPort(s); err == nil {
		return s
	}
	if a, err := netip.ParseAddr(strings.Trim(s, "[]")); err == nil {
		return netip.AddrPortFrom(a, 53).String()
	}
	if _, _, err := net.SplitHostPort(s); err == nil {
		return s
	}
	return net.JoinHostPort(strings.TrimSuffix(s, "."), "53")
}

package failover

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"google.golang.org/api/option"

	"github.com/dnsfailover/dnsfailover/internal/clouddnsemu"
	"github.com/dnsfailover/dnsfailover/internal/dnsrec"
)

const stateRecord = "redis-session-staging.staging.internal."

func fullState() State {
	t0 := time.Date(2026, 11, 1, 12, 30, 45, 123_000_000, time.UTC)
	return State{
		Phase: PhaseSwapped, LastID: "incident-0.1234@alert", SwappedAt: t0, LoweredAt: t0.Add(-5 * time.Minute),
		RestoreAt: t0.Add(5 * time.Minute), Previous: "10.0.0.5,10.0.0.7", Current: "10.0.0.6",
		Target: "projects/acme/locations/europe-west1/instances/session-b", Reason: "primary unreachable",
		Seen: []string{"incident-0.1234@alert", "msg-17", "close:incident-0.1233"},
	}
}

// sameState compares states field by field, times by instant.
func sameState(a, b *State) bool {
	if !a.SwappedAt.Equal(b.SwappedAt) || !a.LoweredAt.Equal(b.LoweredAt) || !a.RestoreAt.Equal(b.RestoreAt) {
		return false
	}
	x, y := *a, *b
	x.SwappedAt, x.LoweredAt, x.RestoreAt = time.Time{}, time.Time{}, time.Time{}
	y.SwappedAt, y.LoweredAt, y.RestoreAt = time.Time{}, time.Time{}, time.Time{}
	if len(x.Seen) == 0 && len(y.Seen) == 0 {
		x.Seen, y.Seen = nil, nil
	}
	return reflect.DeepEqual(x, y)
}

func roundTrip(t *testing.T, s State) (*State, dnsrec.RecordSet) {
	t.Helper()
	rs := s.RecordSet(stateRecord, 60)
	got, err := ParseState(&rs)
	if err != nil {
		t.Fatalf("ParseState(%q): %v", rs.Data, err)
	}
	return got, rs
}

// characterStrings splits TXT presentation data the way a zone file does.
func characterStrings(t *testing.T, data string) []string {
	t.Helper()
	var out []string
	for rest := strings.TrimSpace(data); rest != ""; rest = strings.TrimSpace(rest) {
		if rest[0] != '"' {
			t.Fatalf("unquoted character-string in %q", data)
		}
		end := strings.IndexByte(rest[1:], '"')
		if end < 0 {
			t.Fatalf("unterminated character-string in %q", data)
		}
		out = append(out, rest[1:1+end])
		rest = rest[2+end:]
	}
	return out
}

func TestStateRoundTrip(t *testing.T) {
	s := fullState()
	got, rs := roundTrip(t, s)
	if !sameState(&s, got) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", *got, s)
	}
	if rs.Name != "_dnsfailover."+stateRecord || rs.Type != "TXT" || rs.TTL != 60 || len(rs.Data) != 1 {
		t.Errorf("record set %v", rs)
	}
	if StateName("Redis-Session-Staging.staging.internal") != rs.Name {
		t.Errorf("StateName does not normalise: %q", StateName("Redis-Session-Staging.staging.internal"))
	}
}

func TestStateRoundTripMinimal(t *testing.T) {
	for _, p := range []Phase{PhaseSteady, PhaseTTLLowered, PhaseSwapped} {
		s := State{Phase: p}
		got, _ := roundTrip(t, s)
		if !sameState(&s, got) {
			t.Errorf("%s: got %+v", p, *got)
		}
	}
}

func TestStateNilIsSteady(t *testing.T) {
	s, err := ParseState(nil)
	if err != nil || s.Phase != PhaseSteady || s.LastID != "" || len(s.Seen) != 0 {
		t.Fatalf("ParseState(nil) = %+v, %v", s, err)
	}
}

func TestStateReasonsSurvive(t *testing.T) {
	for _, reason := range []string{
		"primary unreachable from europe-west1",
		`operator said "fail over now"`,
		`a\b "c" \"d\"`,
		"key=value; other=thing==",
		"100% down + 50%25 & more?",
		"Redis 主节点不可用 — ärgerlich 🚨",
		"tab\tnewline\nend",
		"  leading and trailing  ",
		"'single' `back`",
	} {
		s := fullState()
		s.Reason = reason
		got, _ := roundTrip(t, s)
		if got.Reason != reason {
			t.Errorf("reason %q came back as %q", reason, got.Reason)
		}
	}
}

func TestStateLongReasonTruncated(t *testing.T) {
	for _, unit := range []string{"x", "é", "€", "🚨", "a b"} {
		s := fullState()
		s.Reason = strings.Repeat(unit, 400)
		got, _ := roundTrip(t, s)
		if len(got.Reason) > maxReason || len(got.Reason) < maxReason-4 {
			t.Errorf("%q: reason of %d bytes kept %d, want about %d", unit, len(s.Reason), len(got.Reason), maxReason)
		}
		if !strings.HasPrefix(s.Reason, got.Reason) {
			t.Errorf("%q: kept reason is not a prefix of the original", unit)
		}
		if !utf8.ValidString(got.Reason) {
			t.Errorf("%q: truncation split a character: %q", unit, got.Reason[len(got.Reason)-4:])
		}
	}
}

// DNS limits each TXT character-string to 255 bytes; every field must fit,
// whatever the reason, ids and target contain.
func TestStateCharacterStringsFit(t *testing.T) {
	worst := []struct {
		name string
		edit func(*State)
	}{
		{"ascii reason", func(s *State) { s.Reason = strings.Repeat("x", 1000) }},
		{"spaces reason", func(s *State) { s.Reason = strings.Repeat(" ", 1000) }},
		{"quote reason", func(s *State) { s.Reason = strings.Repeat(`"`, 1000) }},
		{"unicode reason", func(s *State) { s.Reason = strings.Repeat("é", 500) }},
		{"emoji reason", func(s *State) { s.Reason = strings.Repeat("🚨", 250) }},
		{"long id", func(s *State) { s.LastID = strings.Repeat("/", 200); s.Seen = []string{s.LastID} }},
		{"long target", func(s *State) { s.Target = "projects/" + strings.Repeat("p", 300) + "/locations/l/instances/i" }},
	}
	for _, w := range worst {
		s := fullState()
		w.edit(&s)
		rs := s.RecordSet(stateRecord, 60)
		for _, cs := range characterStrings(t, rs.Data[0]) {
			if len(cs) > 255 {
				k, _, _ := strings.Cut(cs, "=")
				t.Errorf("%s: field %q is %d bytes, over the 255-byte TXT limit", w.name, k, len(cs))
			}
		}
	}
}

// The state must survive a trip through Cloud DNS (the emulator parses
// rrdatas as a zone file does) whatever the reason holds.
func TestStateThroughCloudDNS(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	emu, err := clouddnsemu.Start(ctx, clouddnsemu.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = emu.Close() }()
	if err := emu.CreateZone("p", "z", "staging.internal.", true); err != nil {
		t.Fatal(err)
	}
	p, err := dnsrec.NewCloudDNS(ctx, "p", "z", option.WithEndpoint(emu.URL()), option.WithoutAuthentication())
	if err != nil {
		t.Fatal(err)
	}
	var live *dnsrec.RecordSet
	for _, reason := range []string{"plain", `quotes " and \ backslash`, strings.Repeat("é", 150), strings.Repeat("x", 300)} {
		s := fullState()
		s.Reason = reason
		rs := s.RecordSet(stateRecord, 60)
		ch := dnsrec.Change{Additions: []dnsrec.RecordSet{rs}}
		if live != nil {
			ch.Deletions = []dnsrec.RecordSet{*live}
		}
		if err := p.Apply(ctx, ch); err != nil {
			t.Errorf("reason %.20q...: Apply: %v", reason, err)
			continue
		}
		live, err = p.Get(ctx, rs.Key())
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseState(live)
		if err != nil {
			t.Errorf("reason %.20q...: the stored state no longer parses: %v\nstored: %q", reason, err, live.Data)
			continue
		}
		want, _ := ParseState(&rs)
		if !sameState(want, got) {
			t.Errorf("reason %.20q...: stored state differs:\n got %+v\nwant %+v", reason, *got, *want)
		}
	}
}

func TestStateSeenCap(t *testing.T) {
	var s State
	for i := range 20 {
		s.remember(fmt.Sprintf("req-%d", i))
	}
	s.remember("req-19") // already there: no change
	s.remember("")       // ignored
	if len(s.Seen) != maxSeen || maxSeen != 16 {
		t.Fatalf("seen has %d ids, want 16", len(s.Seen))
	}
	if s.Seen[0] != "req-19" || s.Seen[15] != "req-4" {
		t.Errorf("seen = %v, want newest first", s.Seen)
	}
	if s.HasSeen("req-3") || !s.HasSeen("req-4") {
		t.Errorf("oldest ids not dropped: %v", s.Seen)
	}
	s.Phase = PhaseSteady
	got, _ := roundTrip(t, s)
	if !reflect.DeepEqual(got.Seen, s.Seen) {
		t.Errorf("seen round trip = %v", got.Seen)
	}
}

func TestParseStateErrors(t *testing.T) {
	v := `"v=dnsfailover1" `
	cases := []struct {
		name string
		data []string
		want string
	}{
		{"no data", nil, "want one TXT record, found 0"},
		{"two records", []string{v + `"phase=steady"`, v + `"phase=steady"`}, "found 2"},
		{"field without =", []string{v + `"phase=steady" "garbage"`}, "malformed field"},
		{"bad escape", []string{v + `"phase=steady" "reason=%zz"`}, "field reason"},
		{"bad time", []string{v + `"phase=swapped" "swapped=yesterday"`}, "field swapped"},
		{"no version", []string{`"phase=steady"`}, "version"},
		{"unknown version", []string{`"v=dnsfailover2" "phase=steady"`}, `version "dnsfailover2"`},
		{"unknown phase", []string{v + `"phase=flying"`}, `unknown phase "flying"`},
		{"empty phase", []string{v + `"phase="`}, "unknown phase"},
		{"empty", []string{""}, "version"},
	}
	for _, c := range cases {
		_, err := ParseState(&dnsrec.RecordSet{Name: StateName(stateRecord), Type: "TXT", Data: c.data})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want it to mention %q", c.name, err, c.want)
			continue
		}
		if !strings.Contains(err.Error(), StateName(stateRecord)) {
			t.Errorf("%s: error does not name the record: %v", c.name, err)
		}
	}
}

// Fields written by a newer version are ignored, and the parser accepts the
// presentation forms a server may hand back (unquoted words, escapes).
func TestParseStateTolerance(t *testing.T) {
	s, err := ParseState(&dnsrec.RecordSet{Name: StateName(stateRecord), Type: "TXT",
		Data: []string{`v=dnsfailover1 "phase=swapped"  "future=1" "reason=a\"b"`}})
	if err != nil {
		t.Fatal(err)
	}
	if s.Phase != PhaseSwapped || s.Reason != `a"b` {
		t.Errorf("%+v", s)
	}
}

// encoderLimits applies what RecordSet deliberately drops, so the fuzz
// property is "parse, encode, parse" loses nothing else: the reason is cut to
// maxReason bytes, and empty or over-long seen ids are not written.
// (ParseState accepts both; see the report to the lead.)
func encoderLimits(s *State) {
	s.Reason = truncateUTF8(s.Reason, maxReason)
	var seen []string
	for _, id := range s.Seen {
		if id != "" { // empty values are not written; long ones continue in "seen+=" strings
			seen = append(seen, id)
		}
	}
	s.Seen = seen
}

func FuzzParseState(f *testing.F) {
	for _, s := range []State{fullState(), {Phase: PhaseSteady}, {Phase: PhaseTTLLowered, Reason: "🚨 \"x\" = y"}} {
		f.Add(s.RecordSet(stateRecord, 60).Data[0])
	}
	f.Add(`"v=dnsfailover1" "phase=steady" "seen=a" "seen=b"`)
	f.Add(`v=dnsfailover1 phase=swapped swapped=-1 "x=\"y"`)
	f.Add(`"v=dnsfailover1" "phase=steady" "reason=%ZZ"`)
	f.Fuzz(func(t *testing.T, data string) {
		rs := &dnsrec.RecordSet{Name: StateName(stateRecord), Type: "TXT", TTL: 60, Data: []string{data}}
		st, err := ParseState(rs)
		if err != nil {
			return
		}
		enc := st.RecordSet(stateRecord, 60)
		again, err := ParseState(&enc)
		if err != nil {
			t.Fatalf("accepted %q, but its re-encoding %q fails: %v", data, enc.Data[0], err)
		}
		encoderLimits(st)
		if !sameState(st, again) {
			t.Fatalf("accepted %q as\n%+v\nbut re-encoded %q parses as\n%+v", data, *st, enc.Data[0], *again)
		}
	})
}

package failover

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dnsfailover/dnsfailover/internal/dnsrec"
)

// The state record is a TXT record set at StateName(record), in the same
// zone, written in the same atomic change as the A record it describes. Every
// function instance therefore sees the same state without a database, and
// the A record and its state can never disagree.
const (
	statePrefix  = "_dnsfailover."
	stateVersion = "dnsfailover1"
	maxSeen      = 16  // request ids remembered for deduplication
	maxReason    = 200 // bytes of reason kept
)

// Phase is where a record is in its failover life cycle.
type Phase string

const (
	PhaseSteady     Phase = "steady"      // normal TTL, no failover in flight
	PhaseTTLLowered Phase = "ttl-lowered" // TTL lowered ahead of a swap (prepare or planned)
	PhaseSwapped    Phase = "swapped"     // pointed at a new target, TTL still low
)

// State is what the zone remembers about a record's failovers.
type State struct {
	Phase      Phase     `json:"phase"`
	LastID     string    `json:"last_id,omitempty"`     // id of the request that last changed the record
	SwappedAt  time.Time `json:"swapped_at,omitzero"`   // time of the last swap
	LoweredAt  time.Time `json:"lowered_at,omitzero"`   // time the TTL was last lowered
	RestoreAt  time.Time `json:"restore_at,omitzero"`   // earliest time to restore the normal TTL
	Previous   string    `json:"previous,omitempty"`    // address before the last swap
	Current    string    `json:"current,omitempty"`     // address after the last swap
	Target     string    `json:"target,omitempty"`      // target as named (instance or IP)
	PrevTarget string    `json:"prev_target,omitempty"` // the target moved away from, when known
	Reason     string    `json:"reason,omitempty"`
	Seen       []string  `json:"seen,omitempty"` // recent request ids, newest first
}

// StateName is the owner name of a record's state TXT.
func StateName(record string) string { return statePrefix + dnsrec.FQDN(record) }

// HasSeen reports whether id was already handled.
func (s *State) HasSeen(id string) bool {
	for _, x := range s.Seen {
		if x == id {
			return true
		}
	}
	return false
}

// remember records id as handled, keeping the newest maxSeen.
func (s *State) remember(id string) {
	if id == "" || s.HasSeen(id) {
		return
	}
	s.Seen = append([]string{id}, s.Seen...)
	if len(s.Seen) > maxSeen {
		s.Seen = s.Seen[:maxSeen]
	}
}

// RecordSet encodes the state as a TXT record set. Each field is its own
// character-string "k=v" with v URL-escaped (plain ASCII, safe in any zone
// file). DNS limits a character-string to 255 bytes, so a longer field
// continues in strings "k+=...", cut only between escapes.
func (s State) RecordSet(record string, ttl int64) dnsrec.RecordSet {
	fields := []string{"v=" + stateVersion, "phase=" + string(s.Phase)}
	add := func(k, v string) {
		if v != "" {
			fields = append(fields, chunk(k, url.QueryEscape(v))...)
		}
	}
	ts := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return strconv.FormatInt(t.UnixMilli(), 10)
	}
	add("id", s.LastID)
	add("swapped", ts(s.SwappedAt))
	add("lowered", ts(s.LoweredAt))
	add("restore", ts(s.RestoreAt))
	add("prev", s.Previous)
	add("cur", s.Current)
	add("target", s.Target)
	add("prevtarget", s.PrevTarget)
	add("reason", truncateUTF8(s.Reason, maxReason))
	for _, id := range s.Seen {
		add("seen", id)
	}
	quoted := make([]string, len(fields))
	for i, f := range fields {
		quoted[i] = `"` + f + `"`
	}
	return dnsrec.RecordSet{Name: StateName(record), Type: "TXT", TTL: ttl, Data: []string{strings.Join(quoted, " ")}}
}

// maxString is DNS's limit on one TXT character-string.
const maxString = 255

// chunk splits an escaped value into "k=..." and "k+=..." strings of at most
// maxString bytes, never inside a %XX escape.
func chunk(k, esc string) []string {
	var out []string
	prefix := k + "="
	for {
		room := maxString - len(prefix)
		if len(esc) <= room {
			return append(out, prefix+esc)
		}
		cut := room
		if i := strings.LastIndexByte(esc[:cut], '%'); i >= 0 && i > cut-3 {
			cut = i // do not split "%XX"
		}
		out = append(out, prefix+esc[:cut])
		esc, prefix = esc[cut:], k+"+="
	}
}

// truncateUTF8 shortens s to at most n bytes without splitting a character.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

// ParseState decodes a state TXT record set. A nil record set is the steady
// state of a record that never failed over.
func ParseState(rs *dnsrec.RecordSet) (*State, error) {
	s := &State{Phase: PhaseSteady}
	if rs == nil {
		return s, nil
	}
	if len(rs.Data) != 1 {
		return nil, fmt.Errorf("state %s: want one TXT record, found %d", rs.Name, len(rs.Data))
	}
	version := ""
	var last *string // the field a continuation extends
	lastKey := ""
	for _, f := range splitTXT(rs.Data[0]) {
		k, raw, ok := strings.Cut(f, "=")
		if !ok {
			return nil, fmt.Errorf("state %s: malformed field %q", rs.Name, f)
		}
		v, err := url.QueryUnescape(raw)
		if err != nil {
			return nil, fmt.Errorf("state %s: field %s: %w", rs.Name, k, err)
		}
		if base, cont := strings.CutSuffix(k, "+"); cont {
			// A continuation: the previous field of that key goes on.
			if last == nil || lastKey != base {
				return nil, fmt.Errorf("state %s: continuation of %q without its start", rs.Name, base)
			}
			*last += v
			continue
		}
		ms := func() time.Time {
			n, perr := strconv.ParseInt(v, 10, 64)
			if perr != nil {
				err = fmt.Errorf("state %s: field %s: %w", rs.Name, k, perr)
			}
			return time.UnixMilli(n).UTC()
		}
		switch k {
		case "v":
			version, last = v, &version
		case "phase":
			s.Phase, last = Phase(v), nil
		case "id":
			s.LastID, last = v, &s.LastID
		case "swapped":
			s.SwappedAt = ms()
		case "lowered":
			s.LoweredAt = ms()
		case "restore":
			s.RestoreAt = ms()
		case "prev":
			s.Previous, last = v, &s.Previous
		case "cur":
			s.Current, last = v, &s.Current
		case "target":
			s.Target, last = v, &s.Target
		case "prevtarget":
			s.PrevTarget, last = v, &s.PrevTarget
		case "reason":
			s.Reason, last = v, &s.Reason
		case "seen":
			s.Seen = append(s.Seen, v)
			last = &s.Seen[len(s.Seen)-1]
		default:
			last = nil // unknown fields (a newer writer) are skipped
		}
		lastKey = k
		if err != nil {
			return nil, err
		}
	}
	if version != stateVersion {
		return nil, fmt.Errorf("state %s: version %q, want %q", rs.Name, version, stateVersion)
	}
	switch s.Phase {
	case PhaseSteady, PhaseTTLLowered, PhaseSwapped:
	default:
		return nil, fmt.Errorf("state %s: unknown phase %q", rs.Name, s.Phase)
	}
	return s, nil
}

// splitTXT splits TXT presentation data into its character-strings.
func splitTXT(s string) []string {
	var out []string
	var cur strings.Builder
	in, esc := false, false
	for _, r := range s {
		switch {
		case esc:
			cur.WriteRune(r)
			esc = false
		case r == '\\':
			esc = true
		case r == '"':
			if in {
				out = append(out, cur.String())
				cur.Reset()
			}
			in = !in
		case in:
			cur.WriteRune(r)
		case r != ' ' && r != '\t':
			// unquoted word
			cur.WriteRune(r)
		default:
			if cur.Len() > 0 {
				out = append(out, cur.String())
				cur.Reset()
			}
		}
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}

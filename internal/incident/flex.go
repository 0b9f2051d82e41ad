package incident

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// FlexString accepts a JSON string, number, bool or null and keeps it as text:
// Monitoring has sent scoping_project_number, threshold_value and
// observed_value both ways.
type FlexString string

// UnmarshalJSON implements json.Unmarshaler.
func (f *FlexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*f = ""
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = FlexString(s)
	case string(b) == "true" || string(b) == "false":
		*f = FlexString(b)
	case b[0] == '-' || (b[0] >= '0' && b[0] <= '9'):
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return err
		}
		*f = FlexString(n.String())
	default:
		return fmt.Errorf("want a string or number, got %.40s", b)
	}
	return nil
}

// EpochTime is a time sent as epoch seconds: a number, a numeric string, or
// null (ended_at while open). Zero means absent.
type EpochTime struct{ time.Time }

// UnmarshalJSON implements json.Unmarshaler.
func (t *EpochTime) UnmarshalJSON(b []byte) error {
	var s FlexString
	if err := s.UnmarshalJSON(b); err != nil {
		return fmt.Errorf("epoch seconds: %w", err)
	}
	v := strings.TrimSpace(string(s))
	if v == "" || v == "0" {
		t.Time = time.Time{}
		return nil
	}
	sec, err := strconv.ParseFloat(v, 64)
	if err != nil {
		// Some senders use RFC 3339 instead of epoch seconds.
		if ts, err2 := time.Parse(time.RFC3339Nano, v); err2 == nil {
			t.Time = ts.UTC()
			return nil
		}
		return fmt.Errorf("epoch seconds: %q is not a number", v)
	}
	if sec < 0 || sec > 1e11 {
		return fmt.Errorf("epoch seconds: %q out of range", v)
	}
	whole := int64(sec)
	t.Time = time.Unix(whole, int64((sec-float64(whole))*1e9)).UTC()
	return nil
}

// MarshalJSON writes epoch seconds, or null when absent.
func (t EpochTime) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return []byte(strconv.FormatInt(t.Unix(), 10)), nil
}

// Labels is a string map that also accepts numbers and bools as values and
// drops nulls: label maps are strings by contract, but we never fail an
// incident over a label's type.
type Labels map[string]string

// UnmarshalJSON implements json.Unmarshaler.
func (l *Labels) UnmarshalJSON(b []byte) error {
	if string(bytes.TrimSpace(b)) == "null" {
		*l = nil
		return nil
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("labels: want an object: %w", err)
	}
	out := make(Labels, len(raw))
	for k, v := range raw {
		var s FlexString
		if err := s.UnmarshalJSON(v); err != nil {
			continue // a nested object as a label value is junk; ignore it
		}
		if string(bytes.TrimSpace(v)) != "null" {
			out[k] = string(s)
		}
	}
	*l = out
	return nil
}

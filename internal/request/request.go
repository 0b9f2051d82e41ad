// Package request decodes and validates manual failover requests published
// as JSON to the requests topic. Decoding is strict: unknown or duplicated
// fields, wrong types and trailing data are errors, each naming its field.
package request

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/dnsfailover/dnsfailover/internal/failover"
	"github.com/dnsfailover/dnsfailover/internal/health"
)

// Manual is a manual failover request as published on the requests topic.
// docs/request.schema.json describes the same shape.
type Manual struct {
	Record    string `json:"record"`
	Target    string `json:"target,omitempty"` // instance name or IP[:port]; empty = best healthy configured target
	From      string `json:"from,omitempty"`   // instance name or IP[:port] being failed away from; the request is a no-op once the record points elsewhere
	Mode      string `json:"mode"`             // planned | emergency
	Reason    string `json:"reason"`
	DryRun    bool   `json:"dry_run,omitempty"`
	RequestID string `json:"request_id,omitempty"`
}

// Limits, mirrored in docs/request.schema.json.
const (
	MaxSize         = 64 << 10 // bytes of JSON
	MaxReason       = 500      // characters
	MaxRecord       = 254      // characters, with the trailing dot
	MaxRequestID    = 128
	SourceManual    = "manual"
	fieldRecord     = "record"
	fieldTarget     = "target"
	fieldFrom       = "from"
	fieldMode       = "mode"
	fieldReason     = "reason"
	fieldDryRun     = "dry_run"
	fieldRequestID  = "request_id"
	requestIDSyntax = `^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$`
	recordSyntax    = `^([A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\.)*[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\.?$`
)

var (
	requestIDRe = regexp.MustCompile(requestIDSyntax)
	recordRe    = regexp.MustCompile(recordSyntax)
)

// ErrInvalid is wrapped by every decode and validation error: the message
// can never succeed, so it is acknowledged, not retried.
var ErrInvalid = errors.New("invalid manual request")

// FieldError is one problem with one field ("" for the body as a whole).
type FieldError struct {
	Field   string `json:"field,omitempty"`
	Problem string `json:"problem"`
}

func (e FieldError) String() string {
	if e.Field == "" {
		return e.Problem
	}
	return fmt.Sprintf("%s: %s", e.Field, e.Problem)
}

// ValidationError lists every problem found.
type ValidationError struct{ Problems []FieldError }

func (e *ValidationError) Error() string {
	s := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		s[i] = p.String()
	}
	return "invalid manual request: " + strings.Join(s, "; ")
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalid }

// Fields returns the names of the fields with problems ("" for the body).
func (e *ValidationError) Fields() []string {
	out := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		out[i] = p.Field
	}
	return out
}

func invalid(field, format string, a ...any) *ValidationError {
	return &ValidationError{Problems: []FieldError{{Field: field, Problem: fmt.Sprintf(format, a...)}}}
}

// Decode parses and validates a request body.
func Decode(data []byte) (*Manual, error) {
	if len(data) > MaxSize {
		return nil, invalid("", "body is %d bytes, limit %d", len(data), MaxSize)
	}
	if !utf8.Valid(data) {
		return nil, invalid("", "body is not valid UTF-8")
	}
	fields, err := splitObject(data)
	if err != nil {
		return nil, err
	}
	var m Manual
	var probs []FieldError
	for _, f := range fields {
		var dst any
		switch f.name {
		case fieldRecord:
			dst = &m.Record
		case fieldTarget:
			dst = &m.Target
		case fieldFrom:
			dst = &m.From
		case fieldMode:
			dst = &m.Mode
		case fieldReason:
			dst = &m.Reason
		case fieldRequestID:
			dst = &m.RequestID
		case fieldDryRun:
			dst = &m.DryRun
		default:
			probs = append(probs, FieldError{f.name, "unknown field (allowed: record, target, from, mode, reason, dry_run, request_id)"})
			continue
		}
		if p := decodeValue(f, dst); p != nil {
			probs = append(probs, *p)
		}
	}
	if len(probs) > 0 {
		return nil, &ValidationError{Problems: probs}
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return &m, nil
}

type rawField struct {
	name  string
	value json.RawMessage
}

// splitObject reads one JSON object and returns its members in order,
// refusing duplicate keys and anything after the object. encoding/json would
// silently keep the last duplicate and match keys case-insensitively.
func splitObject(data []byte) ([]rawField, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, invalid("", "not JSON: %v", syntaxMsg(err))
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, invalid("", "want a JSON object, got %v", describe(tok))
	}
	var out []rawField
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, invalid("", "not JSON: %v", syntaxMsg(err))
		}
		name, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, invalid(name, "not JSON: %v", syntaxMsg(err))
		}
		if seen[name] {
			return nil, invalid(name, "duplicate field")
		}
		seen[name] = true
		out = append(out, rawField{name, v})
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, invalid("", "not JSON: %v", syntaxMsg(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, invalid("", "unexpected data after the JSON object")
	}
	return out, nil
}

func decodeValue(f rawField, dst any) *FieldError {
	v := bytes.TrimSpace(f.value)
	switch d := dst.(type) {
	case *string:
		if len(v) == 0 || v[0] != '"' {
			return &FieldError{f.name, "must be a string, got " + kind(v)}
		}
		if err := json.Unmarshal(v, d); err != nil {
			return &FieldError{f.name, err.Error()}
		}
	case *bool:
		if string(v) != "true" && string(v) != "false" {
			return &FieldError{f.name, "must be true or false, got " + kind(v)}
		}
		*d = string(v) == "true"
	}
	return nil
}

// Validate checks every field; the result names each bad field.
func (m *Manual) Validate() error {
	var probs []FieldError
	add := func(field, format string, a ...any) {
		probs = append(probs, FieldError{field, fmt.Sprintf(format, a...)})
	}
	switch {
	case m.Record == "":
		add(fieldRecord, "required: the DNS name to move, e.g. redis-session-staging.staging.internal.")
	case utf8.RuneCountInString(m.Record) > MaxRecord:
		add(fieldRecord, "longer than %d characters", MaxRecord)
	case !recordRe.MatchString(m.Record):
		add(fieldRecord, "%q is not a DNS name", m.Record)
	}
	for _, f := range []struct{ name, v string }{{fieldTarget, m.Target}, {fieldFrom, m.From}} {
		if f.v == "" {
			continue
		}
		if strings.TrimSpace(f.v) != f.v {
			add(f.name, "%q has leading or trailing spaces", f.v)
		} else if _, err := health.ParseTarget(f.v, 0); err != nil {
			add(f.name, "%v", err)
		}
	}
	switch failover.Mode(m.Mode) {
	case failover.Planned, failover.Emergency:
	case "":
		add(fieldMode, "required: planned (lower TTL, wait, swap) or emergency (swap now)")
	default:
		add(fieldMode, "%q: want planned or emergency", m.Mode)
	}
	switch {
	case strings.TrimSpace(m.Reason) == "":
		add(fieldReason, "required: say why, it goes into the audit trail")
	case utf8.RuneCountInString(m.Reason) > MaxReason:
		add(fieldReason, "%d characters, limit %d", utf8.RuneCountInString(m.Reason), MaxReason)
	}
	if m.RequestID != "" && !requestIDRe.MatchString(m.RequestID) {
		add(fieldRequestID, "%q: want 1-%d of letters, digits and . _ : - (starting with a letter or digit)", m.RequestID, MaxRequestID)
	}
	if len(probs) > 0 {
		return &ValidationError{Problems: probs}
	}
	return nil
}

// Failover turns the request into an engine request. fallbackID (the Pub/Sub
// message id) is the idempotency key when the request carries no request_id.
func (m *Manual) Failover(fallbackID string) failover.Request {
	id := m.RequestID
	if id == "" {
		id = fallbackID
	}
	return failover.Request{
		ID:     id,
		Source: SourceManual,
		Record: m.Record,
		Target: m.Target,
		From:   m.From,
		Mode:   failover.Mode(m.Mode),
		Action: failover.ActionFailover,
		Reason: m.Reason,
		DryRun: m.DryRun,
	}
}

func kind(v []byte) string {
	switch {
	case len(v) == 0:
		return "nothing"
	case string(v) == "null":
		return "null"
	case v[0] == '"':
		return "a string"
	case v[0] == '{':
		return "an object"
	case v[0] == '[':
		return "an array"
	case string(v) == "true" || string(v) == "false":
		return "a boolean"
	default:
		return "a number"
	}
}

func describe(tok json.Token) string {
	switch t := tok.(type) {
	case json.Delim:
		return "'" + t.String() + "'"
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	default:
		return "a number"
	}
}

func syntaxMsg(err error) string {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return "unexpected end of input"
	}
	return err.Error()
}

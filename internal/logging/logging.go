// Package logging writes log/slog records as JSON in Cloud Logging's shape:
// severity, message, time, source location and labels.
package logging

import (
	"context"
	"io"
	"log/slog"
	"maps"
	"os"
	"strconv"
	"strings"
)

// Attribute keys lifted into the entry's labels, so Cloud Logging can filter
// on them (labels."record"="...").
const (
	LabelRecord     = "record"
	LabelRequestID  = "request_id"
	LabelIncidentID = "incident_id"
)

// Keys Cloud Logging recognises in a structured stdout line.
const (
	KeySeverity       = "severity"
	KeyMessage        = "message"
	KeyLabels         = "logging.googleapis.com/labels"
	KeySourceLocation = "logging.googleapis.com/sourceLocation"
)

// EnvLevel names the variable holding the minimum level (debug, info, warn, error).
const EnvLevel = "DNSFAILOVER_LOG_LEVEL"

var labelKeys = map[string]bool{LabelRecord: true, LabelRequestID: true, LabelIncidentID: true}

// New returns a logger writing Cloud Logging JSON lines to w, at the level
// named by DNSFAILOVER_LOG_LEVEL (default info).
func New(w io.Writer) *slog.Logger {
	return slog.New(NewHandler(w, LevelFromEnv()))
}

// LevelFromEnv parses DNSFAILOVER_LOG_LEVEL; unknown or empty means info.
func LevelFromEnv() slog.Level {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.TrimSpace(os.Getenv(EnvLevel)))); err != nil {
		return slog.LevelInfo
	}
	return l
}

// NewHandler returns the Cloud Logging JSON handler.
func NewHandler(w io.Writer, level slog.Leveler) slog.Handler {
	inner := slog.NewJSONHandler(w, &slog.HandlerOptions{
		AddSource:   true,
		Level:       level,
		ReplaceAttr: replaceAttr,
	})
	return &handler{inner: inner}
}

// Severity maps a slog level to Cloud Logging's severity names.
func Severity(l slog.Level) string {
	switch {
	case l >= slog.LevelError:
		return "ERROR"
	case l >= slog.LevelWarn:
		return "WARNING"
	case l >= slog.LevelInfo:
		return "INFO"
	default:
		return "DEBUG"
	}
}

func replaceAttr(groups []string, a slog.Attr) slog.Attr {
	if len(groups) > 0 {
		return a
	}
	switch a.Key {
	case slog.LevelKey:
		if l, ok := a.Value.Any().(slog.Level); ok {
			return slog.String(KeySeverity, Severity(l))
		}
	case slog.MessageKey:
		a.Key = KeyMessage
	case slog.SourceKey:
		if s, ok := a.Value.Any().(*slog.Source); ok && s != nil {
			return slog.Group(KeySourceLocation,
				slog.String("file", s.File),
				slog.String("line", strconv.Itoa(s.Line)), // the API's LogEntrySourceLocation.line is int64-as-string
				slog.String("function", s.Function))
		}
	}
	return a
}

// handler copies label attributes into the labels map of each entry; the
// wrapped JSONHandler does the encoding.
type handler struct {
	inner   slog.Handler
	labels  map[string]string // from WithAttrs before any group
	grouped bool              // a group is open: attrs no longer sit at top level
}

func (h *handler) Enabled(ctx context.Context, l slog.Level) bool { return h.inner.Enabled(ctx, l) }

func (h *handler) Handle(ctx context.Context, r slog.Record) error {
	labels := maps.Clone(h.labels)
	if labels == nil {
		labels = map[string]string{}
	}
	if !h.grouped {
		r.Attrs(func(a slog.Attr) bool {
			if labelKeys[a.Key] {
				if v := a.Value.Resolve().String(); v != "" {
					labels[a.Key] = v
				}
			}
			return true
		})
	}
	if len(labels) > 0 && !h.grouped {
		r = r.Clone()
		r.AddAttrs(slog.Any(KeyLabels, labels))
	}
	return h.inner.Handle(ctx, r)
}

func (h *handler) WithAttrs(as []slog.Attr) slog.Handler {
	n := &handler{inner: h.inner.WithAttrs(as), labels: h.labels, grouped: h.grouped}
	if h.grouped {
		return n
	}
	for _, a := range as {
		if !labelKeys[a.Key] {
			continue
		}
		if v := a.Value.Resolve().String(); v != "" {
			n.labels = withLabel(n.labels, a.Key, v)
		}
	}
	return n
}

// withLabel returns a copy of m with k=v: handlers share maps, so never write in place.
func withLabel(m map[string]string, k, v string) map[string]string {
	c := make(map[string]string, len(m)+1)
	maps.Copy(c, m)
	c[k] = v
	return c
}

func (h *handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return &handler{inner: h.inner.WithGroup(name), labels: h.labels, grouped: true}
}

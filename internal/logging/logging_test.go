package logging

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
)

func decodeLines(t *testing.T, b *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("line %q is not JSON: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

func TestCloudLoggingShape(t *testing.T) {
	var b bytes.Buffer
	log := slog.New(NewHandler(&b, slog.LevelDebug))
	log.Debug("d")
	log.Info("swapped", LabelRecord, "redis.example.", LabelRequestID, "r-1", "other", 3)
	log.Warn("w")
	log.Error("e", LabelIncidentID, "0.abc")
	lines := decodeLines(t, &b)
	if len(lines) != 4 {
		t.Fatalf("got %d lines", len(lines))
	}
	for i, want := range []string{"DEBUG", "INFO", "WARNING", "ERROR"} {
		if lines[i][KeySeverity] != want {
			t.Errorf("line %d severity = %v, want %s", i, lines[i][KeySeverity], want)
		}
		if _, ok := lines[i]["level"]; ok {
			t.Errorf("line %d still has slog's level key", i)
		}
		if _, ok := lines[i]["time"].(string); !ok {
			t.Errorf("line %d has no time", i)
		}
		loc, ok := lines[i][KeySourceLocation].(map[string]any)
		if !ok || !strings.HasSuffix(loc["file"].(string), "logging_test.go") || loc["line"] == "0" || !strings.Contains(loc["function"].(string), "TestCloudLoggingShape") {
			t.Errorf("line %d source location = %v", i, lines[i][KeySourceLocation])
		}
	}
	if lines[1][KeyMessage] != "swapped" || lines[1]["msg"] != nil {
		t.Errorf("message key wrong: %v", lines[1])
	}
	labels, _ := lines[1][KeyLabels].(map[string]any)
	if labels["record"] != "redis.example." || labels["request_id"] != "r-1" || len(labels) != 2 {
		t.Errorf("labels = %v", lines[1][KeyLabels])
	}
	if lines[1]["other"] != float64(3) || lines[1]["record"] != "redis.example." {
		t.Errorf("attrs must stay in the body too: %v", lines[1])
	}
	if _, ok := lines[0][KeyLabels]; ok {
		t.Errorf("no labels expected on a line without label attrs: %v", lines[0])
	}
	if l, _ := lines[3][KeyLabels].(map[string]any); l["incident_id"] != "0.abc" {
		t.Errorf("incident label = %v", lines[3][KeyLabels])
	}
}

func TestWithAttrsLabelsDoNotLeakBetweenChildren(t *testing.T) {
	var b bytes.Buffer
	base := slog.New(NewHandler(&b, slog.LevelInfo)).With(LabelRecord, "a.")
	c1 := base.With(LabelRequestID, "one")
	c2 := base.With(LabelRequestID, "two")
	c1.Info("x")
	c2.Info("y", LabelIncidentID, "i")
	base.Info("z")
	lines := decodeLines(t, &b)
	want := []map[string]any{
		{"record": "a.", "request_id": "one"},
		{"record": "a.", "request_id": "two", "incident_id": "i"},
		{"record": "a."},
	}
	for i, w := range want {
		got, _ := lines[i][KeyLabels].(map[string]any)
		if len(got) != len(w) {
			t.Errorf("line %d labels = %v, want %v", i, got, w)
			continue
		}
		for k, v := range w {
			if got[k] != v {
				t.Errorf("line %d labels = %v, want %v", i, got, w)
			}
		}
	}
}

func TestLevelFiltering(t *testing.T) {
	t.Setenv(EnvLevel, "warn")
	var b bytes.Buffer
	log := New(&b)
	log.Info("hidden")
	log.Warn("shown")
	if strings.Contains(b.String(), "hidden") || !strings.Contains(b.String(), `"severity":"WARNING"`) {
		t.Fatalf("output = %s", b.String())
	}
	t.Setenv(EnvLevel, "nonsense")
	if LevelFromEnv() != slog.LevelInfo {
		t.Fatal("unknown level must mean info")
	}
}

func TestGroupedAttrsAreNotLabels(t *testing.T) {
	var b bytes.Buffer
	slog.New(NewHandler(&b, slog.LevelInfo)).WithGroup("g").Info("x", LabelRecord, "r.")
	lines := decodeLines(t, &b)
	if _, ok := lines[0][KeyLabels]; ok {
		t.Fatalf("a grouped attr must not become a label: %v", lines[0])
	}
	g, _ := lines[0]["g"].(map[string]any)
	if g["record"] != "r." {
		t.Fatalf("grouped attr lost: %v", lines[0])
	}
}

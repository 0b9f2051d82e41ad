package functions

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/dnsfailover/dnsfailover/internal/config"
	"github.com/dnsfailover/dnsfailover/internal/incident"
	"github.com/dnsfailover/dnsfailover/internal/syncbuf"
)

func TestBadConfigFailsEveryEventWithOneLogLine(t *testing.T) {
	logs := &syncbuf.Buffer{}
	t.Setenv(config.EnvConfigInline, `{"project":"p","records":[{"name":"r.example.","zone":"z","normalTTL":0}]}`)
	defaultApp.Store(&lazyApp{load: FromEnv, out: logs})
	t.Cleanup(func() { defaultApp.Store(&lazyApp{load: FromEnv}) })
	for i := 0; i < 3; i++ {
		if code := deliver(t, NameOnAlert, binaryCE, []byte(`{"version":"test","incident":{}}`)); code != http.StatusInternalServerError {
			t.Fatalf("HTTP %d, want 500: events must wait (--retry) until the configuration is fixed", code)
		}
		if code := deliver(t, NameOnRequest, binaryCE, []byte(`{}`)); code != http.StatusInternalServerError {
			t.Fatalf("HTTP %d, want 500", code)
		}
	}
	lines := logLines(t, logs)
	if len(lines) != 1 {
		t.Fatalf("%d log lines, want exactly one:\n%s", len(lines), logs)
	}
	msg := lines[0]["message"].(string)
	if lines[0]["severity"] != "ERROR" || !strings.Contains(msg, "not configured") || !strings.Contains(msg, "normalTTL 0 out of range") {
		t.Fatalf("log line %v", lines[0])
	}
}

func TestFromEnvErrors(t *testing.T) {
	t.Setenv(config.EnvConfigInline, "")
	t.Setenv(config.EnvConfigFile, "")
	if _, err := FromEnv(context.Background(), io.Discard); err == nil || !strings.Contains(err.Error(), config.EnvConfigFile) {
		t.Fatalf("no config: %v", err)
	}
	t.Setenv(config.EnvConfigInline, `{"project":"p","records":[{"name":"r.example.","zone":"z","normalTTL":60,"failoverTTL":30,"allow":{"cidrs":["10.0.0.0/8"]}}]}`)
	t.Setenv(incident.EnvRestoreTTLOnClose, "maybe")
	if _, err := FromEnv(context.Background(), io.Discard); err == nil || !strings.Contains(err.Error(), incident.EnvRestoreTTLOnClose) {
		t.Fatalf("bad switch: %v", err)
	}
	t.Setenv(incident.EnvRestoreTTLOnClose, "true")
	a, err := FromEnv(context.Background(), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !a.Routing.RestoreTTLOnClose || a.Reporters[NameOnAlert] == nil || a.Reporters[NameOnAlert].Publisher != nil {
		t.Fatalf("app %+v: no results topic configured, so no publisher", a)
	}
}

func TestLazyAppLoadsOnce(t *testing.T) {
	var calls atomic.Int32
	logs := &syncbuf.Buffer{}
	l := &lazyApp{out: logs, load: func(context.Context, io.Writer) (*App, error) {
		calls.Add(1)
		return nil, errors.New("boom")
	}}
	for i := 0; i < 5; i++ {
		if _, err := l.get(); err == nil || !strings.Contains(err.Error(), "boom") {
			t.Fatal(err)
		}
	}
	if calls.Load() != 1 || len(logLines(t, logs)) != 1 {
		t.Fatalf("calls %d, log lines %d", calls.Load(), len(logLines(t, logs)))
	}
}

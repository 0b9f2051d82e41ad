package dnsfailover

import (
	"bufio"
	"context"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/GoogleCloudPlatform/functions-framework-go/funcframework"

	"github.com/dnsfailover/dnsfailover/internal/syncbuf"
)

// envServe makes the test binary a function server: the root package's
// init has registered the functions and validated the configuration, as at
// a Cloud Functions cold start.
const envServe = "DNSFAILOVER_TEST_SERVE_PORT"

func TestMain(m *testing.M) {
	if port := os.Getenv(envServe); port != "" {
		if err := funcframework.StartHostPort("127.0.0.1", port); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	os.Exit(m.Run())
}

// serve starts this test binary as the function server for target.
func serve(t *testing.T, target string, env ...string) (addr string, stdout *syncbuf.Buffer) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr = l.Addr().String()
	l.Close()
	_, port, _ := net.SplitHostPort(addr)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envServe+"="+port, "FUNCTION_TARGET="+target,
		"DNSFAILOVER_CONFIG=", "DNSFAILOVER_CONFIG_JSON=", "DNSFAILOVER_METRICS=off", "DNSFAILOVER_RESULTS_TOPIC=")
	cmd.Env = append(cmd.Env, env...)
	stdout = &syncbuf.Buffer{}
	cmd.Stdout, cmd.Stderr = stdout, stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); _ = cmd.Wait() })
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return addr, stdout
		}
		if time.Now().After(deadline) {
			t.Fatalf("function server did not start: %v\n%s", err, stdout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func sendPubSub(t *testing.T, addr string, data string) int {
	t.Helper()
	body := fmt.Sprintf(`{"message":{"data":%q,"messageId":"m-1"},"subscription":"projects/p/subscriptions/s"}`,
		base64.StdEncoding.EncodeToString([]byte(data)))
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("ce-specversion", "1.0")
	req.Header.Set("ce-id", "m-1")
	req.Header.Set("ce-type", "google.cloud.pubsub.topic.v1.messagePublished")
	req.Header.Set("ce-source", "//pubsub.googleapis.com/projects/p/topics/t")
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func jsonLines(s string) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "{") {
			out = append(out, sc.Text())
		}
	}
	return out
}

const goodConfig = `{"project":"acme","records":[{"name":"redis.example.internal.","zone":"z","normalTTL":300,"failoverTTL":30,"allow":{"cidrs":["10.20.0.0/24"]}}]}`

func TestEntryPointsServedByTarget(t *testing.T) {
	for _, target := range []string{"OnAlert", "OnRequest"} {
		t.Run(target, func(t *testing.T) {
			addr, out := serve(t, target, "DNSFAILOVER_CONFIG_JSON="+goodConfig)
			// Garbage is acknowledged (200) and logged as an ERROR with the reason.
			if code := sendPubSub(t, addr, `{not json`); code != http.StatusOK {
				t.Fatalf("HTTP %d; output:\n%s", code, out)
			}
			deadline := time.Now().Add(5 * time.Second)
			for !strings.Contains(out.String(), `"severity":"ERROR"`) && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
			}
			if !strings.Contains(out.String(), `"message":"message rejected"`) || !strings.Contains(out.String(), `"function":"`+target+`"`) {
				t.Fatalf("no rejection log from %s:\n%s", target, out)
			}
		})
	}
}

func TestBadConfigIsOneLineAtColdStart(t *testing.T) {
	addr, out := serve(t, "OnAlert", "DNSFAILOVER_CONFIG_JSON={\"records\":[]}")
	// Logged at init, before any event arrives.
	lines := jsonLines(out.String())
	if len(lines) != 1 || !strings.Contains(lines[0], `"severity":"ERROR"`) || !strings.Contains(lines[0], "no records configured") {
		t.Fatalf("cold start output:\n%s", out)
	}
	if code := sendPubSub(t, addr, `{"version":"test","incident":{}}`); code != http.StatusInternalServerError {
		t.Fatalf("HTTP %d, want 500", code)
	}
	if n := len(jsonLines(out.String())); n != 1 {
		t.Fatalf("%d JSON log lines after an event, want still 1:\n%s", n, out)
	}
}

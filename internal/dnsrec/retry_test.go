package dnsrec_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"syscall"
	"testing"
	"time"

	"google.golang.org/api/googleapi"

	"github.com/dnsfailover/dnsfailover/internal/dnsrec"
)

// fast keeps retries quick so the tests exercise counts, not clocks.
var fast = dnsrec.Backoff{Base: time.Millisecond, Max: 2 * time.Millisecond, MaxAttempts: 5, PerAttempt: 10 * time.Second}

func TestBackoffSucceedsAfterTransientFailures(t *testing.T) {
	calls := 0
	n, err := fast.Do(context.Background(), func(context.Context) error {
		calls++
		if calls < 3 {
			return &googleapi.Error{Code: 503}
		}
		return nil
	})
	if err != nil || n != 3 || calls != 3 {
		t.Fatalf("Do = (%d, %v) after %d calls; want (3, nil) after 3", n, err, calls)
	}
}

func TestBackoffStopsOnPermanentError(t *testing.T) {
	perm := &googleapi.Error{Code: 412}
	calls := 0
	n, err := fast.Do(context.Background(), func(context.Context) error {
		calls++
		return fmt.Errorf("wrapped: %w", perm)
	})
	if n != 1 || calls != 1 {
		t.Fatalf("permanent error retried: %d attempts, %d calls", n, calls)
	}
	if !errors.Is(err, perm) {
		t.Fatalf("Do lost the error: %v", err)
	}
}

func TestBackoffRespectsMaxAttempts(t *testing.T) {
	calls := 0
	b := fast
	b.MaxAttempts = 4
	n, err := b.Do(context.Background(), func(context.Context) error {
		calls++
		return &googleapi.Error{Code: 429}
	})
	if n != 4 || calls != 4 {
		t.Fatalf("attempts = %d, calls = %d, want 4", n, calls)
	}
	var ge *googleapi.Error
	if !errors.As(err, &ge) || ge.Code != 429 {
		t.Fatalf("Do returned %v, want the last 429", err)
	}
}

// The backoff doubles from Base: with many attempts the shift overflows and
// must fall back to Max instead of panicking in rand.
func TestBackoffManyAttemptsCapAtMax(t *testing.T) {
	b := dnsrec.Backoff{Base: time.Millisecond, Max: time.Millisecond, MaxAttempts: 80}
	calls := 0
	n, _ := b.Do(context.Background(), func(context.Context) error {
		calls++
		return &googleapi.Error{Code: 500}
	})
	if n != 80 || calls != 80 {
		t.Fatalf("attempts = %d, calls = %d, want 80", n, calls)
	}
}

// Full jitter: every wait is at most the current ceiling (Base<<n capped at
// Max). Slack is generous because the machine is shared.
func TestBackoffJitterBounds(t *testing.T) {
	const ceiling = 20 * time.Millisecond
	const slack = 2 * time.Second
	b := dnsrec.Backoff{Base: ceiling, Max: ceiling, MaxAttempts: 6}
	var stamps []time.Time
	_, _ = b.Do(context.Background(), func(context.Context) error {
		stamps = append(stamps, time.Now())
		return &googleapi.Error{Code: 503}
	})
	if len(stamps) != 6 {
		t.Fatalf("got %d attempts, want 6", len(stamps))
	}
	for i := 1; i < len(stamps); i++ {
		if gap := stamps[i].Sub(stamps[i-1]); gap < 0 || gap > ceiling+slack {
			t.Errorf("wait %d was %v, want within [0, %v] (+slack)", i, gap, ceiling)
		}
	}
}

// A wait that would end after the caller's deadline is not started: Do
// returns the last error at once instead of sleeping into the deadline.
func TestBackoffNeverSleepsPastDeadline(t *testing.T) {
	b := dnsrec.Backoff{Base: time.Hour, Max: time.Hour, MaxAttempts: 5}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	start := time.Now()
	calls := 0
	n, err := b.Do(ctx, func(context.Context) error {
		calls++
		return &googleapi.Error{Code: 503}
	})
	// rand picks a wait in [1ns, 1h]; below 3s only with probability ~1e-3,
	// and then the next wait is again drawn. Either way Do ends well before 1h.
	if time.Since(start) > 30*time.Second {
		t.Fatalf("Do slept %v past a 3s deadline", time.Since(start))
	}
	var ge *googleapi.Error
	if !errors.As(err, &ge) || ge.Code != 503 {
		t.Fatalf("Do returned %v, want the last 503", err)
	}
	if n != calls || n < 1 {
		t.Fatalf("attempts = %d, calls = %d", n, calls)
	}
}

func TestBackoffCanceledContextStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	n, err := fast.Do(ctx, func(context.Context) error {
		calls++
		cancel()
		return &googleapi.Error{Code: 503}
	})
	if n != 1 || calls != 1 {
		t.Fatalf("retried after cancel: %d attempts", n)
	}
	if err == nil {
		t.Fatal("Do returned nil after the caller canceled")
	}
}

// Success reported after the caller's context ended is not trusted as success.
func TestBackoffSuccessAfterCallerDeadlineReportsCtxErr(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	_, err := fast.Do(ctx, func(context.Context) error {
		cancel()
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Do = %v, want context.Canceled", err)
	}
}

// PerAttempt bounds one call, and a call that timed out alone is retried.
func TestBackoffPerAttemptTimeoutIsRetried(t *testing.T) {
	b := dnsrec.Backoff{Base: time.Millisecond, Max: time.Millisecond, MaxAttempts: 3, PerAttempt: 10 * time.Millisecond}
	calls := 0
	n, err := b.Do(context.Background(), func(ctx context.Context) error {
		calls++
		if calls == 1 {
			<-ctx.Done() // hangs until the per-attempt timeout
			return ctx.Err()
		}
		return nil
	})
	if err != nil || n != 2 {
		t.Fatalf("Do = (%d, %v), want (2, nil)", n, err)
	}
}

func TestTransient(t *testing.T) {
	opErr := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	cases := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"429", &googleapi.Error{Code: 429}, true},
		{"500", &googleapi.Error{Code: 500}, true},
		{"502", &googleapi.Error{Code: 502}, true},
		{"503 wrapped", fmt.Errorf("get: %w", &googleapi.Error{Code: 503}), true},
		{"400", &googleapi.Error{Code: 400}, false},
		{"403", &googleapi.Error{Code: 403}, false},
		{"404", &googleapi.Error{Code: 404}, false},
		{"409", &googleapi.Error{Code: 409}, false},
		{"412", &googleapi.Error{Code: 412}, false},
		{"net.OpError", opErr, true},
		{"url.Error EOF", &url.Error{Op: "Post", URL: "http://127.0.0.1/x", Err: io.EOF}, true},
		{"deadline", context.DeadlineExceeded, true},
		{"canceled", context.Canceled, false},
		{"canceled inside url.Error", &url.Error{Op: "Post", URL: "http://127.0.0.1/x", Err: context.Canceled}, false},
		{"plain", errors.New("boom"), false},
		{"sentinel conflict", dnsrec.ErrConflict, false},
	}
	for _, c := range cases {
		if got := dnsrec.Transient(c.err); got != c.want {
			t.Errorf("Transient(%s: %v) = %v, want %v", c.name, c.err, got, c.want)
		}
	}
}

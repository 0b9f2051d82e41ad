package dnsrec

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"net/url"
	"time"

	"google.golang.org/api/googleapi"
)

// Backoff retries transient failures with exponential backoff and full
// jitter, always inside the caller's deadline.
type Backoff struct {
	Base        time.Duration // first delay ceiling; default 100ms
	Max         time.Duration // delay cap; default 5s
	MaxAttempts int           // default 8
	PerAttempt  time.Duration // timeout of one call; default 20s
}

func (b Backoff) withDefaults() Backoff {
	if b.Base <= 0 {
		b.Base = 100 * time.Millisecond
	}
	if b.Max <= 0 {
		b.Max = 5 * time.Second
	}
	if b.MaxAttempts <= 0 {
		b.MaxAttempts = 8
	}
	if b.PerAttempt <= 0 {
		b.PerAttempt = 20 * time.Second
	}
	return b
}

// Do calls f until it succeeds, fails permanently, attempts run out, or the
// next wait would pass ctx's deadline. It returns the last error and the
// number of attempts made.
func (b Backoff) Do(ctx context.Context, f func(ctx context.Context) error) (int, error) {
	b = b.withDefaults()
	var err error
	for attempt := 1; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, b.PerAttempt)
		err = f(actx)
		cancel()
		if err == nil || !Transient(err) || ctx.Err() != nil || attempt >= b.MaxAttempts {
			if ctx.Err() != nil && err == nil {
				err = ctx.Err()
			}
			return attempt, err
		}
		ceil := b.Base << (attempt - 1)
		if ceil > b.Max || ceil <= 0 {
			ceil = b.Max
		}
		wait := time.Duration(rand.Int64N(int64(ceil)) + 1)
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			return attempt, err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return attempt, err
		case <-t.C:
		}
	}
}

// Transient reports whether err is worth retrying: rate limits, server
// errors, timeouts and broken connections. A canceled caller is not.
func Transient(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	var ge *googleapi.Error
	if errors.As(err, &ge) {
		return ge.Code == 429 || ge.Code >= 500
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return true // connection reset, EOF mid-response, refused
	}
	return false
}

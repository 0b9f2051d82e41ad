package dnsrec

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// Decide looks at the live record sets (nil where a key does not exist) and
// returns the change to make. An empty change means nothing to do. An error
// stops the swap.
type Decide func(live map[Key]*RecordSet) (Change, error)

// SwapResult tells what CompareAndSwap did.
type SwapResult struct {
	Applied   Change             // the change that was applied (empty if none)
	Live      map[Key]*RecordSet // the record sets the winning decision saw
	Attempts  int                // decisions made
	Conflicts int                // 412/409 answers that forced a re-read
}

// DefaultSwapAttempts bounds re-reads after conflicts.
const DefaultSwapAttempts = 10

// CompareAndSwap reads keys, asks decide for a change and applies it
// atomically. When the zone changed in between (412 on a stale deletion, or
// 409 on an addition) it re-reads and re-decides, up to attempts times.
// Deletions must be the exact live record sets: decide receives them.
func CompareAndSwap(ctx context.Context, p Provider, keys []Key, decide Decide, attempts int) (SwapResult, error) {
	return CompareAndSwapFrom(ctx, p, keys, nil, decide, attempts)
}

// CompareAndSwapFrom is CompareAndSwap whose first decision uses known, the
// record sets the caller has just read (nil entries for missing ones), saving
// a read. If they are stale the change fails its precondition and the loop
// re-reads, so correctness does not depend on how fresh they are.
func CompareAndSwapFrom(ctx context.Context, p Provider, keys []Key, known map[Key]*RecordSet, decide Decide, attempts int) (SwapResult, error) {
	if attempts <= 0 {
		attempts = DefaultSwapAttempts
	}
	var res SwapResult
	for res.Attempts < attempts {
		res.Attempts++
		live := known
		known = nil
		if live == nil {
			var err error
			if live, err = readAll(ctx, p, keys); err != nil {
				return res, err
			}
		}
		res.Live = live
		ch, err := decide(live)
		if err != nil {
			return res, err
		}
		if ch.Empty() {
			return res, nil
		}
		err = p.Apply(ctx, ch)
		if err == nil {
			res.Applied = ch
			return res, nil
		}
		if !errors.Is(err, ErrConflict) && !errors.Is(err, ErrExists) {
			return res, err
		}
		res.Conflicts++
		// A short random pause spreads contending writers apart.
		pause := time.Duration(rand.Int64N(int64(res.Conflicts)*int64(5*time.Millisecond)) + 1)
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return res, fmt.Errorf("compare-and-swap: %w (after %d conflicts)", ctx.Err(), res.Conflicts)
		case <-t.C:
		}
	}
	return res, fmt.Errorf("compare-and-swap: %w: gave up after %d attempts", ErrConflict, res.Attempts)
}

// readAll reads every key; a missing record set is a nil entry.
func readAll(ctx context.Context, p Provider, keys []Key) (map[Key]*RecordSet, error) {
	live := make(map[Key]*RecordSet, len(keys))
	for _, k := range keys {
		rs, err := p.Get(ctx, k)
		switch {
		case errors.Is(err, ErrNotFound):
			live[k] = nil
		case err != nil:
			return nil, fmt.Errorf("read %s %s: %w", k.Name, k.Type, err)
		default:
			live[k] = rs
		}
	}
	return live, nil
}

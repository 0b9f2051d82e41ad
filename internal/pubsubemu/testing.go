package pubsubemu

import (
	"context"
	"errors"
	"os"
	"testing"
)

// Start runs the emulator for the test and returns its host:port; it is
// stopped (whole process group) when the test ends. Without gcloud, java or
// the emulator the test fails when CI=true and is skipped otherwise.
func Start(t testing.TB) string {
	t.Helper()
	e, err := StartProcess(context.Background())
	if errors.Is(err, ErrNotInstalled) {
		if os.Getenv("CI") == "true" {
			t.Fatalf("pubsubemu: %v", err)
		}
		t.Skipf("pubsubemu: %v", err)
	}
	if err != nil {
		t.Fatalf("pubsubemu: %v", err)
	}
	t.Cleanup(func() {
		if err := e.Stop(); err != nil {
			t.Errorf("pubsubemu: %v", err)
		}
	})
	return e.HostPort
}

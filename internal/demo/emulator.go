package demo

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// haveEmulator reports whether Google's Pub/Sub emulator is installed (the
// Debian package google-cloud-cli-pubsub-emulator, which needs Java).
func haveEmulator() bool {
	if _, err := exec.LookPath("gcloud"); err != nil {
		return false
	}
	if _, err := exec.LookPath("java"); err != nil {
		return false
	}
	root, err := exec.Command("gcloud", "info", "--format=value(installation.sdk_root)").Output()
	if err != nil {
		return false
	}
	matches, _ := filepath.Glob(filepath.Join(string(trimNL(root)), "platform", "pubsub-emulator", "bin", "cloud-pubsub-emulator"))
	return len(matches) == 1
}

func trimNL(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

// startEmulator runs `gcloud beta emulators pubsub start` on a free loopback
// port in its own process group, waits until it accepts connections, and
// returns a stop func that ends the whole group (gcloud starts Java).
func startEmulator(ctx context.Context, w *world) (string, func() error, error) {
	port, err := freePort()
	if err != nil {
		return "", nil, err
	}
	host := "127.0.0.1:" + strconv.Itoa(port)
	data := filepath.Join(w.dir, "pubsub")
	if err := os.MkdirAll(data, 0o755); err != nil { // gcloud will not create it
		return "", nil, fmt.Errorf("pubsub data dir: %w", err)
	}
	cmd := exec.Command("gcloud", "beta", "emulators", "pubsub", "start",
		"--host-port="+host, "--data-dir="+data, "--project="+project, "--quiet")
	cmd.Env = append(cmd.Environ(), "CLOUDSDK_CONFIG="+filepath.Join(w.dir, "gcloud"),
		"CLOUDSDK_CORE_DISABLE_USAGE_REPORTING=true", "CLOUDSDK_COMPONENT_MANAGER_DISABLE_UPDATE_CHECK=true")
	cmd.Stdout, cmd.Stderr = w.o.Log, w.o.Log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return "", nil, fmt.Errorf("start pubsub emulator: %w", err)
	}
	stop := func() error { return stopGroup(cmd) }
	if err := waitTCP(ctx, host, 90*time.Second); err != nil {
		_ = stop()
		return "", nil, fmt.Errorf("pubsub emulator: %w", err)
	}
	return host, stop, nil
}

package demo

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/dnsfailover/dnsfailover/internal/clouddnsemu"
	"github.com/dnsfailover/dnsfailover/internal/health/redistest"
)

// gcloud runs the real Google Cloud CLI against the local emulators. Each
// command is printed exactly as an operator would type it.
func (w *world) gcloud(ctx context.Context, args ...string) (string, error) {
	env := append(os.Environ(),
		"CLOUDSDK_CONFIG="+filepath.Join(w.dir, "gcloud"),
		"CLOUDSDK_AUTH_DISABLE_CREDENTIALS=true",
		"CLOUDSDK_CORE_PROJECT="+project,
		"CLOUDSDK_CORE_DISABLE_PROMPTS=1",
		"CLOUDSDK_CORE_DISABLE_USAGE_REPORTING=true",
		"CLOUDSDK_COMPONENT_MANAGER_DISABLE_UPDATE_CHECK=true",
		"CLOUDSDK_CORE_CHECK_GCE_METADATA=false",
		"CLOUDSDK_SURVEY_DISABLE_PROMPTS=true",
		"CLOUDSDK_API_ENDPOINT_OVERRIDES_DNS="+w.emu.URL(),
	)
	if w.ps != nil && w.ps.emulator {
		env = append(env, "CLOUDSDK_API_ENDPOINT_OVERRIDES_PUBSUB=http://"+w.ps.host+"/")
	}
	w.say("  $ gcloud %s", quoteArgs(args))
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "gcloud", args...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("gcloud %s: %w: %s", args[0], err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

func haveGcloud() bool {
	_, err := exec.LookPath("gcloud")
	return err == nil
}

func quoteArgs(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if strings.ContainsAny(a, ` "{}'`) {
			a = "'" + a + "'"
		}
		q[i] = a
	}
	return strings.Join(q, " ")
}

// bootstrapZone does the ADR's set-up: a private zone and the A record with
// the normal TTL, with the real gcloud commands when gcloud is installed.
func (w *world) bootstrapZone(ctx context.Context) error {
	if !haveGcloud() {
		w.say("gcloud not installed: creating the zone through the API instead")
		if err := w.emu.CreateZone(project, zoneName, zoneDNS, true); err != nil {
			return fmt.Errorf("create zone: %w", err)
		}
		return w.emu.AddRecordSets(project, zoneName, clouddnsemu.RecordSet{Name: record, Type: "A", TTL: normalTTL, Rrdatas: []string{hostA}})
	}
	w.say("bootstrap the private zone with the ADR's own commands:")
	if _, err := w.gcloud(ctx, "dns", "managed-zones", "create", zoneName, "--dns-name="+zoneDNS,
		"--description=dnsfailover demo", "--visibility=private", "--networks=default"); err != nil {
		return err
	}
	_, err := w.gcloud(ctx, "dns", "record-sets", "create", record, "--zone="+zoneName, "--type=A",
		fmt.Sprintf("--ttl=%d", normalTTL), "--rrdatas="+hostA)
	return err
}

// ensureRedis installs Debian's redis-server when it is missing and we may.
func ensureRedis(w *world) error {
	if _, err := redistest.FindBinary(); err == nil {
		return nil
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("redis-server is not installed: run `sudo apt-get install -y redis-server` (or scripts/dev-setup.sh)")
	}
	w.say("redis-server missing: apt-get install -y redis-server")
	for _, args := range [][]string{{"update", "-qq"}, {"install", "-y", "-qq", "redis-server"}} {
		cmd := exec.Command("apt-get", args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		cmd.Stdout, cmd.Stderr = w.o.Log, w.o.Log
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("apt-get %s: %w", args[0], err)
		}
	}
	_, err := redistest.FindBinary()
	return err
}

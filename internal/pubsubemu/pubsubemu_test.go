package pubsubemu

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
)

func startOrSkip(t *testing.T) *Emulator {
	t.Helper()
	e, err := StartProcess(context.Background())
	if errors.Is(err, ErrNotInstalled) && os.Getenv("CI") != "true" {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Stop() })
	return e
}

// One emulator, used through the Go client library and through the real
// gcloud CLI, then stopped with nothing left running.
func TestEmulatorRoundTripAndCleanStop(t *testing.T) {
	e := startOrSkip(t)
	t.Setenv("PUBSUB_EMULATOR_HOST", e.HostPort)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c, err := pubsub.NewClient(ctx, "demo")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.TopicAdminClient.CreateTopic(ctx, &pubsubpb.Topic{Name: "projects/demo/topics/requests"}); err != nil {
		t.Fatalf("create topic: %v\n%s", err, e.Output())
	}
	if _, err := c.SubscriptionAdminClient.CreateSubscription(ctx, &pubsubpb.Subscription{
		Name: "projects/demo/subscriptions/requests-sub", Topic: "projects/demo/topics/requests"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Publisher("requests").Publish(ctx, &pubsub.Message{Data: []byte("from-go")}).Get(ctx); err != nil {
		t.Fatal(err)
	}
	// The documented one-liner, pointed at the emulator.
	cmd := exec.CommandContext(ctx, "gcloud", "pubsub", "topics", "publish", "requests", "--project=demo", `--message={"k":"from-gcloud"}`)
	cmd.Env = append(os.Environ(), e.Env()...)
	cmd.Env = append(cmd.Env, "CLOUDSDK_CONFIG="+t.TempDir(), "CLOUDSDK_CORE_DISABLE_PROMPTS=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gcloud pubsub topics publish: %v\n%s", err, out)
	}
	var mu sync.Mutex
	got := map[string]bool{}
	rctx, rcancel := context.WithTimeout(ctx, 30*time.Second)
	defer rcancel()
	err = c.Subscriber("requests-sub").Receive(rctx, func(_ context.Context, m *pubsub.Message) {
		m.Ack()
		mu.Lock()
		defer mu.Unlock()
		got[string(m.Data)] = true
		if len(got) == 2 {
			rcancel()
		}
	})
	if err != nil && !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	if !got["from-go"] || !got[`{"k":"from-gcloud"}`] {
		t.Fatalf("received %v", got)
	}

	pgid := e.Pgid()
	if !groupAlive(pgid) {
		t.Fatal("emulator group not running before Stop")
	}
	if err := e.Stop(); err != nil {
		t.Fatal(err)
	}
	if groupAlive(pgid) {
		t.Fatalf("process group %d survived Stop", pgid)
	}
	if _, err := os.Stat(e.tmp); !os.IsNotExist(err) {
		t.Fatalf("temporary directory left behind: %v", err)
	}
	if strings.Contains(e.Output(), "Exception") && !strings.Contains(e.Output(), "Server started") {
		t.Fatalf("emulator output:\n%s", e.Output())
	}
}

func TestStartHelper(t *testing.T) {
	hp := Start(t)
	if !strings.HasPrefix(hp, "127.0.0.1:") {
		t.Fatalf("host:port %q is not loopback", hp)
	}
}

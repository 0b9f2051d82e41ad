package functions

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"

	"github.com/dnsfailover/dnsfailover/internal/failover"
	"github.com/dnsfailover/dnsfailover/internal/pubsubemu"
	"github.com/dnsfailover/dnsfailover/internal/report"
)

// The result event reaches a subscriber through Google's own Pub/Sub
// emulator, with the function configured only by PUBSUB_EMULATOR_HOST.
func TestResultThroughPubSubEmulator(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the Pub/Sub emulator (java)")
	}
	w := newWorld(t)
	host := pubsubemu.Start(t)
	t.Setenv("PUBSUB_EMULATOR_HOST", host)
	w.install(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c, err := pubsub.NewClient(ctx, project)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.TopicAdminClient.CreateTopic(ctx, &pubsubpb.Topic{Name: "projects/" + project + "/topics/results"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SubscriptionAdminClient.CreateSubscription(ctx, &pubsubpb.Subscription{
		Name: "projects/" + project + "/subscriptions/audit", Topic: "projects/" + project + "/topics/results"}); err != nil {
		t.Fatal(err)
	}
	body := `{"record":"` + recordFQD + `","target":"` + instB + `","mode":"emergency","reason":"via emulator","request_id":"emu-1"}`
	if code := deliver(t, NameOnRequest, binaryCE, []byte(body)); code != http.StatusOK {
		t.Fatalf("HTTP %d; logs:\n%s", code, w.logs)
	}
	var got *failover.Result
	var attrs map[string]string
	rctx, rcancel := context.WithTimeout(ctx, 30*time.Second)
	defer rcancel()
	err = c.Subscriber("audit").Receive(rctx, func(_ context.Context, m *pubsub.Message) {
		m.Ack()
		if _, res, err := report.DecodeResult(m.Data); err == nil && res.RequestID == "emu-1" {
			got, attrs = res, m.Attributes
			rcancel()
		}
	})
	if err != nil && !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	if got == nil || got.Outcome != failover.OutcomeSwapped || attrs[report.AttrOutcome] != "swapped" || attrs[report.AttrRequestID] != "emu-1" {
		t.Fatalf("result %+v attributes %v; logs:\n%s", got, attrs, w.logs)
	}
}

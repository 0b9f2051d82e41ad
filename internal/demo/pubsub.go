package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"sync"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"cloud.google.com/go/pubsub/v2/pstest"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/dnsfailover/dnsfailover/internal/eventarc"
	"github.com/dnsfailover/dnsfailover/internal/failover"
	"github.com/dnsfailover/dnsfailover/internal/pubsubemu"
	"github.com/dnsfailover/dnsfailover/internal/report"
)

// pubsubWorld is the Pub/Sub side: topics, the subscriptions that trigger
// the functions, and a pull subscription on the results topic.
type pubsubWorld struct {
	host      string // host:port of the emulator or pstest
	emulator  bool   // Google's emulator (push subscriptions, gcloud works)
	client    *pubsub.Client
	bridgeURL string

	mu      sync.Mutex
	results []received
	notify  chan struct{}
}

// received is one result event as it arrived on the results topic.
type received struct {
	res *failover.Result
	at  time.Time // publish time on the results topic
}

func startPubSub(ctx context.Context, w *world) (*pubsubWorld, error) {
	ps := &pubsubWorld{notify: make(chan struct{}, 1)}
	choice := w.o.PubSub
	if choice == "" || choice == "auto" {
		choice = "pstest"
		if pubsubemu.Available() == nil {
			choice = "emulator"
		}
	}
	switch choice {
	case "emulator":
		emu, err := pubsubemu.StartProcess(ctx)
		if err != nil {
			return nil, fmt.Errorf("pubsub emulator: %w", err)
		}
		w.onClose(emu.Stop)
		host := emu.HostPort
		ps.host, ps.emulator = host, true
		w.say("pub/sub       Google's Pub/Sub emulator at %s (push subscriptions, as Eventarc)", host)
	case "pstest":
		srv := pstest.NewServer()
		w.onClose(srv.Close)
		ps.host = srv.Addr
		w.say("pub/sub       the Pub/Sub emulator is not installed (Debian google-cloud-cli-pubsub-emulator): using pstest at %s,", srv.Addr)
		w.say("              delivering by pull, and publishing with the Go client instead of gcloud")
	default:
		return nil, fmt.Errorf("unknown pubsub backend %q (auto, emulator, pstest)", choice)
	}
	c, err := pubsub.NewClient(context.WithoutCancel(ctx), project, option.WithEndpoint(ps.host), option.WithoutAuthentication(),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())))
	if err != nil {
		return nil, fmt.Errorf("pubsub client: %w", err)
	}
	w.onClose(c.Close)
	ps.client = c
	return ps, nil
}

func topicName(id string) string { return "projects/" + project + "/topics/" + id }
func subName(id string) string   { return "projects/" + project + "/subscriptions/" + id }

// wire creates the topics and the subscriptions: push (or a pull loop that
// pushes) from the alert and request topics to the functions, and a pull
// subscription on the results topic that the demo reads.
func (ps *pubsubWorld) wire(ctx context.Context, w *world) error {
	for _, t := range []string{alerts, requests, results} {
		if _, err := ps.client.TopicAdminClient.CreateTopic(ctx, &pubsubpb.Topic{Name: topicName(t)}); err != nil {
			return fmt.Errorf("create topic %s: %w", t, err)
		}
	}
	bridge := &eventarc.Bridge{FunctionURL: w.fnURL}
	for _, trig := range []struct{ topic, function string }{{alerts, "OnAlert"}, {requests, "OnRequest"}} {
		sub := &pubsubpb.Subscription{Name: subName("trigger-" + trig.topic), Topic: topicName(trig.topic), AckDeadlineSeconds: 60}
		if ps.emulator {
			sub.PushConfig = &pubsubpb.PushConfig{PushEndpoint: ps.bridgeURL + "/" + trig.function + "?topic=" + url.QueryEscape(topicName(trig.topic))}
		}
		if _, err := ps.client.SubscriptionAdminClient.CreateSubscription(ctx, sub); err != nil {
			return fmt.Errorf("create subscription for %s: %w", trig.function, err)
		}
		if !ps.emulator {
			go ps.forward(ctx, bridge, sub.Name, trig.topic, trig.function)
		}
		w.say("trigger       %s -> %s", topicName(trig.topic), trig.function)
	}
	if _, err := ps.client.SubscriptionAdminClient.CreateSubscription(ctx, &pubsubpb.Subscription{Name: subName("demo-results"), Topic: topicName(results), AckDeadlineSeconds: 30}); err != nil {
		return fmt.Errorf("create results subscription: %w", err)
	}
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	w.onClose(func() error { cancel(); return nil })
	go func() {
		_ = ps.client.Subscriber(subName("demo-results")).Receive(rctx, func(_ context.Context, m *pubsub.Message) {
			m.Ack()
			_, res, err := report.DecodeResult(m.Data)
			if err != nil {
				w.say("  (undecodable result: %v)", err)
				return
			}
			ps.mu.Lock()
			ps.results = append(ps.results, received{res: res, at: m.PublishTime})
			ps.mu.Unlock()
			select {
			case ps.notify <- struct{}{}:
			default:
			}
		})
	}()
	return nil
}

// forward plays Eventarc for pstest, which cannot push: pull, deliver as a
// CloudEvent, ack on success and nack on failure (a redelivery, as --retry).
func (ps *pubsubWorld) forward(ctx context.Context, b *eventarc.Bridge, sub, topic, function string) {
	_ = ps.client.Subscriber(sub).Receive(ctx, func(ctx context.Context, m *pubsub.Message) {
		status, err := b.Deliver(ctx, function, topicName(topic), sub, eventarc.Message{
			Data: m.Data, Attributes: m.Attributes, MessageID: m.ID, PublishTime: m.PublishTime,
		})
		if err != nil || status/100 != 2 {
			m.Nack()
			return
		}
		m.Ack()
	})
}

// publish sends data to a topic with the Go client and returns its id.
func (ps *pubsubWorld) publish(ctx context.Context, topic string, data []byte) (string, error) {
	p := ps.client.Publisher(topic)
	defer p.Stop()
	id, err := p.Publish(ctx, &pubsub.Message{Data: data}).Get(ctx)
	if err != nil {
		return "", fmt.Errorf("publish to %s: %w", topic, err)
	}
	return id, nil
}

// await returns the first result whose request id satisfies match.
func (ps *pubsubWorld) await(ctx context.Context, limit time.Duration, match func(*failover.Result) bool) (received, error) {
	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	for {
		ps.mu.Lock()
		for i, r := range ps.results {
			if match(r.res) {
				ps.results = append(ps.results[:i], ps.results[i+1:]...)
				ps.mu.Unlock()
				return r, nil
			}
		}
		ps.mu.Unlock()
		select {
		case <-ps.notify:
		case <-time.After(200 * time.Millisecond):
		case <-deadline.C:
			return received{}, fmt.Errorf("no result within %s", limit)
		case <-ctx.Done():
			return received{}, ctx.Err()
		}
	}
}

func byRequestID(id string) func(*failover.Result) bool {
	return func(r *failover.Result) bool { return r.RequestID == id }
}

func jsonBytes(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only fixed, marshalable demo values pass through here
	}
	return b
}

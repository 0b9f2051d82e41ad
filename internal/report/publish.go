package report

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"cloud.google.com/go/pubsub/v2"
	"google.golang.org/api/option"

	"github.com/dnsfailover/dnsfailover/internal/failover"
)

// Publisher sends a result somewhere.
type Publisher interface {
	Publish(ctx context.Context, res *failover.Result) error
}

// PubSub publishes result events to a topic. The client is created on the
// first publish, so a cold start does not pay for it. PUBSUB_EMULATOR_HOST
// is honoured by the client library.
type PubSub struct {
	project, topic, function string
	opts                     []option.ClientOption

	mu     sync.Mutex
	client *pubsub.Client
	pub    *pubsub.Publisher
}

// NewPubSub returns a publisher for topic (an id, or projects/P/topics/T)
// in project; function names the event source.
func NewPubSub(project, topic, function string, opts ...option.ClientOption) *PubSub {
	return &PubSub{project: project, topic: topic, function: function, opts: opts}
}

func (p *PubSub) publisher(ctx context.Context) (*pubsub.Publisher, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.pub != nil {
		return p.pub, nil
	}
	// The client outlives this call: its dial must not die with ctx.
	c, err := pubsub.NewClient(context.WithoutCancel(ctx), p.project, p.opts...)
	if err != nil {
		return nil, fmt.Errorf("pubsub client for project %s: %w", p.project, err)
	}
	p.client, p.pub = c, c.Publisher(p.topic)
	p.pub.PublishSettings.CountThreshold = 1 // one result at a time: do not wait to batch
	return p.pub, nil
}

// Publish sends one result event and waits for the server's ack.
func (p *PubSub) Publish(ctx context.Context, res *failover.Result) error {
	e, err := NewEvent(p.function, res)
	if err != nil {
		return err
	}
	data, attrs, err := Encode(e, res)
	if err != nil {
		return err
	}
	pub, err := p.publisher(ctx)
	if err != nil {
		return err
	}
	if _, err := pub.Publish(ctx, &pubsub.Message{Data: data, Attributes: attrs}).Get(ctx); err != nil {
		return fmt.Errorf("publish result to %s: %w", p.topic, err)
	}
	return nil
}

// Close stops the publisher and closes the client.
func (p *PubSub) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.pub == nil {
		return nil
	}
	p.pub.Stop()
	err := p.client.Close()
	p.pub, p.client = nil, nil
	if err != nil {
		return errors.Join(errors.New("close pubsub client"), err)
	}
	return nil
}

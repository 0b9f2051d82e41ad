package prober

import (
	"context"
	"encoding/json"
	"fmt"

	"cloud.google.com/go/pubsub/v2"

	"github.com/dnsfailover/dnsfailover/internal/request"
)

// Publisher sends a manual request to the requests topic, the only way the
// prober acts: the failover function stays the only writer of the record.
type Publisher interface {
	Publish(ctx context.Context, m request.Manual) (messageID string, err error)
}

// PubSubPublisher publishes to a topic with the Pub/Sub client (which honours
// PUBSUB_EMULATOR_HOST).
type PubSubPublisher struct {
	Client *pubsub.Client
	Topic  string
}

// Publish validates m with the same rules as the request function, then
// publishes it and waits for the server's message id.
func (p *PubSubPublisher) Publish(ctx context.Context, m request.Manual) (string, error) {
	data, err := EncodeRequest(m)
	if err != nil {
		return "", err
	}
	id, err := p.Client.Publisher(p.Topic).Publish(ctx, &pubsub.Message{
		Data:       data,
		Attributes: map[string]string{"source": "dnsfailover-prober"},
	}).Get(ctx)
	if err != nil {
		return "", fmt.Errorf("publish request %s to %s: %w", m.RequestID, p.Topic, err)
	}
	return id, nil
}

// EncodeRequest validates and encodes a request exactly as request.Decode
// expects it.
func EncodeRequest(m request.Manual) ([]byte, error) {
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("prober built a bad request: %w", err)
	}
	data, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode request: %w", err)
	}
	return data, nil
}

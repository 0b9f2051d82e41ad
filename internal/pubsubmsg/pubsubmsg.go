// Package pubsubmsg decodes the CloudEvent that carries a Pub/Sub message
// (google.cloud.pubsub.topic.v1.messagePublished) into the message.
package pubsubmsg

import (
	"errors"
	"fmt"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
)

// EventType is the CloudEvent type Eventarc uses for Pub/Sub messages.
const EventType = "google.cloud.pubsub.topic.v1.messagePublished"

// Message is one Pub/Sub message as the function sees it.
type Message struct {
	Data        []byte
	Attributes  map[string]string
	MessageID   string
	PublishTime time.Time // zero when the envelope had none
	OrderingKey string
	// Subscription is the full subscription name that delivered it, if given.
	Subscription string
}

// ErrWrongType is wrapped when the event is not a Pub/Sub messagePublished event.
var ErrWrongType = errors.New("not a Pub/Sub messagePublished event")

// envelope is MessagePublishedData; []byte fields decode base64.
type envelope struct {
	Message *struct {
		Data          []byte            `json:"data"`
		Attributes    map[string]string `json:"attributes"`
		MessageID     string            `json:"messageId"`
		MessageIDAlt  string            `json:"message_id"`
		PublishTime   string            `json:"publishTime"`
		PublishTimeAl string            `json:"publish_time"`
		OrderingKey   string            `json:"orderingKey"`
	} `json:"message"`
	Subscription string `json:"subscription"`
}

// Decode extracts the Pub/Sub message from e. The message id falls back to the
// event id, which Eventarc sets to the message id.
func Decode(e event.Event) (*Message, error) {
	if e.Type() != EventType {
		return nil, fmt.Errorf("pubsub event %q: type %q: %w", e.ID(), e.Type(), ErrWrongType)
	}
	if len(e.Data()) == 0 {
		return nil, fmt.Errorf("pubsub event %q: empty data, want {\"message\":{...}}", e.ID())
	}
	var env envelope
	if err := e.DataAs(&env); err != nil {
		return nil, fmt.Errorf("pubsub event %q: data is not a Pub/Sub envelope: %w", e.ID(), err)
	}
	if env.Message == nil {
		return nil, fmt.Errorf("pubsub event %q: data has no \"message\" object", e.ID())
	}
	m := &Message{
		Data:         env.Message.Data,
		Attributes:   env.Message.Attributes,
		MessageID:    firstNonEmpty(env.Message.MessageID, env.Message.MessageIDAlt, e.ID()),
		OrderingKey:  env.Message.OrderingKey,
		Subscription: env.Subscription,
	}
	if m.Attributes == nil {
		m.Attributes = map[string]string{}
	}
	if ts := firstNonEmpty(env.Message.PublishTime, env.Message.PublishTimeAl); ts != "" {
		t, err := time.Parse(time.RFC3339Nano, ts)
		if err != nil {
			return nil, fmt.Errorf("pubsub event %q: publishTime %q: %w", e.ID(), ts, err)
		}
		m.PublishTime = t
	} else if !e.Time().IsZero() {
		m.PublishTime = e.Time()
	}
	return m, nil
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

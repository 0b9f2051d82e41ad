// Package eventarc delivers Pub/Sub messages to a CloudEvent function the
// way Eventarc does in Google Cloud: as a binary-mode CloudEvent of type
// google.cloud.pubsub.topic.v1.messagePublished whose data is the push
// envelope. Locally, the Pub/Sub emulator's push subscriptions post plain
// push envelopes, so Bridge translates them; Deliver does the same for a
// message pulled by hand (the pstest fallback).
package eventarc

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// EventType is the CloudEvent type Eventarc uses for Pub/Sub.
const EventType = "google.cloud.pubsub.topic.v1.messagePublished"

// Message is a Pub/Sub message as the push envelope carries it.
type Message struct {
	Data        []byte            `json:"data,omitempty"`
	Attributes  map[string]string `json:"attributes,omitempty"`
	MessageID   string            `json:"messageId"`
	PublishTime time.Time         `json:"publishTime"`
	OrderingKey string            `json:"orderingKey,omitempty"`
}

// envelope is the push body; Eventarc's data adds the message's @type.
type envelope struct {
	Message      json.RawMessage `json:"message"`
	Subscription string          `json:"subscription"`
}

// Bridge accepts Pub/Sub push requests at /<FunctionName>?topic=projects/P/topics/T
// and forwards each as a CloudEvent to FunctionURL/<FunctionName>. The
// function's status is passed back, so a failed function call is a nack
// and the emulator redelivers, as --retry does in Google Cloud.
type Bridge struct {
	FunctionURL string // e.g. http://127.0.0.1:8080
	Client      *http.Client
}

func (b *Bridge) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	topic := r.URL.Query().Get("topic")
	if !strings.HasPrefix(topic, "projects/") {
		http.Error(w, "topic query parameter (projects/P/topics/T) is required", http.StatusBadRequest)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 10<<20))
	if err != nil {
		http.Error(w, "read body: "+err.Error(), http.StatusBadRequest)
		return
	}
	var env envelope
	var msg Message
	if err := json.Unmarshal(body, &env); err != nil || json.Unmarshal(env.Message, &msg) != nil {
		http.Error(w, "not a Pub/Sub push envelope", http.StatusBadRequest)
		return
	}
	status, err := b.post(r.Context(), strings.TrimPrefix(r.URL.Path, "/"), topic, env.Subscription, msg)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	w.WriteHeader(status)
}

// Deliver posts msg to the named function as Eventarc would and returns the
// function's HTTP status.
func (b *Bridge) Deliver(ctx context.Context, function, topic, subscription string, msg Message) (int, error) {
	return b.post(ctx, function, topic, subscription, msg)
}

func (b *Bridge) post(ctx context.Context, function, topic, subscription string, msg Message) (int, error) {
	if function == "" || strings.Contains(function, "/") {
		return 0, fmt.Errorf("bad function name %q", function)
	}
	if msg.PublishTime.IsZero() {
		msg.PublishTime = time.Now().UTC()
	}
	data, err := json.Marshal(map[string]any{
		"message": map[string]any{
			"@type":       "type.googleapis.com/google.pubsub.v1.PubsubMessage",
			"data":        msg.Data,
			"attributes":  msg.Attributes,
			"messageId":   msg.MessageID,
			"publishTime": msg.PublishTime.Format(time.RFC3339Nano),
			"orderingKey": msg.OrderingKey,
		},
		"subscription": subscription,
	})
	if err != nil {
		return 0, fmt.Errorf("encode event data: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(b.FunctionURL, "/")+"/"+function, bytes.NewReader(data))
	if err != nil {
		return 0, fmt.Errorf("build request: %w", err)
	}
	h := req.Header
	h.Set("Content-Type", "application/json")
	h.Set("Ce-Specversion", "1.0")
	h.Set("Ce-Id", msg.MessageID)
	h.Set("Ce-Type", EventType)
	h.Set("Ce-Source", "//pubsub.googleapis.com/"+topic)
	h.Set("Ce-Time", msg.PublishTime.Format(time.RFC3339Nano))
	client := b.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("deliver to %s: %w", function, err)
	}
	defer func() { _ = resp.Body.Close() }()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

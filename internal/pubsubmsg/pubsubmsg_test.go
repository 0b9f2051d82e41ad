package pubsubmsg

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
)

func newEvent(t *testing.T, typ, data string) event.Event {
	t.Helper()
	e := event.New()
	e.SetID("evt-1")
	e.SetSource("//pubsub.googleapis.com/projects/p/topics/t")
	e.SetType(typ)
	if data != "" {
		if err := e.SetData(event.ApplicationJSON, []byte(data)); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

func TestDecodeOfficialSample(t *testing.T) {
	// googleapis/google-cloudevents examples/structured/pubsub/MessagePublishedData.json
	e := newEvent(t, EventType, `{"subscription":"projects/test-project/subscriptions/my-subscription","message":{"attributes":{"attr1":"attr1-value"},"data":"dGVzdCBtZXNzYWdlIDM=","messageId":"message-id","publishTime":"2021-02-05T04:06:14.109Z","orderingKey":"ordering-key"}}`)
	m, err := Decode(e)
	if err != nil {
		t.Fatal(err)
	}
	if string(m.Data) != "test message 3" || m.MessageID != "message-id" || m.Attributes["attr1"] != "attr1-value" ||
		m.OrderingKey != "ordering-key" || m.Subscription != "projects/test-project/subscriptions/my-subscription" {
		t.Fatalf("decoded %+v", m)
	}
	if !m.PublishTime.Equal(time.Date(2021, 2, 5, 4, 6, 14, 109e6, time.UTC)) {
		t.Fatalf("publish time %v", m.PublishTime)
	}
}

func TestDecodeSnakeCaseAndFallbacks(t *testing.T) {
	e := newEvent(t, EventType, `{"message":{"data":"e30=","message_id":"42","publish_time":"2024-01-01T00:00:00Z","@type":"type.googleapis.com/google.pubsub.v1.PubsubMessage"}}`)
	m, err := Decode(e)
	if err != nil {
		t.Fatal(err)
	}
	if m.MessageID != "42" || string(m.Data) != "{}" || m.Attributes == nil || m.PublishTime.Year() != 2024 {
		t.Fatalf("decoded %+v", m)
	}
	e = newEvent(t, EventType, `{"message":{"data":"e30="}}`)
	m, err = Decode(e)
	if err != nil {
		t.Fatal(err)
	}
	if m.MessageID != "evt-1" {
		t.Fatalf("message id should fall back to the event id, got %q", m.MessageID)
	}
}

func TestDecodeErrors(t *testing.T) {
	for _, tc := range []struct {
		name, typ, data, want string
	}{
		{"wrong type", "com.example.other", `{"message":{}}`, "not a Pub/Sub messagePublished event"},
		{"no data", EventType, ``, "empty data"},
		{"not json", EventType, `nope`, "not a Pub/Sub envelope"},
		{"no message", EventType, `{"subscription":"s"}`, `no "message" object`},
		{"bad base64", EventType, `{"message":{"data":"!!!"}}`, "not a Pub/Sub envelope"},
		{"bad time", EventType, `{"message":{"data":"","publishTime":"yesterday"}}`, "publishTime"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode(newEvent(t, tc.typ, tc.data))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
			if tc.name == "wrong type" && !errors.Is(err, ErrWrongType) {
				t.Fatal("want ErrWrongType")
			}
		})
	}
}

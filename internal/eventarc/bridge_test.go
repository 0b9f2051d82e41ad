package eventarc

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/dnsfailover/dnsfailover/internal/pubsubmsg"
)

// function is a CloudEvent receiver built with the real SDK, as the
// functions framework builds it; it records what it decoded.
func function(t *testing.T, status int) (*httptest.Server, chan *pubsubmsg.Message) {
	t.Helper()
	got := make(chan *pubsubmsg.Message, 4)
	p, err := cloudevents.NewHTTP()
	if err != nil {
		t.Fatal(err)
	}
	h, err := cloudevents.NewHTTPReceiveHandler(context.Background(), p, func(ctx context.Context, e event.Event) error {
		m, err := pubsubmsg.Decode(e)
		if err != nil {
			t.Errorf("decode: %v", err)
			return err
		}
		if e.Source() != "//pubsub.googleapis.com/projects/p/topics/alerts" {
			t.Errorf("source %q", e.Source())
		}
		got <- m
		if status != 200 {
			return cloudevents.NewHTTPResult(status, "failing on purpose")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.StripPrefix("/OnAlert", h))
	t.Cleanup(srv.Close)
	return srv, got
}

func TestBridgeTranslatesPushToEventarcCloudEvent(t *testing.T) {
	fn, got := function(t, 200)
	bridge := httptest.NewServer(&Bridge{FunctionURL: fn.URL})
	defer bridge.Close()
	push := `{"message":{"data":"eyJ2ZXJzaW9uIjoidGVzdCJ9","attributes":{"k":"v"},"messageId":"42","publishTime":"2026-11-21T07:00:00.123Z"},"subscription":"projects/p/subscriptions/s"}`
	resp, err := http.Post(bridge.URL+"/OnAlert?topic=projects/p/topics/alerts", "application/json", bytes.NewBufferString(push))
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	m := <-got
	if string(m.Data) != `{"version":"test"}` || m.MessageID != "42" || m.Attributes["k"] != "v" || m.Subscription != "projects/p/subscriptions/s" {
		t.Errorf("function saw %+v", m)
	}
}

func TestBridgePassesFailureBackAsNack(t *testing.T) {
	fn, got := function(t, 500)
	b := &Bridge{FunctionURL: fn.URL}
	status, err := b.Deliver(context.Background(), "OnAlert", "projects/p/topics/alerts", "projects/p/subscriptions/s", Message{Data: []byte("x"), MessageID: "7", PublishTime: time.Now()})
	if err != nil || status != 500 {
		t.Fatalf("status %d err %v, want 500", status, err)
	}
	<-got
}

func TestBridgeRejectsNonPushBodies(t *testing.T) {
	bridge := httptest.NewServer(&Bridge{FunctionURL: "http://127.0.0.1:1"})
	defer bridge.Close()
	for _, c := range []struct{ path, body string }{
		{"/OnAlert?topic=projects/p/topics/t", "not json"},
		{"/OnAlert", `{"message":{"messageId":"1"}}`},
	} {
		resp, err := http.Post(bridge.URL+c.path, "application/json", bytes.NewBufferString(c.body))
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s %q: status %d, want 400", c.path, c.body, resp.StatusCode)
		}
	}
}

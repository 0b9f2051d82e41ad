package prober

import (
	"context"
	"testing"

	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"cloud.google.com/go/pubsub/v2/pstest"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/dnsfailover/dnsfailover/internal/request"
)

func TestPublishedRequestDecodesAsTheFunctionDecodesIt(t *testing.T) {
	srv := pstest.NewServer()
	defer srv.Close()
	ctx := context.Background()
	c, err := pubsub.NewClient(ctx, "p", option.WithEndpoint(srv.Addr), option.WithoutAuthentication(),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.TopicAdminClient.CreateTopic(ctx, &pubsubpb.Topic{Name: "projects/p/topics/requests"}); err != nil {
		t.Fatal(err)
	}
	pub := &PubSubPublisher{Client: c, Topic: "requests"}
	want := request.Manual{Record: "redis.example.internal.", Mode: "emergency", Reason: "prober quorum", RequestID: EpisodeID("redis_example_internal", "10.0.0.5:6379", t0)}
	if _, err := pub.Publish(ctx, want); err != nil {
		t.Fatal(err)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages", len(msgs))
	}
	got, err := request.Decode(msgs[0].Data)
	if err != nil {
		t.Fatalf("the function would reject %s: %v", msgs[0].Data, err)
	}
	if *got != want {
		t.Fatalf("decoded %+v, want %+v", got, want)
	}

	// A request the function would refuse is never published.
	bad := want
	bad.Mode = "now"
	if _, err := pub.Publish(ctx, bad); err == nil {
		t.Fatal("published an invalid request")
	}
	if n := len(srv.Messages()); n != 1 {
		t.Fatalf("%d messages after a refused publish", n)
	}
}

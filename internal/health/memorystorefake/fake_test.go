package memorystorefake

import (
	"context"
	"testing"
	"time"

	"cloud.google.com/go/redis/apiv1/redispb"
	"google.golang.org/api/iterator"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestFakeWithRealClient(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	srv, err := Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	client, err := srv.NewClient(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = client.Close() }()

	a := &redispb.Instance{Name: "projects/p/locations/us-central1/instances/a", Host: "10.0.0.5", Port: 6378, State: redispb.Instance_READY}
	srv.Set(a)
	srv.Set(&redispb.Instance{Name: "projects/p/locations/us-east1/instances/b", State: redispb.Instance_CREATING})
	srv.Set(&redispb.Instance{Name: "projects/q/locations/us-east1/instances/c"})
	a.Host = "changed" // Set stored a copy

	got, err := client.GetInstance(ctx, &redispb.GetInstanceRequest{Name: a.Name})
	if err != nil || got.GetHost() != "10.0.0.5" || got.GetPort() != 6378 || got.GetState() != redispb.Instance_READY {
		t.Fatalf("GetInstance = %v, %v", got, err)
	}
	if _, err := client.GetInstance(ctx, &redispb.GetInstanceRequest{Name: "projects/p/locations/us-central1/instances/zzz"}); status.Code(err) != codes.NotFound {
		t.Errorf("missing: %v", err)
	}
	if _, err := client.GetInstance(ctx, &redispb.GetInstanceRequest{Name: "bad"}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("bad name: %v", err)
	}

	list := func(parent string) []string {
		var names []string
		it := client.ListInstances(ctx, &redispb.ListInstancesRequest{Parent: parent})
		for {
			inst, err := it.Next()
			if err == iterator.Done {
				return names
			}
			if err != nil {
				t.Fatalf("list %s: %v", parent, err)
			}
			names = append(names, inst.GetName())
		}
	}
	if got := list("projects/p/locations/-"); len(got) != 2 || got[0] != a.Name {
		t.Errorf("list all regions = %v", got)
	}
	if got := list("projects/p/locations/us-east1"); len(got) != 1 {
		t.Errorf("list us-east1 = %v", got)
	}

	srv.SetFault(status.Error(codes.ResourceExhausted, "quota"))
	if _, err := client.GetInstance(ctx, &redispb.GetInstanceRequest{Name: a.Name}); status.Code(err) != codes.ResourceExhausted {
		t.Errorf("fault: %v", err)
	}
	srv.SetFault(nil)
	if srv.Calls("GetInstance") != 4 || srv.Calls("ListInstances") != 2 {
		t.Errorf("calls = %d, %d", srv.Calls("GetInstance"), srv.Calls("ListInstances"))
	}
	srv.Delete(a.Name)
	if _, err := client.GetInstance(ctx, &redispb.GetInstanceRequest{Name: a.Name}); status.Code(err) != codes.NotFound {
		t.Errorf("after Delete: %v", err)
	}
}

func TestFakeStopsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	deadline := time.Now().Add(5 * time.Second)
	for {
		select {
		case <-srv.done:
			srv.Close() // idempotent
			return
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("server still running after its context was cancelled")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

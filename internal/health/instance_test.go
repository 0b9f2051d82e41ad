package health

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/redis/apiv1/redispb"
	"github.com/dnsfailover/dnsfailover/internal/health/memorystorefake"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// startMemorystore runs the in-process admin API and returns a lookup that
// uses the real client library against it.
func startMemorystore(t *testing.T) (*memorystorefake.Server, *MemorystoreLookup) {
	t.Helper()
	ctx := context.Background()
	fake, err := memorystorefake.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fake.Close)
	client, err := fake.NewClient(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Close() })
	return fake, NewMemorystoreLookup(client)
}

func TestMemorystoreLookup(t *testing.T) {
	fake, lookup := startMemorystore(t)
	fake.Set(&redispb.Instance{
		Name:                  instA,
		Host:                  "10.0.0.7",
		Port:                  6378,
		State:                 redispb.Instance_READY,
		Tier:                  redispb.Instance_STANDARD_HA,
		AuthEnabled:           true,
		TransitEncryptionMode: redispb.Instance_SERVER_AUTHENTICATION,
		CurrentLocationId:     "us-central1-a",
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	inst, err := lookup.Lookup(ctx, instA)
	if err != nil {
		t.Fatal(err)
	}
	if inst.Name != instA || inst.Host != "10.0.0.7" || inst.Port != 6378 || inst.State != "READY" ||
		inst.Tier != "STANDARD_HA" || inst.Addr.String() != "10.0.0.7" || !inst.AuthEnabled ||
		inst.TransitEncryption != "SERVER_AUTHENTICATION" || inst.CurrentLocationID != "us-central1-a" {
		t.Errorf("Lookup = %+v", inst)
	}

	fake.SetState(instA, redispb.Instance_MAINTENANCE)
	if inst, err = lookup.Lookup(ctx, instA); err != nil || inst.State != "MAINTENANCE" {
		t.Errorf("after SetState: %+v, %v", inst, err)
	}

	fake.Delete(instA)
	_, err = lookup.Lookup(ctx, instA)
	if !errors.Is(err, ErrInstanceNotFound) {
		t.Fatalf("deleted instance: err = %v, want ErrInstanceNotFound", err)
	}
	if status.Code(err) != codes.NotFound || !strings.Contains(err.Error(), instA) {
		t.Errorf("deleted instance: err = %v, want NotFound naming the instance", err)
	}

	fake.SetFault(status.Error(codes.Unavailable, "backend down"))
	_, err = lookup.Lookup(ctx, instB)
	if err == nil || errors.Is(err, ErrInstanceNotFound) || status.Code(err) != codes.Unavailable {
		t.Errorf("fault: err = %v, want Unavailable and not NotFound", err)
	}
	fake.SetFault(nil)

	calls := fake.Calls("GetInstance")
	if _, err := lookup.Lookup(ctx, "redis-a"); err == nil || !strings.Contains(err.Error(), "want projects/PROJECT") {
		t.Errorf("malformed name: err = %v", err)
	}
	if fake.Calls("GetInstance") != calls {
		t.Errorf("malformed name reached the API")
	}
}

func TestInstanceFromProtoHostname(t *testing.T) {
	inst := InstanceFromProto(&redispb.Instance{Name: instA, Host: "redis.internal", Port: 6379})
	if inst.Addr.IsValid() {
		t.Errorf("hostname host gave Addr %v", inst.Addr)
	}
	if inst.State != "STATE_UNSPECIFIED" {
		t.Errorf("State = %q", inst.State)
	}
}

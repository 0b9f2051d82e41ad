package health

import (
	"context"
	"errors"
	"fmt"
	"net/netip"

	redis "cloud.google.com/go/redis/apiv1"
	"cloud.google.com/go/redis/apiv1/redispb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// StateReady is the only Memorystore state in which a target may receive traffic.
const StateReady = "READY"

// ErrInstanceNotFound is wrapped by lookups of instances that do not exist;
// test with errors.Is.
var ErrInstanceNotFound = errors.New("memorystore instance not found")

// Instance is what the health check needs from a Memorystore instance.
type Instance struct {
	Name  string     `json:"name"`
	Host  string     `json:"host"`
	Port  int        `json:"port"`
	State string     `json:"state"` // redispb.Instance_State name, e.g. READY, MAINTENANCE
	Tier  string     `json:"tier"`  // BASIC or STANDARD_HA
	Addr  netip.Addr `json:"addr,omitzero"`
	// AuthEnabled and TransitEncryption tell the operator which probe options
	// the instance needs (AUTH string; TLS when SERVER_AUTHENTICATION).
	AuthEnabled       bool   `json:"authEnabled,omitempty"`
	TransitEncryption string `json:"transitEncryption,omitempty"`
	CurrentLocationID string `json:"currentLocationId,omitempty"`
}

// InstanceLookup resolves an instance resource name.
type InstanceLookup interface {
	Lookup(ctx context.Context, name string) (*Instance, error)
}

// MemorystoreLookup resolves instances through the Memorystore for Redis admin API.
type MemorystoreLookup struct {
	client *redis.CloudRedisClient
}

// NewMemorystoreLookup wraps c; the caller keeps ownership of c.
func NewMemorystoreLookup(c *redis.CloudRedisClient) *MemorystoreLookup {
	return &MemorystoreLookup{client: c}
}

// Lookup calls GetInstance. A missing instance yields an error wrapping
// ErrInstanceNotFound.
func (l *MemorystoreLookup) Lookup(ctx context.Context, name string) (*Instance, error) {
	if err := ValidateInstanceName(name); err != nil {
		return nil, fmt.Errorf("memorystore lookup: %w", err)
	}
	if l == nil || l.client == nil {
		return nil, errors.New("memorystore lookup: no client configured")
	}
	pb, err := l.client.GetInstance(ctx, &redispb.GetInstanceRequest{Name: name})
	if err != nil {
		if status.Code(err) == codes.NotFound {
			return nil, fmt.Errorf("memorystore get instance %s: %w: %w", name, ErrInstanceNotFound, err)
		}
		return nil, fmt.Errorf("memorystore get instance %s: %w", name, err)
	}
	return InstanceFromProto(pb), nil
}

// InstanceFromProto converts the API message. Addr is left zero when Host
// is not an IP address.
func InstanceFromProto(pb *redispb.Instance) *Instance {
	inst := &Instance{
		Name:              pb.GetName(),
		Host:              pb.GetHost(),
		Port:              int(pb.GetPort()),
		State:             pb.GetState().String(),
		Tier:              pb.GetTier().String(),
		AuthEnabled:       pb.GetAuthEnabled(),
		TransitEncryption: pb.GetTransitEncryptionMode().String(),
		CurrentLocationID: pb.GetCurrentLocationId(),
	}
	if a, err := netip.ParseAddr(pb.GetHost()); err == nil {
		inst.Addr = a.Unmap()
	}
	return inst
}

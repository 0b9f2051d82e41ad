package dnsrec

import (
	"context"
	"sync"

	"google.golang.org/api/option"
)

// CloudDNSProviders creates one CloudDNS provider per zone, lazily, and
// reuses it; its Provider method fits failover.Deps.Provider.
type CloudDNSProviders struct {
	opts []option.ClientOption
	mu   sync.Mutex
	byID map[string]*CloudDNS
}

// NewCloudDNSProviders returns a cache whose providers use opts (endpoint,
// credentials).
func NewCloudDNSProviders(opts ...option.ClientOption) *CloudDNSProviders {
	return &CloudDNSProviders{opts: opts, byID: map[string]*CloudDNS{}}
}

// Provider returns the provider for project/zone.
func (c *CloudDNSProviders) Provider(ctx context.Context, project, zone string) (Provider, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p, ok := c.byID[project+"/"+zone]; ok {
		return p, nil
	}
	// The client outlives this call: do not bind it to the caller's context.
	p, err := NewCloudDNS(context.WithoutCancel(ctx), project, zone, c.opts...)
	if err != nil {
		return nil, err
	}
	c.byID[project+"/"+zone] = p
	return p, nil
}

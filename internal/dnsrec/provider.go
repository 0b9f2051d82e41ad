package dnsrec

import "context"

// Provider reads and atomically changes the record sets of one zone.
type Provider interface {
	// Get returns the live record set, or an error wrapping ErrNotFound.
	Get(ctx context.Context, k Key) (*RecordSet, error)
	// Apply applies the change atomically and waits until the provider reports
	// it done. Errors wrap ErrConflict, ErrExists, ErrNotFound or ErrInvalid
	// where the provider said so; anything else is transient or unknown.
	Apply(ctx context.Context, c Change) error
	// NameServers returns the zone's authoritative name servers (host names,
	// or host:port for an emulator) used as default verification resolvers.
	NameServers(ctx context.Context) ([]string, error)
}

// Package clients builds the failover engine and its Google Cloud clients
// from the environment, so the functions, the CLI and the demo wire it the
// same way. Clients are created lazily by the engine's first use, which keeps
// a function's cold start fast.
package clients

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"

	redis "cloud.google.com/go/redis/apiv1"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/dnsfailover/dnsfailover/internal/config"
	"github.com/dnsfailover/dnsfailover/internal/dnsrec"
	"github.com/dnsfailover/dnsfailover/internal/failover"
	"github.com/dnsfailover/dnsfailover/internal/health"
)

// Endpoint overrides, for emulators. Unset means the real Google APIs.
const (
	// EnvDNSEndpoint is the Cloud DNS API base URL, e.g. http://127.0.0.1:8053/.
	EnvDNSEndpoint = "DNSFAILOVER_DNS_ENDPOINT"
	// EnvRedisAPIEndpoint is the Memorystore admin API host:port, spoken
	// over plain gRPC without credentials (an emulator).
	EnvRedisAPIEndpoint = "DNSFAILOVER_REDIS_API_ENDPOINT"
)

// DNSOptions are the Cloud DNS client options the environment asks for.
func DNSOptions() []option.ClientOption {
	if ep := os.Getenv(EnvDNSEndpoint); ep != "" {
		return []option.ClientOption{option.WithEndpoint(ep), option.WithoutAuthentication()}
	}
	return nil
}

// RedisAPIOptions are the Memorystore client options the environment asks for.
func RedisAPIOptions() []option.ClientOption {
	if ep := os.Getenv(EnvRedisAPIEndpoint); ep != "" {
		return []option.ClientOption{
			option.WithEndpoint(ep), option.WithoutAuthentication(),
			option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())),
		}
	}
	return nil
}

// lazyLookup creates the Memorystore client on first use.
type lazyLookup struct {
	once   sync.Once
	lookup *health.MemorystoreLookup
	err    error
}

func (l *lazyLookup) Lookup(ctx context.Context, name string) (*health.Instance, error) {
	l.once.Do(func() {
		// The client outlives the first caller's request.
		c, err := redis.NewCloudRedisClient(context.WithoutCancel(ctx), RedisAPIOptions()...)
		if err != nil {
			l.err = fmt.Errorf("memorystore client: %w", err)
			return
		}
		l.lookup = health.NewMemorystoreLookup(c)
	})
	if l.err != nil {
		return nil, l.err
	}
	return l.lookup.Lookup(ctx, name)
}

// NewEngine returns an engine for cfg whose clients follow the environment.
func NewEngine(cfg *config.Config, logger *slog.Logger) (*failover.Engine, error) {
	lookup := &lazyLookup{}
	return failover.New(cfg, failover.Deps{
		Provider: dnsrec.NewCloudDNSProviders(DNSOptions()...).Provider,
		Checker:  failover.HealthChecker(lookup),
		Lookup:   lookup,
		Verifier: dnsrec.NewVerifier(),
		Logger:   logger,
	})
}

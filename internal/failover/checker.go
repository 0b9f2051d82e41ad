package failover

import (
	"os"

	"github.com/dnsfailover/dnsfailover/internal/config"
	"github.com/dnsfailover/dnsfailover/internal/health"
)

// HealthChecker returns a Deps.Checker that probes each record's targets with
// that record's Redis settings (TLS, CA bundle, AUTH from the named env var).
func HealthChecker(lookup health.InstanceLookup) func(rec *config.Record) TargetChecker {
	return func(rec *config.Record) TargetChecker {
		return &health.Checker{
			Lookup:      lookup,
			DefaultPort: rec.Port,
			Probe: health.ProbeOptions{
				TLS:        rec.Redis.TLS,
				CAFile:     rec.Redis.CAFile,
				ServerName: rec.Redis.ServerName,
				Username:   rec.Redis.Username,
				Password:   passwordFrom(rec.Redis.PasswordEnv),
				Timeout:    rec.Redis.Timeout.Duration,
			},
		}
	}
}

func passwordFrom(env string) string {
	if env == "" {
		return ""
	}
	return os.Getenv(env)
}

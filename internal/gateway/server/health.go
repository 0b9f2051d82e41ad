package server

import (
	"fmt"
	"net/http"
	"net/http/pprof"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/dnsfailover/dnsfailover/internal/gateway/source"
)

// HTTPHandler serves /healthz (the process is up), /readyz (every enabled
// source synced or known unavailable, so the index is complete), /metrics
// and, when withPprof is set, the Go profiler under /debug/pprof/.
func HTTPHandler(w *source.Watcher, m *Metrics, withPprof bool) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(rw http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(rw, "ok")
	})
	mux.HandleFunc("GET /readyz", func(rw http.ResponseWriter, _ *http.Request) {
		rw.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if !w.Ready() {
			rw.WriteHeader(http.StatusServiceUnavailable)
		}
		for _, s := range w.Statuses() {
			fmt.Fprintf(rw, "%s\t%s", s.Kind, s.State)
			if s.LastError != "" {
				fmt.Fprintf(rw, "\t%s", s.LastError)
			}
			fmt.Fprintln(rw)
		}
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{}))
	if withPprof {
		mux.HandleFunc("GET /debug/pprof/", pprof.Index)
		mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	}
	return mux
}

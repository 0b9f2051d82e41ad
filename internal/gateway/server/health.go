package server

import (
	"fmt"
	"net/http"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/dnsfailover/dnsfailover/internal/gateway/source"
)

// HTTPHandler serves /healthz (the process is up), /readyz (every enabled
// source synced or known unavailable, so the index is complete) and /metrics.
func HTTPHandler(w *source.Watcher, m *Metrics) http.Handler {
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
	return mux
}

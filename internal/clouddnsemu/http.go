package clouddnsemu

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"
)

// apiPrefixes are the path prefixes served: the Go client and gcloud use v1; v1beta2 has the same shapes.
var apiPrefixes = []string{"/dns/v1", "/dns/v1beta2"}

// maxBody bounds request bodies (a change may carry 2000 record sets).
const maxBody = 16 << 20

// apiFunc handles one REST method and returns a JSON value or an API error.
type apiFunc func(r *http.Request) (int, any, *apiError)

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	zones := "/projects/{project}/managedZones"
	rrsets := zones + "/{zone}/rrsets"
	changes := zones + "/{zone}/changes"
	for _, p := range apiPrefixes {
		s.handle(mux, "POST "+p+zones, "dns.managedZones.create", s.zonesCreate)
		s.handle(mux, "GET "+p+zones, "dns.managedZones.list", s.zonesList)
		s.handle(mux, "GET "+p+zones+"/{zone}", "dns.managedZones.get", s.zonesGet)
		s.handle(mux, "DELETE "+p+zones+"/{zone}", "dns.managedZones.delete", s.zonesDelete)
		s.handle(mux, "POST "+p+rrsets, "dns.resourceRecordSets.create", s.rrsetsCreate)
		s.handle(mux, "GET "+p+rrsets, "dns.resourceRecordSets.list", s.rrsetsList)
		s.handle(mux, "GET "+p+rrsets+"/{name}/{type}", "dns.resourceRecordSets.get", s.rrsetsGet)
		s.handle(mux, "PATCH "+p+rrsets+"/{name}/{type}", "dns.resourceRecordSets.patch", s.rrsetsPatch)
		s.handle(mux, "DELETE "+p+rrsets+"/{name}/{type}", "dns.resourceRecordSets.delete", s.rrsetsDelete)
		s.handle(mux, "POST "+p+changes, "dns.changes.create", s.changesCreate)
		s.handle(mux, "GET "+p+changes, "dns.changes.list", s.changesList)
		s.handle(mux, "GET "+p+changes+"/{change}", "dns.changes.get", s.changesGet)
	}
	s.adminRoutes(mux)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.log.Warn("unknown API path", "method", r.Method, "path", r.URL.Path)
		writeAPIError(w, errNotFound("The requested URL %s %s was not found on this server.", r.Method, r.URL.Path))
	})
	return mux
}

// handle wraps fn with call counting, fault injection, logging and JSON encoding.
func (s *Server) handle(mux *http.ServeMux, pattern, method string, fn apiFunc) {
	mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		s.counters.update(func(c *Counters) { c.Calls[method]++ })
		kind, latency := s.faults.take(r.Method + " " + r.URL.Path)
		if latency > 0 {
			s.counters.update(func(c *Counters) { c.FaultsInjected["latency"]++ })
			select {
			case <-time.After(latency):
			case <-r.Context().Done():
				return
			}
		}
		if kind != faultNone {
			s.counters.update(func(c *Counters) { c.FaultsInjected[string(kind)]++ })
			s.log.Info("fault injected", "method", method, "fault", string(kind), "path", r.URL.Path)
			if kind == faultDrop {
				dropConnection(w)
				return
			}
			s.respond(w, r, method, start, 0, nil, faultError(kind))
			return
		}
		code, body, aerr := fn(r)
		s.respond(w, r, method, start, code, body, aerr)
	})
}

func (s *Server) respond(w http.ResponseWriter, r *http.Request, method string, start time.Time, code int, body any, aerr *apiError) {
	if aerr != nil {
		code = aerr.Code
	}
	s.counters.update(func(c *Counters) {
		c.Responses[code]++
		if code == http.StatusPreconditionFailed {
			c.PreconditionFailed++
		}
	})
	s.log.Debug("api call", "method", method, "path", r.URL.Path, "status", code, "duration", time.Since(start))
	switch {
	case aerr != nil:
		writeAPIError(w, aerr)
	case code == http.StatusNoContent:
		w.WriteHeader(code)
	default:
		writeJSON(w, code, body)
	}
}

// dropConnection closes the TCP connection without writing any response.
func dropConnection(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler) // HTTP/2: aborting the handler resets the stream
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}

// decodeBody reads a JSON request body into v.
func decodeBody(r *http.Request, v any) *apiError {
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return errInvalid("Request body larger than %d bytes.", maxBody)
		}
		return errInvalid("Reading request body: %v", err)
	}
	if len(body) == 0 {
		return errInvalid("Required request body is missing.")
	}
	if err := json.Unmarshal(body, v); err != nil {
		return &apiError{Code: http.StatusBadRequest, Reason: "parseError", Message: fmt.Sprintf("Invalid JSON payload received. %v", err)}
	}
	return nil
}

// newLogger returns l, or a logger that discards everything.
func newLogger(l *slog.Logger) *slog.Logger {
	if l != nil {
		return l
	}
	return slog.New(slog.DiscardHandler)
}

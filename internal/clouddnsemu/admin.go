package clouddnsemu

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// ZonesFile is the --zones-file format and the body of POST /emulator/v1/zones.
type ZonesFile struct {
	Zones []ZoneSpec `json:"zones"`
}

// ZoneSpec is one zone to preload; Project defaults to the caller's default project.
type ZoneSpec struct {
	Project    string      `json:"project,omitempty"`
	Name       string      `json:"name"`
	DNSName    string      `json:"dnsName"`
	Private    bool        `json:"private,omitempty"`
	RecordSets []RecordSet `json:"rrsets,omitempty"`
}

// LoadZones creates the zones in data (a ZonesFile in JSON) and adds their record sets.
func (s *Server) LoadZones(data []byte, defaultProject string) error {
	var f ZonesFile
	if err := json.Unmarshal(data, &f); err != nil {
		return fmt.Errorf("clouddnsemu: parse zones file: %w", err)
	}
	for _, z := range f.Zones {
		project := z.Project
		if project == "" {
			project = defaultProject
		}
		if err := s.CreateZone(project, z.Name, z.DNSName, z.Private); err != nil {
			return err
		}
		if len(z.RecordSets) > 0 {
			if err := s.AddRecordSets(project, z.Name, z.RecordSets...); err != nil {
				return err
			}
		}
	}
	return nil
}

// faultsJSON is Faults on the admin API; latency is a Go duration string such as "250ms".
type faultsJSON struct {
	Status429       int    `json:"status429"`
	Status500       int    `json:"status500"`
	Status503       int    `json:"status503"`
	Latency         string `json:"latency"`
	DropConnections int    `json:"dropConnections"`
	Match           string `json:"match"`
}

// adminRoutes serves the emulator's own control API; its calls are never counted nor faulted.
func (s *Server) adminRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /emulator/v1/healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /emulator/v1/counters", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.Counters())
	})
	mux.HandleFunc("GET /emulator/v1/faults", func(w http.ResponseWriter, r *http.Request) {
		f := s.Faults()
		writeJSON(w, http.StatusOK, faultsJSON{f.Status429, f.Status500, f.Status503, f.Latency.String(), f.DropConnections, f.Match})
	})
	mux.HandleFunc("PUT /emulator/v1/faults", func(w http.ResponseWriter, r *http.Request) {
		var in faultsJSON
		if aerr := decodeBody(r, &in); aerr != nil {
			writeAPIError(w, aerr)
			return
		}
		f := Faults{Status429: in.Status429, Status500: in.Status500, Status503: in.Status503, DropConnections: in.DropConnections, Match: in.Match}
		if in.Latency != "" {
			d, err := time.ParseDuration(in.Latency)
			if err != nil || d < 0 {
				writeAPIError(w, errInvalid("Invalid latency %q: want a Go duration such as 250ms", in.Latency))
				return
			}
			f.Latency = d
		}
		if f.Status429 < 0 || f.Status500 < 0 || f.Status503 < 0 || f.DropConnections < 0 {
			writeAPIError(w, errInvalid("Fault counts must not be negative"))
			return
		}
		s.SetFaults(f)
		s.log.Info("faults set", "faults", in)
		writeJSON(w, http.StatusOK, in)
	})
	mux.HandleFunc("POST /emulator/v1/projects/{project}/zones", func(w http.ResponseWriter, r *http.Request) {
		data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		if err == nil {
			err = s.LoadZones(data, r.PathValue("project"))
		}
		if err != nil {
			writeAPIError(w, errInvalid("%v", err))
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "loaded"})
	})
	mux.HandleFunc("GET /emulator/v1/projects/{project}/zones/{zone}/snapshot", func(w http.ResponseWriter, r *http.Request) {
		b, err := s.Snapshot(r.PathValue("project"), r.PathValue("zone"))
		if err != nil {
			writeAPIError(w, errNotFound("%v", err))
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write(b)
	})
}

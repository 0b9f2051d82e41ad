package clouddnsemu

import (
	"bytes"
	"fmt"
	"strconv"
)

// Snapshot is the canonical serialization of a zone's live record sets (what the API returns, not
// what DNS serves yet): one line per set, sorted by name then type, rrdatas in stored order.
// Two equal snapshots mean the zone is byte-for-byte unchanged, SOA serial included.
func (s *Server) Snapshot(project, zone string) ([]byte, error) {
	s.st.mu.RLock()
	defer s.st.mu.RUnlock()
	z := s.st.zoneLocked(project, zone)
	if z == nil {
		return nil, fmt.Errorf("clouddnsemu: snapshot: zone %q not found in project %q", zone, project)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "; zone %s %s\n", z.name, z.dnsName)
	for _, set := range sortedSets(z.live) {
		fmt.Fprintf(&b, "%s %s %d", set.Name, set.Type, set.TTL)
		for _, d := range set.Rrdatas {
			b.WriteByte(' ')
			b.WriteString(strconv.Quote(d))
		}
		b.WriteByte('\n')
	}
	return b.Bytes(), nil
}

// CreateZone creates a zone (with its SOA and NS sets) without going through HTTP.
func (s *Server) CreateZone(project, name, dnsName string, private bool) error {
	vis := "public"
	if private {
		vis = "private"
	}
	z, aerr := s.st.createZone(project, zoneInput{Name: name, DNSName: dnsName, Visibility: vis, Description: "created by CreateZone"})
	if aerr != nil {
		return fmt.Errorf("clouddnsemu: create zone %s: %w", name, aerr)
	}
	s.log.Info("zone created", "project", project, "zone", z.name, "dnsName", z.dnsName, "visibility", vis)
	return nil
}

// RecordSet is a record set for the convenience methods and the zones file.
type RecordSet struct {
	Name    string   `json:"name"`
	Type    string   `json:"type"`
	TTL     int64    `json:"ttl"`
	Rrdatas []string `json:"rrdatas"`
}

// AddRecordSets applies one change adding sets to a zone, with the same rules as changes.create.
func (s *Server) AddRecordSets(project, zone string, sets ...RecordSet) error {
	req := changeRequest{}
	for _, r := range sets {
		req.Additions = append(req.Additions, rrsetInput{Name: r.Name, Type: r.Type, TTL: ptr(r.TTL), Rrdatas: r.Rrdatas})
	}
	c, aerr := s.st.applyChange(project, zone, req, "")
	if aerr != nil {
		return fmt.Errorf("clouddnsemu: add record sets to %s: %w", zone, aerr)
	}
	s.log.Info("change applied", "project", project, "zone", zone, "change", c.id, "additions", len(c.additions))
	return nil
}

// RecordSets returns the live record sets of a zone, sorted by name then type.
func (s *Server) RecordSets(project, zone string) ([]RecordSet, error) {
	s.st.mu.RLock()
	defer s.st.mu.RUnlock()
	z := s.st.zoneLocked(project, zone)
	if z == nil {
		return nil, fmt.Errorf("clouddnsemu: zone %q not found in project %q", zone, project)
	}
	var out []RecordSet
	for _, set := range sortedSets(z.live) {
		out = append(out, RecordSet{Name: set.Name, Type: set.Type, TTL: set.TTL, Rrdatas: append([]string(nil), set.Rrdatas...)})
	}
	return out, nil
}

package clouddnsemu

import (
	"net/http"
	"sort"
	"strings"
)

func (s *Server) zonesCreate(r *http.Request) (int, any, *apiError) {
	var in zoneInput
	if aerr := decodeBody(r, &in); aerr != nil {
		return 0, nil, aerr
	}
	z, aerr := s.st.createZone(r.PathValue("project"), in)
	if aerr != nil {
		return 0, nil, aerr
	}
	s.log.Info("zone created", "project", z.project, "zone", z.name, "dnsName", z.dnsName, "visibility", z.visibility)
	s.st.mu.RLock()
	defer s.st.mu.RUnlock()
	return http.StatusOK, z.toJSON(), nil
}

func (s *Server) zonesGet(r *http.Request) (int, any, *apiError) {
	s.st.mu.RLock()
	defer s.st.mu.RUnlock()
	z := s.st.zoneLocked(r.PathValue("project"), r.PathValue("zone"))
	if z == nil {
		return 0, nil, zoneNotFound(r.PathValue("zone"))
	}
	return http.StatusOK, z.toJSON(), nil
}

func (s *Server) zonesList(r *http.Request) (int, any, *apiError) {
	dnsName := normalizeName(r.URL.Query().Get("dnsName"))
	if dnsName != "" && !strings.HasSuffix(dnsName, ".") {
		dnsName += "."
	}
	s.st.mu.RLock()
	var list []zoneJSON
	for _, z := range s.st.zones[r.PathValue("project")] {
		if dnsName == "" || z.dnsName == dnsName {
			list = append(list, z.toJSON())
		}
	}
	s.st.mu.RUnlock()
	sort.Slice(list, func(i, j int) bool { return list[i].Name < list[j].Name })
	items, next, aerr := page(r, list, func(z zoneJSON) string { return z.Name }, false)
	if aerr != nil {
		return 0, nil, aerr
	}
	return http.StatusOK, listBody("dns#managedZonesListResponse", "managedZones", nonNil(items), next), nil
}

func (s *Server) zonesDelete(r *http.Request) (int, any, *apiError) {
	if aerr := s.st.deleteZone(r.PathValue("project"), r.PathValue("zone")); aerr != nil {
		return 0, nil, aerr
	}
	s.log.Info("zone deleted", "project", r.PathValue("project"), "zone", r.PathValue("zone"))
	return http.StatusNoContent, nil, nil
}

// nonNil makes empty lists encode as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

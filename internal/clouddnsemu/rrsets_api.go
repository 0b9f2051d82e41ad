package clouddnsemu

import (
	"net/http"
	"strings"
)

// rrsetJSON is the dns#resourceRecordSet resource.
type rrsetJSON struct {
	Kind    string   `json:"kind"`
	Name    string   `json:"name"`
	Type    string   `json:"type"`
	TTL     int64    `json:"ttl"`
	Rrdatas []string `json:"rrdatas"`
}

func (r *rrset) toJSON() rrsetJSON {
	return rrsetJSON{Kind: "dns#resourceRecordSet", Name: r.Name, Type: r.Type, TTL: r.TTL, Rrdatas: r.Rrdatas}
}

func (r *rrset) toInput() rrsetInput {
	return rrsetInput{Name: r.Name, Type: r.Type, TTL: ptr(r.TTL), Rrdatas: r.Rrdatas}
}

// asRRSetError renames change fields in messages for the rrsets methods, as the real API does.
func asRRSetError(aerr *apiError) *apiError {
	for _, f := range []string{"entity.change.additions[0]", "entity.change.deletions[0]"} {
		aerr.Message = strings.ReplaceAll(aerr.Message, f, "entity.rrset")
	}
	return aerr
}

func rrsetNotFound(name, typ string) *apiError {
	return errNotFound("The 'parameters.name' resource named '%s (%s)' does not exist.", name, typ)
}

// pathKey is the record set named in the URL.
func pathKey(r *http.Request) rrKey {
	return rrKey{normalizeName(r.PathValue("name")), strings.ToUpper(r.PathValue("type"))}
}

func (s *Server) rrsetsCreate(r *http.Request) (int, any, *apiError) {
	var in rrsetInput
	if aerr := decodeBody(r, &in); aerr != nil {
		return 0, nil, aerr
	}
	c, aerr := s.st.applyChange(r.PathValue("project"), r.PathValue("zone"), changeRequest{Additions: []rrsetInput{in}}, "")
	if aerr != nil {
		return 0, nil, asRRSetError(aerr)
	}
	s.changeApplied(r, c)
	return http.StatusOK, c.additions[0].toJSON(), nil
}

func (s *Server) rrsetsGet(r *http.Request) (int, any, *apiError) {
	s.st.mu.RLock()
	defer s.st.mu.RUnlock()
	z := s.st.zoneLocked(r.PathValue("project"), r.PathValue("zone"))
	if z == nil {
		return 0, nil, zoneNotFound(r.PathValue("zone"))
	}
	k := pathKey(r)
	set := z.live[k]
	if set == nil {
		return 0, nil, rrsetNotFound(k.name, k.typ)
	}
	return http.StatusOK, set.toJSON(), nil
}

func (s *Server) rrsetsList(r *http.Request) (int, any, *apiError) {
	q := r.URL.Query()
	name, typ := normalizeName(q.Get("name")), strings.ToUpper(q.Get("type"))
	if typ != "" && name == "" {
		return 0, nil, errInvalid("The 'parameters.type' filter requires 'parameters.name'.")
	}
	s.st.mu.RLock()
	z := s.st.zoneLocked(r.PathValue("project"), r.PathValue("zone"))
	if z == nil {
		s.st.mu.RUnlock()
		return 0, nil, zoneNotFound(r.PathValue("zone"))
	}
	all := sortedSets(z.live)
	s.st.mu.RUnlock()
	var list []*rrset
	for _, set := range all {
		if (name == "" || set.Name == name) && (typ == "" || set.Type == typ) {
			list = append(list, set)
		}
	}
	items, next, aerr := page(r, list, func(x *rrset) string { return x.Name + " " + x.Type }, false)
	if aerr != nil {
		return 0, nil, aerr
	}
	out := make([]rrsetJSON, 0, len(items))
	for _, set := range items {
		out = append(out, set.toJSON())
	}
	return http.StatusOK, listBody("dns#resourceRecordSetsListResponse", "rrsets", out, next), nil
}

// rrsetsPatch replaces the fields present in the body (ttl, rrdatas) in one atomic change.
func (s *Server) rrsetsPatch(r *http.Request) (int, any, *apiError) {
	var in rrsetInput
	if aerr := decodeBody(r, &in); aerr != nil {
		return 0, nil, aerr
	}
	k := pathKey(r)
	if (in.Name != "" && normalizeName(in.Name) != k.name) || (in.Type != "" && strings.ToUpper(in.Type) != k.typ) {
		return 0, nil, errInvalid("The name and type in the body must match the URL ('%s (%s)').", k.name, k.typ)
	}
	s.st.mu.Lock()
	z := s.st.zoneLocked(r.PathValue("project"), r.PathValue("zone"))
	if z == nil {
		s.st.mu.Unlock()
		return 0, nil, zoneNotFound(r.PathValue("zone"))
	}
	cur := z.live[k]
	if cur == nil {
		s.st.mu.Unlock()
		return 0, nil, rrsetNotFound(k.name, k.typ)
	}
	next := cur.toInput()
	if in.TTL != nil {
		next.TTL = in.TTL
	}
	if in.Rrdatas != nil {
		next.Rrdatas = in.Rrdatas
	}
	next.RoutingPolicy = in.RoutingPolicy
	c, aerr := s.st.applyChangeLocked(z, changeRequest{Deletions: []rrsetInput{cur.toInput()}, Additions: []rrsetInput{next}}, "")
	s.st.mu.Unlock()
	if aerr != nil {
		return 0, nil, asRRSetError(aerr)
	}
	s.changeApplied(r, c)
	return http.StatusOK, c.additions[0].toJSON(), nil
}

func (s *Server) rrsetsDelete(r *http.Request) (int, any, *apiError) {
	k := pathKey(r)
	s.st.mu.Lock()
	z := s.st.zoneLocked(r.PathValue("project"), r.PathValue("zone"))
	if z == nil {
		s.st.mu.Unlock()
		return 0, nil, zoneNotFound(r.PathValue("zone"))
	}
	cur := z.live[k]
	if cur == nil {
		s.st.mu.Unlock()
		return 0, nil, rrsetNotFound(k.name, k.typ)
	}
	c, aerr := s.st.applyChangeLocked(z, changeRequest{Deletions: []rrsetInput{cur.toInput()}}, "")
	s.st.mu.Unlock()
	if aerr != nil {
		return 0, nil, asRRSetError(aerr)
	}
	s.changeApplied(r, c)
	return http.StatusOK, map[string]any{}, nil
}

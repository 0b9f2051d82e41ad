package clouddnsemu

import (
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// changeJSON is the dns#change resource.
type changeJSON struct {
	Kind      string      `json:"kind"`
	ID        string      `json:"id"`
	StartTime string      `json:"startTime"`
	Status    string      `json:"status"`
	Additions []rrsetJSON `json:"additions,omitempty"`
	Deletions []rrsetJSON `json:"deletions,omitempty"`
}

func (c *change) toJSON(now time.Time) changeJSON {
	out := changeJSON{Kind: "dns#change", ID: c.id, StartTime: formatTime(c.start), Status: c.status(now)}
	for _, a := range c.additions {
		out.Additions = append(out.Additions, a.toJSON())
	}
	for _, d := range c.deletions {
		out.Deletions = append(out.Deletions, d.toJSON())
	}
	return out
}

func (s *Server) changeApplied(r *http.Request, c *change) {
	s.log.Info("change applied", "project", r.PathValue("project"), "zone", r.PathValue("zone"), "change", c.id,
		"additions", len(c.additions), "deletions", len(c.deletions), "doneAt", c.doneAt)
}

func (s *Server) changesCreate(r *http.Request) (int, any, *apiError) {
	var req changeRequest
	if aerr := decodeBody(r, &req); aerr != nil {
		return 0, nil, aerr
	}
	opID := r.URL.Query().Get("clientOperationId")
	applied := s.st.appliedCount()
	c, aerr := s.st.applyChange(r.PathValue("project"), r.PathValue("zone"), req, opID)
	if aerr != nil {
		s.log.Info("change rejected", "zone", r.PathValue("zone"), "code", aerr.Code, "reason", aerr.Reason, "message", aerr.Message)
		return 0, nil, aerr
	}
	if s.st.appliedCount() != applied || opID == "" {
		s.changeApplied(r, c)
	}
	return http.StatusOK, c.toJSON(s.st.now()), nil
}

func (s *Server) changesGet(r *http.Request) (int, any, *apiError) {
	s.st.mu.RLock()
	defer s.st.mu.RUnlock()
	z := s.st.zoneLocked(r.PathValue("project"), r.PathValue("zone"))
	if z == nil {
		return 0, nil, zoneNotFound(r.PathValue("zone"))
	}
	id := r.PathValue("change")
	n, err := strconv.Atoi(id)
	if err != nil || n < 0 || n >= len(z.changes) {
		return 0, nil, errNotFound("The 'parameters.changeId' resource named '%s' does not exist.", id)
	}
	return http.StatusOK, z.changes[n].toJSON(s.st.now()), nil
}

func (s *Server) changesList(r *http.Request) (int, any, *apiError) {
	q := r.URL.Query()
	if sb := q.Get("sortBy"); sb != "" && sb != "changeSequence" && sb != "CHANGE_SEQUENCE" {
		return 0, nil, errInvalid("Invalid value for 'parameters.sortBy': '%s'", sb)
	}
	desc := false
	switch q.Get("sortOrder") {
	case "", "ascending", "asc":
	case "descending", "desc":
		desc = true
	default:
		return 0, nil, errInvalid("Invalid value for 'parameters.sortOrder': '%s'", q.Get("sortOrder"))
	}
	s.st.mu.RLock()
	z := s.st.zoneLocked(r.PathValue("project"), r.PathValue("zone"))
	if z == nil {
		s.st.mu.RUnlock()
		return 0, nil, zoneNotFound(r.PathValue("zone"))
	}
	list := append([]*change(nil), z.changes...)
	s.st.mu.RUnlock()
	if desc {
		for i, j := 0, len(list)-1; i < j; i, j = i+1, j-1 {
			list[i], list[j] = list[j], list[i]
		}
	}
	seqKey := func(c *change) string { n, _ := strconv.Atoi(c.id); return fmt.Sprintf("%020d", n) }
	items, next, aerr := page(r, list, seqKey, desc)
	if aerr != nil {
		return 0, nil, aerr
	}
	now := s.st.now()
	out := make([]changeJSON, 0, len(items))
	for _, c := range items {
		out = append(out, c.toJSON(now))
	}
	return http.StatusOK, listBody("dns#changesListResponse", "changes", out, next), nil
}

package clouddnsemu

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// zoneNameRE is the managed zone name rule: a letter, then letters, digits or dashes, at most 63.
var zoneNameRE = regexp.MustCompile(`^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$`)

func formatUint(v uint64) string { return strconv.FormatUint(v, 10) }

// zoneInput is a managed zone as a client sends it.
type zoneInput struct {
	Name                    string            `json:"name"`
	DNSName                 string            `json:"dnsName"`
	Description             string            `json:"description"`
	Visibility              string            `json:"visibility"`
	PrivateVisibilityConfig json.RawMessage   `json:"privateVisibilityConfig,omitempty"`
	Labels                  map[string]string `json:"labels,omitempty"`
}

// createZone adds a zone with its SOA and NS record sets, recorded as change "0".
func (s *store) createZone(project string, in zoneInput) (*zone, *apiError) {
	in.DNSName = normalizeName(in.DNSName)
	switch {
	case in.Name == "":
		return nil, errInvalid("Required value for 'entity.managedZone.name' is missing.")
	case !zoneNameRE.MatchString(in.Name):
		return nil, errInvalid("Invalid value for 'entity.managedZone.name': '%s'", in.Name)
	case in.DNSName == "":
		return nil, errInvalid("Required value for 'entity.managedZone.dnsName' is missing.")
	case !strings.HasSuffix(in.DNSName, ".") || !validDomain(in.DNSName) || in.DNSName == ".":
		return nil, errInvalid("Invalid value for 'entity.managedZone.dnsName': '%s'", in.DNSName)
	case len(in.Description) > 1024:
		return nil, errInvalid("Invalid value for 'entity.managedZone.description': longer than 1024 characters")
	}
	vis := strings.ToLower(in.Visibility)
	if vis == "" {
		vis = "public"
	}
	if vis != "public" && vis != "private" {
		return nil, errInvalid("Invalid value for 'entity.managedZone.visibility': '%s'", in.Visibility)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.zones[project][in.Name] != nil {
		return nil, errAlreadyExists("The resource 'entity.managedZone' named '%s' already exists", in.Name)
	}
	z := &zone{
		project: project, name: in.Name, dnsName: in.DNSName, description: in.Description,
		id: s.nextZoneID, created: s.now(), visibility: vis, private: in.PrivateVisibilityConfig,
		labels: in.Labels, nameServers: append([]string(nil), s.nameServers...),
		live: map[rrKey]*rrset{}, byClientOp: map[string]*change{},
	}
	s.nextZoneID++
	soa, aerr := validateRRSet(z.dnsName, "entity.managedZone", rrsetInput{Name: z.dnsName, Type: "SOA", TTL: ptr(int64(21600)),
		Rrdatas: []string{fmt.Sprintf("%s cloud-dns-hostmaster.google.com. 1 21600 3600 259200 300", z.nameServers[0])}})
	if aerr != nil {
		return nil, aerr
	}
	ns, aerr := validateRRSet(z.dnsName, "entity.managedZone", rrsetInput{Name: z.dnsName, Type: "NS", TTL: ptr(int64(21600)), Rrdatas: z.nameServers})
	if aerr != nil {
		return nil, aerr
	}
	next := map[rrKey]*rrset{soa.key(): soa, ns.key(): ns}
	if s.zones[project] == nil {
		s.zones[project] = map[string]*zone{}
	}
	s.zones[project][z.name] = z
	s.order = append(s.order, z)
	// Zone creation is served at once; later changes wait for the propagation delay.
	z.live = next
	z.versions = []*version{newVersion(z.dnsName, next, z.created)}
	z.changes = []*change{{id: "0", additions: []*rrset{soa, ns}, start: z.created, doneAt: z.created}}
	return z, nil
}

func ptr[T any](v T) *T { return &v }

// deleteZone removes an empty zone (only apex SOA and NS left).
func (s *store) deleteZone(project, nameOrID string) *apiError {
	s.mu.Lock()
	defer s.mu.Unlock()
	z := s.zoneLocked(project, nameOrID)
	if z == nil {
		return zoneNotFound(nameOrID)
	}
	for k := range z.live {
		if k.name != z.dnsName || (k.typ != "SOA" && k.typ != "NS") {
			return &apiError{Code: 400, Reason: "containerNotEmpty",
				Message: fmt.Sprintf("The resource named '%s' cannot be deleted because it is not empty", z.name)}
		}
	}
	delete(s.zones[project], z.name)
	for i, o := range s.order {
		if o == z {
			s.order = append(s.order[:i], s.order[i+1:]...)
			break
		}
	}
	return nil
}

// zoneJSON is the dns#managedZone resource.
type zoneJSON struct {
	Kind                    string            `json:"kind"`
	Name                    string            `json:"name"`
	DNSName                 string            `json:"dnsName"`
	Description             string            `json:"description"`
	ID                      string            `json:"id"`
	NameServers             []string          `json:"nameServers"`
	CreationTime            string            `json:"creationTime"`
	Visibility              string            `json:"visibility"`
	PrivateVisibilityConfig json.RawMessage   `json:"privateVisibilityConfig,omitempty"`
	Labels                  map[string]string `json:"labels,omitempty"`
}

func (z *zone) toJSON() zoneJSON {
	return zoneJSON{
		Kind: "dns#managedZone", Name: z.name, DNSName: z.dnsName, Description: z.description,
		ID: formatUint(z.id), NameServers: z.nameServers, CreationTime: formatTime(z.created),
		Visibility: z.visibility, PrivateVisibilityConfig: z.private, Labels: z.labels,
	}
}

// formatTime renders times as the API does: RFC 3339 in UTC with milliseconds.
func formatTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z07:00") }

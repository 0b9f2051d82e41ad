// Package incident decodes Cloud Monitoring alert notifications (the Pub/Sub
// notification channel's JSON, schema version 1.2, and the test-channel
// message) and routes them to failover requests.
package incident

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Incident states after normalisation.
const (
	StateOpen   = "open"
	StateClosed = "closed"
)

// VersionTest is the version the "send test notification" button uses.
const VersionTest = "test"

// Notification is the message body a Monitoring Pub/Sub channel publishes.
type Notification struct {
	Version  string   `json:"version"`
	Incident Incident `json:"incident"`
}

// Incident holds the fields we use; everything else is ignored.
type Incident struct {
	ID                   string     `json:"incident_id"`
	ScopingProjectID     string     `json:"scoping_project_id"`
	ScopingProjectNumber FlexString `json:"scoping_project_number"`
	URL                  string     `json:"url"`
	Severity             string     `json:"severity"`
	StartedAt            EpochTime  `json:"started_at"`
	EndedAt              EpochTime  `json:"ended_at"`
	State                string     `json:"state"`
	Summary              string     `json:"summary"`
	Resource             Resource   `json:"resource"`
	ResourceName         string     `json:"resource_name"`
	ResourceDisplayName  string     `json:"resource_display_name"`
	Metric               Metric     `json:"metric"`
	PolicyName           string     `json:"policy_name"`
	PolicyUserLabels     Labels     `json:"policy_user_labels"`
	ConditionName        string     `json:"condition_name"`
	ThresholdValue       FlexString `json:"threshold_value"`
	ObservedValue        FlexString `json:"observed_value"`
}

// UnmarshalJSON accepts incident_id as a string or a number.
func (in *Incident) UnmarshalJSON(b []byte) error {
	type plain Incident
	aux := struct {
		*plain
		ID FlexString `json:"incident_id"`
	}{plain: (*plain)(in)}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	in.ID = string(aux.ID)
	return nil
}

// Resource is the monitored resource the incident is about.
type Resource struct {
	Type   string `json:"type"`
	Labels Labels `json:"labels"`
}

// Metric is the metric the condition watched.
type Metric struct {
	Type        string `json:"type"`
	DisplayName string `json:"displayName"`
	Labels      Labels `json:"labels"`
}

// ErrInvalid is wrapped by every decode error: the message can never be
// processed, so it must be acknowledged, not retried.
var ErrInvalid = errors.New("invalid incident notification")

// MaxSize bounds the message body we accept (Pub/Sub allows 10 MB; a real
// notification is a few KB).
const MaxSize = 1 << 20

// Decode parses a notification. Unknown fields are ignored, numbers sent as
// strings (and the reverse) accepted, state lowercased. It rejects bodies
// that are not a notification at all: no incident, no incident id, or a
// state other than open/closed.
func Decode(data []byte) (*Notification, error) {
	if len(data) > MaxSize {
		return nil, fmt.Errorf("%w: %d bytes exceeds %d", ErrInvalid, len(data), MaxSize)
	}
	var raw struct {
		Version  FlexString       `json:"version"`
		Incident *json.RawMessage `json:"incident"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("%w: not a JSON object: %v", ErrInvalid, err)
	}
	if raw.Incident == nil || string(*raw.Incident) == "null" {
		return nil, fmt.Errorf("%w: no \"incident\" object", ErrInvalid)
	}
	n := &Notification{Version: strings.TrimSpace(string(raw.Version))}
	if err := json.Unmarshal(*raw.Incident, &n.Incident); err != nil {
		return nil, fmt.Errorf("%w: incident: %v", ErrInvalid, err)
	}
	in := &n.Incident
	in.ID = strings.TrimSpace(in.ID)
	in.State = strings.ToLower(strings.TrimSpace(in.State))
	in.Resource.Type = strings.TrimSpace(in.Resource.Type)
	if n.IsTest() {
		return n, nil
	}
	if in.ID == "" {
		return nil, fmt.Errorf("%w: incident.incident_id is missing", ErrInvalid)
	}
	if in.State != StateOpen && in.State != StateClosed {
		return nil, fmt.Errorf("%w: incident.state %q is neither open nor closed", ErrInvalid, in.State)
	}
	return n, nil
}

// IsTest reports whether this is the Monitoring test-channel message, which
// is only logged.
func (n *Notification) IsTest() bool { return strings.EqualFold(n.Version, VersionTest) }

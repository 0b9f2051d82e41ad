// Package report publishes every failover result as a CloudEvent on the
// results topic and as Cloud Monitoring custom metrics. Both are best effort:
// bounded in time, errors logged, never failing the failover itself.
package report

import (
	"fmt"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/google/uuid"

	"github.com/dnsfailover/dnsfailover/internal/failover"
)

// ResultType is the CloudEvent type of a result.
const ResultType = "dev.dnsfailover.failover.result.v1"

// Source returns the CloudEvent source for a function, e.g. //dnsfailover/OnAlert.
func Source(function string) string { return "//dnsfailover/" + function }

// Pub/Sub attributes set on every result message, for subscription filters
// (attributes.outcome = "swapped") and for the CloudEvents Pub/Sub binding.
const (
	AttrContentType = "content-type" // application/cloudevents+json: structured mode
	AttrOutcome     = "outcome"
	AttrRecord      = "record"
	AttrRequestID   = "request_id"
	AttrType        = "ce-type"
)

// StructuredContentType marks a structured-mode CloudEvent.
const StructuredContentType = "application/cloudevents+json"

// NewEvent wraps a result in a CloudEvent: a fresh id, the function as
// source, the record as subject, the result as JSON data.
func NewEvent(function string, res *failover.Result) (event.Event, error) {
	e := event.New(event.CloudEventsVersionV1)
	e.SetID(uuid.NewString())
	e.SetSource(Source(function))
	e.SetType(ResultType)
	if res.Record != "" {
		e.SetSubject(res.Record)
	}
	t := res.Finished
	if t.IsZero() {
		t = time.Now()
	}
	e.SetTime(t.UTC())
	if err := e.SetData(event.ApplicationJSON, res); err != nil {
		return e, fmt.Errorf("result event: encode data: %w", err)
	}
	if err := e.Validate(); err != nil {
		return e, fmt.Errorf("result event: %w", err)
	}
	return e, nil
}

// Encode renders the event in structured JSON mode, with the Pub/Sub
// attributes that go beside it.
func Encode(e event.Event, res *failover.Result) ([]byte, map[string]string, error) {
	b, err := e.MarshalJSON()
	if err != nil {
		return nil, nil, fmt.Errorf("result event: marshal: %w", err)
	}
	attrs := map[string]string{
		AttrContentType: StructuredContentType,
		AttrType:        ResultType,
		AttrOutcome:     string(res.Outcome),
	}
	if res.Record != "" {
		attrs[AttrRecord] = res.Record
	}
	if res.RequestID != "" {
		attrs[AttrRequestID] = res.RequestID
	}
	return b, attrs, nil
}

// DecodeResult parses a structured result event (as a results-topic
// subscriber, the CLI or a test reads it) back into the event and result.
func DecodeResult(data []byte) (*event.Event, *failover.Result, error) {
	e := event.New()
	if err := e.UnmarshalJSON(data); err != nil {
		return nil, nil, fmt.Errorf("result event: %w", err)
	}
	if e.Type() != ResultType {
		return nil, nil, fmt.Errorf("result event: type %q, want %q", e.Type(), ResultType)
	}
	var res failover.Result
	if err := e.DataAs(&res); err != nil {
		return nil, nil, fmt.Errorf("result event: data: %w", err)
	}
	return &e, &res, nil
}

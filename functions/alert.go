package functions

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/dnsfailover/dnsfailover/internal/failover"
	"github.com/dnsfailover/dnsfailover/internal/incident"
	"github.com/dnsfailover/dnsfailover/internal/logging"
	"github.com/dnsfailover/dnsfailover/internal/pubsubmsg"
)

// HandleAlert decodes a Monitoring notification, routes it and runs the
// resulting requests. Closed incidents never fail back.
func (a *App) HandleAlert(ctx context.Context, e event.Event) error {
	started := time.Now()
	log := a.Logger.With("function", NameOnAlert, "event_id", e.ID())
	msg, err := pubsubmsg.Decode(e)
	if err != nil {
		return a.reject(ctx, NameOnAlert, &failover.Result{RequestID: e.ID(), Source: SourceAlert, Started: started}, err, log)
	}
	log = log.With("message_id", msg.MessageID)
	n, err := incident.Decode(msg.Data)
	if err != nil {
		return a.reject(ctx, NameOnAlert, &failover.Result{RequestID: msg.MessageID, Source: SourceAlert, Started: started}, err, log)
	}
	in := &n.Incident
	log = log.With(logging.LabelIncidentID, in.ID, "state", in.State, "policy", in.PolicyName)
	rt, err := incident.Route(ctx, n, a.Config, a.Engine.InstanceRecords, a.Routing)
	if errors.Is(err, incident.ErrUnroutable) {
		res := &failover.Result{RequestID: incident.RequestID(in.ID, rt.Action), Source: SourceAlert, Action: rt.Action, Started: started}
		return a.reject(ctx, NameOnAlert, res, err, log)
	}
	if err != nil {
		err = fmt.Errorf("route incident %s: %w", in.ID, err)
		log.Error("incident routing failed, redelivery may help", "error", err.Error())
		now := time.Now()
		a.Reporters[NameOnAlert].Report(ctx, &failover.Result{RequestID: incident.RequestID(in.ID, rt.Action),
			Source: SourceAlert, Action: rt.Action, Outcome: failover.OutcomeFailed, Error: err.Error(),
			Steps: []failover.Step{}, Started: started, Finished: now})
		return err
	}
	if len(rt.Requests) == 0 {
		if n.IsTest() {
			log.Info("Monitoring test notification received; nothing to do")
		} else {
			log.Warn("incident acknowledged without action: "+rt.Ignored, "records", rt.Records)
		}
		return nil
	}
	log.Info("incident received", "action", string(rt.Action), "records", rt.Records)
	var errs []error
	for _, req := range rt.Requests {
		if err := a.run(ctx, NameOnAlert, req, log); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

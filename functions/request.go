package functions

import (
	"context"
	"encoding/json"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/dnsfailover/dnsfailover/internal/failover"
	"github.com/dnsfailover/dnsfailover/internal/pubsubmsg"
	"github.com/dnsfailover/dnsfailover/internal/request"
)

// HandleRequest decodes a manual request and runs it.
func (a *App) HandleRequest(ctx context.Context, e event.Event) error {
	started := time.Now()
	log := a.Logger.With("function", NameOnRequest, "event_id", e.ID())
	msg, err := pubsubmsg.Decode(e)
	if err != nil {
		return a.reject(ctx, NameOnRequest, &failover.Result{RequestID: e.ID(), Source: SourceManual, Started: started}, err, log)
	}
	log = log.With("message_id", msg.MessageID)
	m, err := request.Decode(msg.Data)
	if err != nil {
		// The sender may be waiting for the result under its request id:
		// carry whatever id and record the body names, even if invalid.
		res := &failover.Result{RequestID: msg.MessageID, Source: SourceManual, Action: failover.ActionFailover, Started: started}
		var hint struct {
			RequestID any `json:"request_id"`
			Record    any `json:"record"`
		}
		if json.Unmarshal(msg.Data, &hint) == nil {
			if s, ok := hint.RequestID.(string); ok && s != "" {
				res.RequestID = s
			}
			if s, ok := hint.Record.(string); ok {
				res.Record = s
			}
		}
		return a.reject(ctx, NameOnRequest, res, err, log)
	}
	return a.run(ctx, NameOnRequest, m.Failover(msg.MessageID), log)
}

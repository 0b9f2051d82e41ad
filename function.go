// Package dnsfailover is the deployable root of the module: the Cloud
// Functions Go buildpack builds only the package at the root of the uploaded
// source, so this file registers the handlers that live in ./functions.
//
//	gcloud functions deploy dnsfailover-alert --gen2 --runtime=go126 --source=. \
//	  --entry-point=OnAlert --trigger-topic=TOPIC --retry ...
package dnsfailover

import (
	"github.com/GoogleCloudPlatform/functions-framework-go/functions"

	handlers "github.com/dnsfailover/dnsfailover/functions"
)

func init() {
	functions.CloudEvent(handlers.NameOnAlert, handlers.OnAlert)
	functions.CloudEvent(handlers.NameOnRequest, handlers.OnRequest)
	// Validate the configuration at cold start: one clear log line if it is
	// bad; the handlers then return that error for every event.
	_ = handlers.Warm()
}

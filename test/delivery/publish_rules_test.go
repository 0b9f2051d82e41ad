package delivery

import (
	"testing"

	"github.com/dnsfailover/dnsfailover/internal/request"
)

// publish-failover.sh must accept exactly what the request function accepts,
// so a request it lets through is never dropped as invalid by the function.
func TestPublishFailoverAgreesWithTheRequestFunction(t *testing.T) {
	needTool(t, "jq")
	s := newStubs(t, "gcloud")
	messages := []string{
		`{"record":"redis-session-staging.staging.internal.","mode":"planned","reason":"maintenance"}`,
		`{"record":"redis-session-staging.staging.internal.","mode":"emergency","reason":"down","target":"10.10.0.6"}`,
		`{"record":"redis-session-staging.staging.internal.","mode":"emergency","reason":"down","target":"10.10.0.6:6378"}`,
		`{"record":"redis-session-staging.staging.internal.","mode":"planned","reason":"r","target":"fd00::6"}`,
		`{"record":"redis-session-staging.staging.internal.","mode":"planned","reason":"r","target":"[fd00::6]:6378"}`,
		`{"record":"redis-session-staging.staging.internal.","mode":"planned","reason":"r","target":"projects/acme-staging/locations/europe-west1/instances/session-b"}`,
		`{"record":"redis-session-staging.staging.internal","mode":"planned","reason":"r","dry_run":true,"request_id":"abc-1"}`,
		`{"record":"a.b.","mode":"planned","reason":"r","target":""}`,
		`{"record":"a.b.","mode":"planned","reason":"r","request_id":""}`,
		`{"record":"a.b.","mode":"planned","reason":"r","target":"projects/acme-staging/locations/europe-west1/instances/Session"}`,
		`{"record":"a.b.","mode":"planned","reason":"r","target":"projects/acme-staging/instances/session-b"}`,
		`{"record":"a.b.","mode":"planned","reason":"r","target":"redis.example.com"}`,
		`{"record":"a.b.","mode":"planned","reason":"r","target":"10.10.0.256"}`,
		`{"record":"a.b.","mode":"planned","reason":"r","target":"10.10.0.6:0"}`,
		`{"record":"a.b.","mode":"planned","reason":"r","target":"0.0.0.0"}`,
		`{"record":"a.b.","mode":"planned","reason":"r","target":"239.1.1.1"}`,
		`{"record":"a.b.","mode":"planned","reason":"r","target":"255.255.255.255"}`,
		`{"record":"a.b.","mode":"planned","reason":"r","target":"ff02::1"}`,
		`{"record":"a.b.","mode":"planned","reason":"r","target":"fd00::6:6378"}`,
		`{"record":"a.b.","mode":"planned","reason":"r","target":7}`,
		`{"record":"a.b.","mode":"fast","reason":"r"}`,
		`{"record":"a.b.","reason":"r"}`,
		`{"record":"a.b.","mode":"planned"}`,
		`{"record":"a.b.","mode":"planned","reason":"   "}`,
		`{"record":"a b","mode":"planned","reason":"r"}`,
		`{"record":"","mode":"planned","reason":"r"}`,
		`{"mode":"planned","reason":"r"}`,
		`{"record":"a.b.","mode":"planned","reason":"r","dry_run":"true"}`,
		`{"record":"a.b.","mode":"planned","reason":"r","request_id":"-x"}`,
		`{"record":"a.b.","mode":"planned","reason":"r","extra":1}`,
		`["a.b."]`,
	}
	for _, msg := range messages {
		_, decodeErr := request.Decode([]byte(msg))
		s.reset()
		r := s.runScript("scripts/publish-failover.sh", "--project=acme-staging", "--dry-run", "--message="+msg)
		scriptOK := r.code == 0
		if scriptOK != (decodeErr == nil) {
			t.Errorf("%s: script accepts=%v (%s), request.Decode error=%v", msg, scriptOK, r.stderr, decodeErr)
		}
	}
}

package sentinel

import (
	"net/netip"
	"testing"

	"github.com/dnsfailover/dnsfailover/internal/request"
)

func TestParseSwitch(t *testing.T) {
	m, ok := parseSwitch("session 10.0.0.5 6379 10.0.0.6 6379", "session")
	if !ok || m.Addr != netip.MustParseAddrPort("10.0.0.6:6379") || !m.Event {
		t.Fatalf("%+v %v", m, ok)
	}
	for _, bad := range []string{
		"other 10.0.0.5 6379 10.0.0.6 6379",         // another master
		"session 10.0.0.5 6379 redis.internal 6379", // hostname: not followed
		"session 10.0.0.5 6379 10.0.0.6 0",
		"session 10.0.0.5 6379 10.0.0.6",
	} {
		if _, ok := parseSwitch(bad, "session"); ok {
			t.Errorf("accepted %q", bad)
		}
	}
}

func TestRequestIDIsValidAndNamesTheSwitch(t *testing.T) {
	for _, m := range []Master{
		{Name: "session", Addr: netip.MustParseAddrPort("10.0.0.6:6379"), Epoch: 7},
		{Name: "weird name/with*chars and a very long tail that goes on and on", Addr: netip.MustParseAddrPort("[fd00::6]:6379"), Epoch: 1},
	} {
		id := m.RequestID()
		r := request.Manual{Record: "r.example.", Mode: "emergency", Reason: "x", RequestID: id}
		if err := r.Validate(); err != nil {
			t.Errorf("%q: %v", id, err)
		}
	}
	a := Master{Name: "session", Addr: netip.MustParseAddrPort("10.0.0.6:6379"), Epoch: 7}
	b := a
	b.Epoch = 8
	if a.RequestID() == b.RequestID() || a.RequestID() != "sentinel:session:10.0.0.6:6379:7" {
		t.Fatalf("%s %s", a.RequestID(), b.RequestID())
	}
}

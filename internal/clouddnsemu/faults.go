package clouddnsemu

import (
	"strings"
	"sync"
	"time"
)

// Faults makes the REST API misbehave on purpose. Each count applies to the next N API calls
// whose "METHOD /path" contains Match (empty Match = every call); 0 turns the fault off.
// When several counts are set, a call takes the first of: drop, 429, 500, 503.
type Faults struct {
	Status429       int
	Status500       int
	Status503       int
	Latency         time.Duration // added to every matching API call while set
	DropConnections int           // hijack and close the connection without writing a response
	Match           string
}

// faultKind is what faultState decided for one call.
type faultKind string

const (
	faultNone faultKind = ""
	fault429  faultKind = "429"
	fault500  faultKind = "500"
	fault503  faultKind = "503"
	faultDrop faultKind = "drop"
)

type faultState struct {
	mu sync.Mutex
	f  Faults
}

func (fs *faultState) set(f Faults) {
	fs.mu.Lock()
	fs.f = f
	fs.mu.Unlock()
}

func (fs *faultState) get() Faults {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.f
}

// take consumes one fault for the call described by target ("METHOD /path").
func (fs *faultState) take(target string) (faultKind, time.Duration) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	f := &fs.f
	if f.Match != "" && !strings.Contains(target, f.Match) {
		return faultNone, 0
	}
	switch {
	case f.DropConnections > 0:
		f.DropConnections--
		return faultDrop, f.Latency
	case f.Status429 > 0:
		f.Status429--
		return fault429, f.Latency
	case f.Status500 > 0:
		f.Status500--
		return fault500, f.Latency
	case f.Status503 > 0:
		f.Status503--
		return fault503, f.Latency
	}
	return faultNone, f.Latency
}

// faultError is the body the real API sends for each injected status.
func faultError(k faultKind) *apiError {
	switch k {
	case fault429:
		return &apiError{Code: 429, Reason: "rateLimitExceeded", Message: "Rate Limit Exceeded (injected by emulator)"}
	case fault500:
		return &apiError{Code: 500, Reason: "internalError", Message: "Internal error encountered (injected by emulator)"}
	default:
		return &apiError{Code: 503, Reason: "backendError", Message: "The service is currently unavailable (injected by emulator)"}
	}
}

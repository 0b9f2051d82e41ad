package clouddnsemu

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// apiError is an error in Google's JSON error envelope, as Cloud DNS returns it.
type apiError struct {
	Code    int
	Reason  string
	Message string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("%d %s: %s", e.Code, e.Reason, e.Message)
}

func errInvalid(format string, args ...any) *apiError {
	return &apiError{Code: http.StatusBadRequest, Reason: "invalid", Message: fmt.Sprintf(format, args...)}
}

func errNotFound(format string, args ...any) *apiError {
	return &apiError{Code: http.StatusNotFound, Reason: "notFound", Message: fmt.Sprintf(format, args...)}
}

func errAlreadyExists(format string, args ...any) *apiError {
	return &apiError{Code: http.StatusConflict, Reason: "alreadyExists", Message: fmt.Sprintf(format, args...)}
}

func errConditionNotMet(format string, args ...any) *apiError {
	return &apiError{Code: http.StatusPreconditionFailed, Reason: "conditionNotMet", Message: fmt.Sprintf(format, args...)}
}

// statusNames maps HTTP codes to the google.rpc status names the real API puts in "status".
var statusNames = map[int]string{
	http.StatusBadRequest:          "INVALID_ARGUMENT",
	http.StatusNotFound:            "NOT_FOUND",
	http.StatusMethodNotAllowed:    "INVALID_ARGUMENT",
	http.StatusConflict:            "ALREADY_EXISTS",
	http.StatusPreconditionFailed:  "FAILED_PRECONDITION",
	http.StatusTooManyRequests:     "RESOURCE_EXHAUSTED",
	http.StatusInternalServerError: "INTERNAL",
	http.StatusServiceUnavailable:  "UNAVAILABLE",
}

type errorItem struct {
	Domain  string `json:"domain"`
	Reason  string `json:"reason"`
	Message string `json:"message"`
}

type errorBody struct {
	Code    int         `json:"code"`
	Message string      `json:"message"`
	Errors  []errorItem `json:"errors"`
	Status  string      `json:"status,omitempty"`
}

func writeAPIError(w http.ResponseWriter, e *apiError) {
	body := struct {
		Error errorBody `json:"error"`
	}{errorBody{
		Code:    e.Code,
		Message: e.Message,
		Errors:  []errorItem{{Domain: "global", Reason: e.Reason, Message: e.Message}},
		Status:  statusNames[e.Code],
	}}
	writeJSON(w, e.Code, body)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "encode response: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(code)
	_, _ = w.Write(append(b, '\n'))
}

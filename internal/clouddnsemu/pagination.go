package clouddnsemu

import (
	"encoding/base64"
	"net/http"
	"strconv"
)

// defaultPageSize is used when maxResults is absent; the real API also picks its own page size.
const defaultPageSize = 1000

// page returns the items after pageToken, at most maxResults of them, and the next token.
// items must be sorted by key (descending when desc); the token encodes the last key returned,
// so concurrent inserts never make a page repeat or skip an item that existed before.
func page[T any](r *http.Request, items []T, key func(T) string, desc bool) ([]T, string, *apiError) {
	q := r.URL.Query()
	size := defaultPageSize
	if v := q.Get("maxResults"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return nil, "", errInvalid("Invalid value for 'parameters.maxResults': '%s'", v)
		}
		if n > 0 {
			size = n
		}
	}
	start := 0
	if tok := q.Get("pageToken"); tok != "" {
		raw, err := base64.RawURLEncoding.DecodeString(tok)
		if err != nil {
			return nil, "", errInvalid("Invalid value for 'parameters.pageToken': '%s'", tok)
		}
		after := string(raw)
		for start < len(items) {
			k := key(items[start])
			if (!desc && k > after) || (desc && k < after) {
				break
			}
			start++
		}
	}
	end := min(start+size, len(items))
	next := ""
	if end < len(items) {
		next = base64.RawURLEncoding.EncodeToString([]byte(key(items[end-1])))
	}
	return items[start:end], next, nil
}

// listBody is a list response; nextPageToken is present only when there is a next page.
func listBody(kind, field string, items any, next string) map[string]any {
	out := map[string]any{"kind": kind, field: items}
	if next != "" {
		out["nextPageToken"] = next
	}
	return out
}

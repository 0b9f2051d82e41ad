// Package dnsrec reads, changes and verifies DNS record sets.
//
// It follows the external-dns split: a Provider applies atomic changes to a
// zone, CompareAndSwap turns a caller's decision into a compare-and-swap
// loop, and a Verifier checks what resolvers actually answer.
package dnsrec

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// RecordSet is one resource record set: every record of one name and type.
type RecordSet struct {
	Name string   // fully qualified, with the trailing dot
	Type string   // "A", "TXT", ...
	TTL  int64    // seconds
	Data []string // rrdatas in presentation format
}

// Key identifies a record set within a zone.
type Key struct {
	Name string
	Type string
}

// Key returns the record set's key.
func (r RecordSet) Key() Key { return Key{Name: r.Name, Type: r.Type} }

// Equal reports whether two record sets hold the same name, type, TTL and data
// (data compared as a set, names case-insensitively).
func (r RecordSet) Equal(o RecordSet) bool {
	if !strings.EqualFold(r.Name, o.Name) || r.Type != o.Type || r.TTL != o.TTL {
		return false
	}
	return SameData(r.Data, o.Data)
}

// SameData reports whether two rrdata lists hold the same values, ignoring order.
func SameData(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(x, y)
}

// String renders the record set like a zone file line, for logs and results.
func (r RecordSet) String() string {
	return fmt.Sprintf("%s %d %s %s", r.Name, r.TTL, r.Type, strings.Join(r.Data, ","))
}

// Clone returns a deep copy.
func (r RecordSet) Clone() RecordSet {
	r.Data = slices.Clone(r.Data)
	return r
}

// Change is a set of deletions and additions applied atomically.
type Change struct {
	Deletions []RecordSet
	Additions []RecordSet
}

// Empty reports whether the change does nothing.
func (c Change) Empty() bool { return len(c.Deletions) == 0 && len(c.Additions) == 0 }

// Errors a Provider reports; wrap-aware, test with errors.Is.
var (
	// ErrNotFound: the zone or record set does not exist (HTTP 404).
	ErrNotFound = errors.New("not found")
	// ErrConflict: a deletion did not match the live record set exactly, so
	// nothing was applied (HTTP 412 conditionNotMet). Re-read and re-decide.
	ErrConflict = errors.New("record set changed concurrently (precondition not met)")
	// ErrExists: an addition collided with an existing record set (HTTP 409).
	ErrExists = errors.New("record set already exists")
	// ErrInvalid: the provider rejected the request as malformed (HTTP 400).
	ErrInvalid = errors.New("invalid change")
)

// FQDN lowercases a name and adds the trailing dot.
func FQDN(name string) string {
	name = strings.ToLower(strings.TrimSpace(name))
	if !strings.HasSuffix(name, ".") {
		name += "."
	}
	return name
}

package dnsrec_test

import (
	"testing"

	"github.com/dnsfailover/dnsfailover/internal/dnsrec"
)

func TestRecordSetEqual(t *testing.T) {
	base := dnsrec.RecordSet{Name: "redis.staging.internal.", Type: "A", TTL: 60, Data: []string{"10.0.0.5", "10.0.0.6"}}
	cases := []struct {
		name string
		o    dnsrec.RecordSet
		want bool
	}{
		{"identical", base.Clone(), true},
		{"data reordered", dnsrec.RecordSet{Name: base.Name, Type: "A", TTL: 60, Data: []string{"10.0.0.6", "10.0.0.5"}}, true},
		{"name case differs", dnsrec.RecordSet{Name: "REDIS.Staging.Internal.", Type: "A", TTL: 60, Data: base.Data}, true},
		{"ttl differs", dnsrec.RecordSet{Name: base.Name, Type: "A", TTL: 300, Data: base.Data}, false},
		{"type differs", dnsrec.RecordSet{Name: base.Name, Type: "AAAA", TTL: 60, Data: base.Data}, false},
		{"name differs", dnsrec.RecordSet{Name: "other.staging.internal.", Type: "A", TTL: 60, Data: base.Data}, false},
		{"subset", dnsrec.RecordSet{Name: base.Name, Type: "A", TTL: 60, Data: []string{"10.0.0.5"}}, false},
		{"duplicate instead of other", dnsrec.RecordSet{Name: base.Name, Type: "A", TTL: 60, Data: []string{"10.0.0.5", "10.0.0.5"}}, false},
		{"empty data", dnsrec.RecordSet{Name: base.Name, Type: "A", TTL: 60}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := base.Equal(c.o); got != c.want {
				t.Errorf("%v.Equal(%v) = %v, want %v", base, c.o, got, c.want)
			}
			if got := c.o.Equal(base); got != c.want {
				t.Errorf("Equal is not symmetric for %v", c.o)
			}
		})
	}
}

func TestSameDataDoesNotReorderInputs(t *testing.T) {
	a := []string{"b", "a"}
	b := []string{"a", "b"}
	if !dnsrec.SameData(a, b) {
		t.Fatal("SameData([b a], [a b]) = false")
	}
	if a[0] != "b" || b[0] != "a" {
		t.Errorf("SameData sorted its arguments in place: %v %v", a, b)
	}
	if dnsrec.SameData([]string{"a", "a", "b"}, []string{"a", "b", "b"}) {
		t.Error("multisets with different counts compared equal")
	}
	if !dnsrec.SameData(nil, []string{}) {
		t.Error("nil and empty should be the same data")
	}
}

func TestCloneIsDeep(t *testing.T) {
	r := dnsrec.RecordSet{Name: "a.", Type: "A", TTL: 1, Data: []string{"10.0.0.5"}}
	c := r.Clone()
	c.Data[0] = "10.0.0.6"
	if r.Data[0] != "10.0.0.5" {
		t.Errorf("Clone shares Data with the original")
	}
}

func TestFQDN(t *testing.T) {
	for in, want := range map[string]string{
		"redis.staging.internal":     "redis.staging.internal.",
		"redis.staging.internal.":    "redis.staging.internal.",
		"  Redis.Staging.INTERNAL  ": "redis.staging.internal.",
		"REDIS.staging.internal.":    "redis.staging.internal.",
		"_dnsfailover.a.b.":          "_dnsfailover.a.b.",
		"":                           ".",
		".":                          ".",
	} {
		if got := dnsrec.FQDN(in); got != want {
			t.Errorf("FQDN(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestChangeEmptyAndKey(t *testing.T) {
	if !(dnsrec.Change{}).Empty() {
		t.Error("zero Change is not Empty")
	}
	r := dnsrec.RecordSet{Name: "a.", Type: "TXT"}
	if (dnsrec.Change{Deletions: []dnsrec.RecordSet{r}}).Empty() {
		t.Error("a change with a deletion is Empty")
	}
	if r.Key() != (dnsrec.Key{Name: "a.", Type: "TXT"}) {
		t.Errorf("Key() = %v", r.Key())
	}
}

// Package index holds the gateway's precomputed DNS data: a map from
// lowercase wire-format name to a Node of ready-to-send answer bytes,
// updated incrementally per Kubernetes object and read lock-free.
package index

import (
	"errors"
	"fmt"
	"hash/maphash"
	"net/netip"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
)

// Endpoint is what a source derives from one object: a DNS name and either
// addresses (A/AAAA) or a canonical name (CNAME).
type Endpoint struct {
	// Name in presentation format; a leading "*." makes it a wildcard.
	Name  string
	Addrs []netip.Addr
	// CNAME target in presentation format (a load balancer hostname or an
	// ExternalName).
	CNAME string
}

// Node is the published data of one name. It is immutable once published.
type Node struct {
	Zone *Zone
	Apex bool
	A    RRSet
	AAAA RRSet
	// CNAME is set only for names without addresses (RFC 1034 §3.6.2).
	CNAME RRSet
	// Target is the CNAME's target as a lowercase wire name, for following
	// it inside the served zones at query time.
	Target string
	// Any is every RRSet of the node for qtype ANY (apex NS/SOA excluded).
	Any RRSet
}

// HasData reports whether the node owns records; a node without any is an
// empty non-terminal (or a bare apex), whose queries get NODATA.
func (n *Node) HasData() bool { return n.Any.Count > 0 }

const numShards = 256

type shardMap = map[string]*Node

// Index is safe for concurrent use: one writer at a time (Apply), any number
// of lock-free readers (Lookup, FindZone).
type Index struct {
	zones map[string]*Zone // apex wire name -> zone; immutable after New
	seed  maphash.Seed

	shards [numShards]atomic.Pointer[shardMap]

	mu      sync.Mutex
	objects map[string][]record      // object key -> its records
	contrib map[string]contributions // name -> each object's records
	entRefs map[string]int           // name -> number of data names below it

	dataNames  atomic.Int64
	lastUpdate atomic.Int64 // unix nanos
	now        func() time.Time
}

// record is a normalized Endpoint.
type record struct {
	name  string // wire
	addrs []netip.Addr
	cname string // wire
}

// New creates an index serving the given zones.
func New(zones []ZoneConfig) (*Index, error) {
	if len(zones) == 0 {
		return nil, errors.New("index: no zones configured")
	}
	ix := &Index{
		zones:   map[string]*Zone{},
		seed:    maphash.MakeSeed(),
		objects: map[string][]record{},
		contrib: map[string]contributions{},
		entRefs: map[string]int{},
		now:     time.Now,
	}
	for i := range ix.shards {
		m := shardMap{}
		ix.shards[i].Store(&m)
	}
	changed := map[string]*Node{}
	for _, zc := range zones {
		z, err := newZone(zc)
		if err != nil {
			return nil, err
		}
		if _, dup := ix.zones[z.Apex]; dup {
			return nil, fmt.Errorf("index: zone %s configured twice", zc.Name)
		}
		ix.zones[z.Apex] = z
	}
	for _, z := range ix.zones {
		changed[z.Apex] = &Node{Zone: z, Apex: true}
	}
	ix.publish(changed)
	// In-zone name servers answer A/AAAA for themselves like any other name.
	for _, zc := range zones {
		var eps []Endpoint
		for _, ns := range zc.NameServers {
			if len(ns.Addrs) > 0 {
				eps = append(eps, Endpoint{Name: ns.Name, Addrs: ns.Addrs})
			}
		}
		if err := ix.Apply("static/nameservers/"+zc.Name, eps); err != nil {
			return nil, fmt.Errorf("index: name server records: %w", err)
		}
	}
	return ix, nil
}

// Zones returns the configured zones.
func (ix *Index) Zones() []*Zone {
	out := make([]*Zone, 0, len(ix.zones))
	for _, z := range ix.zones {
		out = append(out, z)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Apex < out[j].Apex })
	return out
}

// FindZone returns the most specific zone containing the lowercase wire name,
// and the offset of the zone apex inside name.
func (ix *Index) FindZone(name []byte) (*Zone, int) {
	for off := 0; off < len(name); off += 1 + int(name[off]) {
		if z, ok := ix.zones[string(name[off:])]; ok {
			return z, off
		}
		if name[off] == 0 {
			break
		}
	}
	return nil, -1
}

// Lookup returns the node published for the lowercase wire name, or nil.
func (ix *Index) Lookup(name []byte) *Node {
	m := ix.shards[maphash.Bytes(ix.seed, name)%numShards].Load()
	return (*m)[string(name)]
}

// LookupString is Lookup for a name held as a string.
func (ix *Index) LookupString(name string) *Node {
	m := ix.shards[maphash.String(ix.seed, name)%numShards].Load()
	return (*m)[name]
}

// DataNames is the number of names that own records.
func (ix *Index) DataNames() int64 { return ix.dataNames.Load() }

// LastUpdate is when published data last changed.
func (ix *Index) LastUpdate() time.Time {
	n := ix.lastUpdate.Load()
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

// Apply replaces everything object key contributed with eps (nil deletes).
// Names outside every zone are ignored. Invalid endpoints are skipped and
// reported in the returned error; the valid ones are applied.
func (ix *Index) Apply(key string, eps []Endpoint) error {
	recs, errs := ix.normalize(eps)
	ix.mu.Lock()
	defer ix.mu.Unlock()
	old := ix.objects[key]
	if equalRecords(old, recs) {
		return errors.Join(errs...)
	}
	touched := map[string]bool{}
	for _, r := range old {
		ix.contrib[r.name] = ix.contrib[r.name].without(key)
		touched[r.name] = true
	}
	for _, r := range recs {
		c := ix.contrib[r.name]
		if prev, ok := c.get(key); ok { // several endpoints of one object for one name
			r.addrs = append(slices.Clone(prev.addrs), r.addrs...)
			if r.cname == "" {
				r.cname = prev.cname
			}
		}
		ix.contrib[r.name] = c.put(key, r)
		touched[r.name] = true
	}
	if len(recs) == 0 {
		delete(ix.objects, key)
	} else {
		ix.objects[key] = recs
	}

	changed := map[string]*Node{}
	zones := map[*Zone]bool{}
	for name := range touched {
		had := ix.published(name) != nil && ix.published(name).HasData()
		has := len(ix.contrib[name]) > 0
		if !has {
			delete(ix.contrib, name)
		}
		if had != has {
			ix.adjustENT(name, has, changed)
		}
		changed[name] = ix.buildNode(name)
	}
	for name, n := range changed {
		if n != nil {
			zones[n.Zone] = true
		} else if z, _ := ix.FindZone([]byte(name)); z != nil {
			zones[z] = true
		}
	}
	// Serial first: whoever sees the new data also sees the new serial.
	now := ix.now()
	for z := range zones {
		z.bump(now)
	}
	ix.publish(changed)
	ix.lastUpdate.Store(now.UnixNano())
	return errors.Join(errs...)
}

// adjustENT counts a data name appearing (or disappearing) in each ancestor
// between it and its zone apex, so those become empty non-terminals.
func (ix *Index) adjustENT(name string, appeared bool, changed map[string]*Node) {
	z, off := ix.FindZone([]byte(name))
	if z == nil {
		return
	}
	apex := name[off:]
	for a := parent(name); a != "" && a != apex && len(a) > len(apex); a = parent(a) {
		if appeared {
			ix.entRefs[a]++
		} else if ix.entRefs[a]--; ix.entRefs[a] <= 0 {
			delete(ix.entRefs, a)
		}
		changed[a] = ix.buildNode(a)
	}
}

func (ix *Index) published(name string) *Node { return ix.Lookup([]byte(name)) }

// buildNode computes the node for name from all contributions (nil if the
// name does not exist). Called with mu held.
func (ix *Index) buildNode(name string) *Node {
	z, off := ix.FindZone([]byte(name))
	if z == nil {
		return nil
	}
	n := &Node{Zone: z, Apex: off == 0}
	var addrs []netip.Addr
	var cnames []string
	for _, c := range ix.contrib[name] {
		r := c.rec
		addrs = append(addrs, r.addrs...)
		if r.cname != "" {
			cnames = append(cnames, r.cname)
		}
	}
	if len(addrs) == 0 && len(cnames) == 0 && !n.Apex && ix.entRefs[name] == 0 {
		return nil
	}
	slices.SortFunc(addrs, func(a, b netip.Addr) int { return a.Compare(b) })
	addrs = slices.Compact(addrs)
	for _, a := range addrs {
		if a.Is4() {
			n.A.Wire = appendAddrRR(n.A.Wire, questionPointer, a, z.TTL)
			n.A.Count++
		} else {
			n.AAAA.Wire = appendAddrRR(n.AAAA.Wire, questionPointer, a, z.TTL)
			n.AAAA.Count++
		}
	}
	// A CNAME cannot share its name with other data: addresses win, and of
	// several CNAME targets the smallest wins, so every replica agrees.
	if len(addrs) == 0 && len(cnames) > 0 && !n.Apex {
		slices.Sort(cnames)
		n.CNAME = RRSet{Count: 1, Wire: appendRR(nil, dns.TypeCNAME, z.TTL, []byte(cnames[0]))}
		n.Target = cnames[0]
	}
	n.Any.Count = n.A.Count + n.AAAA.Count + n.CNAME.Count
	switch n.Any.Count {
	case n.A.Count:
		n.Any.Wire = n.A.Wire // one set only: share its bytes
	case n.AAAA.Count:
		n.Any.Wire = n.AAAA.Wire
	case n.CNAME.Count:
		n.Any.Wire = n.CNAME.Wire
	default:
		n.Any.Wire = slices.Concat(n.A.Wire, n.AAAA.Wire, n.CNAME.Wire)
	}
	return n
}

// publish installs changed nodes (nil deletes) by copying only the shards
// they live in, so readers never lock.
func (ix *Index) publish(changed map[string]*Node) {
	byShard := map[uint64][]string{}
	for name := range changed {
		s := maphash.String(ix.seed, name) % numShards
		byShard[s] = append(byShard[s], name)
	}
	for s, names := range byShard {
		old := *ix.shards[s].Load()
		m := make(shardMap, len(old)+len(names))
		for k, v := range old {
			m[k] = v
		}
		for _, name := range names {
			prev := m[name]
			n := changed[name]
			if prev != nil && prev.HasData() {
				ix.dataNames.Add(-1)
			}
			if n == nil {
				delete(m, name)
				continue
			}
			if n.HasData() {
				ix.dataNames.Add(1)
			}
			m[name] = n
		}
		ix.shards[s].Store(&m)
	}
}

func (ix *Index) normalize(eps []Endpoint) ([]record, []error) {
	var recs []record
	var errs []error
	for _, ep := range eps {
		name, err := WireName(ep.Name)
		if err != nil {
			errs = append(errs, fmt.Errorf("endpoint: %w", err))
			continue
		}
		z, off := ix.FindZone([]byte(name))
		if z == nil {
			continue // not ours to serve
		}
		r := record{name: name}
		for _, a := range ep.Addrs {
			if !a.IsValid() {
				errs = append(errs, fmt.Errorf("endpoint %s: invalid address", ep.Name))
				continue
			}
			r.addrs = append(r.addrs, a.Unmap())
		}
		if ep.CNAME != "" {
			switch {
			case len(r.addrs) > 0:
				errs = append(errs, fmt.Errorf("endpoint %s: both addresses and CNAME %s; using the addresses", ep.Name, ep.CNAME))
			case off == 0:
				errs = append(errs, fmt.Errorf("endpoint %s: a CNAME at the zone apex is not allowed", ep.Name))
			default:
				if r.cname, err = WireName(ep.CNAME); err != nil {
					errs = append(errs, fmt.Errorf("endpoint %s: CNAME: %w", ep.Name, err))
				}
			}
		}
		if len(r.addrs) == 0 && r.cname == "" {
			continue
		}
		recs = append(recs, r)
	}
	return recs, errs
}

func equalRecords(a, b []record) bool {
	return slices.EqualFunc(a, b, func(x, y record) bool {
		return x.name == y.name && x.cname == y.cname && slices.Equal(x.addrs, y.addrs)
	})
}

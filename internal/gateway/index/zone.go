package index

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
)

// ZoneConfig describes one zone the gateway is authoritative for.
type ZoneConfig struct {
	// Name of the zone apex, e.g. "gw.example.com".
	Name string
	// TTL of every record served from the zone, including the SOA.
	TTL uint32
	// NegativeTTL is the SOA minimum: how long resolvers cache NXDOMAIN and
	// NODATA (RFC 2308). Zero means TTL.
	NegativeTTL uint32
	// NameServers are published as the apex NS records. Addresses of names
	// inside the zone are served as A/AAAA records and as glue.
	NameServers []NameServer
	// Hostmaster is the SOA RNAME; default "hostmaster.<zone>".
	Hostmaster string
}

// NameServer is an NS name and the addresses that glue records give for it.
type NameServer struct {
	Name  string
	Addrs []netip.Addr
}

// Zone is the published, query-side view of a zone: the apex data that does
// not live in per-name nodes (SOA with its changing serial, NS and glue).
type Zone struct {
	Apex string // wire format, lowercase
	TTL  uint32

	// NS is the apex NS RRset, owner compressed to the question name
	// (only valid when the question is the apex).
	NS RRSet
	// Glue is the additional section for NS answers: A/AAAA of in-zone NS names.
	Glue RRSet

	soa atomic.Pointer[soaWire]

	mname, rname string // wire
	negTTL       uint32
	serialMu     sync.Mutex
	serial       uint32
}

type soaWire struct {
	serial uint32
	// rr is one SOA RR whose first two bytes (owner) are a compression pointer
	// to be patched per response.
	rr []byte
}

// SOA returns the SOA record in wire format with its owner pointing at offset
// ownerOff of the message, and the current serial.
func (z *Zone) SOA() (rr []byte, serial uint32) {
	s := z.soa.Load()
	return s.rr, s.serial
}

// Serial is the zone's current SOA serial.
func (z *Zone) Serial() uint32 { return z.soa.Load().serial }

func newZone(cfg ZoneConfig) (*Zone, error) {
	apex, err := WireName(cfg.Name)
	if err != nil {
		return nil, fmt.Errorf("zone: %w", err)
	}
	if apex == "\x00" {
		return nil, fmt.Errorf("zone: refusing to serve the root zone")
	}
	if cfg.TTL == 0 {
		return nil, fmt.Errorf("zone %s: TTL must be positive", cfg.Name)
	}
	if len(cfg.NameServers) == 0 {
		return nil, fmt.Errorf("zone %s: at least one name server is required for the apex NS records", cfg.Name)
	}
	z := &Zone{Apex: apex, TTL: cfg.TTL, negTTL: cfg.NegativeTTL}
	if z.negTTL == 0 {
		z.negTTL = cfg.TTL
	}
	for _, ns := range cfg.NameServers {
		nsWire, err := WireName(ns.Name)
		if err != nil {
			return nil, fmt.Errorf("zone %s: name server: %w", cfg.Name, err)
		}
		z.NS.Wire = appendRR(z.NS.Wire, dns.TypeNS, cfg.TTL, []byte(nsWire))
		z.NS.Count++
		if z.mname == "" {
			z.mname = nsWire
		}
		inZone := isSubdomain(nsWire, apex)
		if !inZone {
			continue // glue only for names inside the zone (RFC 9471)
		}
		if len(ns.Addrs) == 0 {
			return nil, fmt.Errorf("zone %s: in-zone name server %s needs at least one address for glue", cfg.Name, ns.Name)
		}
		for _, a := range ns.Addrs {
			z.Glue.Wire = appendAddrRR(z.Glue.Wire, []byte(nsWire), a, cfg.TTL)
			z.Glue.Count++
		}
	}
	if cfg.Hostmaster != "" {
		if z.rname, err = WireName(cfg.Hostmaster); err != nil {
			return nil, fmt.Errorf("zone %s: hostmaster: %w", cfg.Name, err)
		}
	} else {
		z.rname = "\x0ahostmaster" + apex
	}
	z.setSerial(uint32(time.Now().Unix()))
	return z, nil
}

// bump moves the serial forward after a data change: to the current Unix
// time, or by one when several changes fall into the same second.
func (z *Zone) bump(now time.Time) {
	z.serialMu.Lock()
	defer z.serialMu.Unlock()
	next := uint32(now.Unix())
	if int32(next-z.serial) <= 0 { // RFC 1982 serial arithmetic
		next = z.serial + 1
	}
	z.setSerialLocked(next)
}

func (z *Zone) setSerial(s uint32) {
	z.serialMu.Lock()
	defer z.serialMu.Unlock()
	z.setSerialLocked(s)
}

func (z *Zone) setSerialLocked(s uint32) {
	z.serial = s
	rdata := make([]byte, 0, len(z.mname)+len(z.rname)+20)
	rdata = append(rdata, z.mname...)
	rdata = append(rdata, z.rname...)
	rdata = binary.BigEndian.AppendUint32(rdata, s)
	rdata = binary.BigEndian.AppendUint32(rdata, 7200)    // refresh
	rdata = binary.BigEndian.AppendUint32(rdata, 1800)    // retry
	rdata = binary.BigEndian.AppendUint32(rdata, 1209600) // expire
	rdata = binary.BigEndian.AppendUint32(rdata, z.negTTL)
	// RFC 2308 §3: the SOA TTL in negative answers is min(SOA TTL, minimum).
	ttl := min(z.TTL, z.negTTL)
	z.soa.Store(&soaWire{serial: s, rr: appendRR(nil, dns.TypeSOA, ttl, rdata)})
}

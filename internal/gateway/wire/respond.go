// Package wire answers DNS queries from the precomputed index without
// building message structs: it parses the header, question and OPT record,
// looks up the lowercase name and copies prepacked records into the
// response, patching the ID and keeping the question's case. Anything it does
// not handle goes to the miekg/dns based slow path.
package wire

import (
	"encoding/binary"

	"github.com/dnsfailover/dnsfailover/internal/gateway/index"
	"github.com/miekg/dns"
)

const (
	headerLen = 12
	// MinUDPSize is the payload every DNS client accepts (RFC 1035).
	MinUDPSize = 512
	// DefaultMaxUDPSize is the largest UDP answer we send even if a client
	// advertises more (DNS flag day 2020: avoids IP fragmentation).
	DefaultMaxUDPSize = 1232
	// MaxTCPSize is the largest message over TCP.
	MaxTCPSize = 65535
	optLen     = 11
)

// Result describes an answered query for metrics.
type Result struct {
	Qtype     uint16
	Rcode     int
	Truncated bool
	// Wildcard is set when the answer was synthesized from a wildcard.
	Wildcard bool
	// Slow is set when the miekg/dns path handled the query.
	Slow bool
}

// Responder answers queries from an index.
type Responder struct {
	Index *index.Index
	// MaxUDPSize caps UDP answers (DefaultMaxUDPSize when zero).
	MaxUDPSize int
}

// query is the parsed part of a query message the fast path understands.
type query struct {
	id       uint16
	flags    uint16
	nameLen  int // length of the lowercase wire name in scratch
	qEnd     int // end of the question section in the query
	qtype    uint16
	edns     bool
	udpSize  uint16
	ednsDO   bool
	scratch  [256]byte
	wildcard [258]byte
}

// name is the lowercase wire name of the question. (Keeping a length, not a
// slice into scratch, stops the struct from pointing at itself, which would
// move it to the heap on every query.)
func (p *query) name() []byte { return p.scratch[:p.nameLen] }

// Respond appends the response to q to dst and returns it. limit is the
// transport's size limit before EDNS: MinUDPSize for UDP, MaxTCPSize for TCP.
// A nil response means the packet must be dropped (it is a response itself
// or too short to carry an ID).
func (r *Responder) Respond(dst, q []byte, tcp bool) ([]byte, Result) {
	var p query
	if !p.parse(q) {
		return r.slow(dst, q, tcp)
	}
	return r.answer(dst, q, &p, tcp)
}

// parse accepts only plain queries: QUERY opcode, one IN question, no
// answer/authority records, at most one additional record that must be an
// OPT of version 0, and nothing after it.
func (p *query) parse(q []byte) bool {
	if len(q) < headerLen+5 {
		return false
	}
	p.id = binary.BigEndian.Uint16(q[0:])
	p.flags = binary.BigEndian.Uint16(q[2:])
	if p.flags&0x8000 != 0 || (p.flags>>11)&0xF != dns.OpcodeQuery {
		return false
	}
	if binary.BigEndian.Uint16(q[4:]) != 1 || binary.BigEndian.Uint16(q[6:]) != 0 ||
		binary.BigEndian.Uint16(q[8:]) != 0 {
		return false
	}
	arcount := binary.BigEndian.Uint16(q[10:])
	if arcount > 1 {
		return false
	}
	off := headerLen
	n := 0
	for {
		if off >= len(q) {
			return false
		}
		l := int(q[off])
		if l == 0 {
			p.scratch[n] = 0
			n++
			off++
			break
		}
		if l > 63 || off+1+l > len(q) || n+1+l+1 > 255 {
			return false // compression pointers, bad labels, over-long names
		}
		p.scratch[n] = byte(l)
		for i := 1; i <= l; i++ {
			c := q[off+i]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			p.scratch[n+i] = c
		}
		n += 1 + l
		off += 1 + l
	}
	p.nameLen = n
	if off+4 > len(q) {
		return false
	}
	p.qtype = binary.BigEndian.Uint16(q[off:])
	if binary.BigEndian.Uint16(q[off+2:]) != dns.ClassINET {
		return false
	}
	off += 4
	p.qEnd = off
	if arcount == 1 {
		// OPT: root owner, type 41, class = UDP size, TTL = ext-rcode, version, flags.
		if off+optLen > len(q) || q[off] != 0 || binary.BigEndian.Uint16(q[off+1:]) != dns.TypeOPT {
			return false
		}
		if q[off+6] != 0 { // EDNS version > 0 gets BADVERS from the slow path
			return false
		}
		p.edns = true
		p.udpSize = binary.BigEndian.Uint16(q[off+3:])
		p.ednsDO = q[off+7]&0x80 != 0
		rdlen := int(binary.BigEndian.Uint16(q[off+9:]))
		off += optLen + rdlen // options (cookies, padding, ...) are ignored
	}
	if off != len(q) {
		return false
	}
	switch p.qtype {
	case dns.TypeOPT, dns.TypeAXFR, dns.TypeIXFR, dns.TypeMAILA, dns.TypeMAILB:
		return false
	}
	return true
}

// sizeLimit is the largest response allowed for the query.
func (r *Responder) sizeLimit(p *query, tcp bool) int {
	if tcp {
		return MaxTCPSize
	}
	if !p.edns {
		return MinUDPSize
	}
	limit := r.MaxUDPSize
	if limit == 0 {
		limit = DefaultMaxUDPSize
	}
	return max(MinUDPSize, min(int(p.udpSize), limit))
}

func (r *Responder) answer(dst, q []byte, p *query, tcp bool) ([]byte, Result) {
	res := Result{Qtype: p.qtype}
	start := len(dst)
	name := p.name()
	z, apexOff := r.Index.FindZone(name)
	if z == nil {
		res.Rcode = dns.RcodeRefused
		dst = r.header(dst, q, p, res.Rcode, false, 0, 0, 0)
		dst = r.finish(dst, p)
		return dst, res
	}
	// The apex is a suffix of the question name, so SOA owners compress to it.
	soaOwner := uint16(headerLen + apexOff)

	node, wild := r.find(name, apexOff, &p.wildcard)
	res.Wildcard = wild
	var an, ar []byte
	var anCount, arCount uint16
	apexSOA, apexAny := false, false
	var ch chain
	switch {
	case node == nil:
		res.Rcode = dns.RcodeNameError
	case node.Apex && p.qtype == dns.TypeSOA:
		apexSOA, anCount = true, 1
	case node.Apex && p.qtype == dns.TypeNS:
		an, anCount = z.NS.Wire, z.NS.Count
		ar, arCount = z.Glue.Wire, z.Glue.Count
	default:
		set := rrset(node, p.qtype)
		an, anCount = set.Wire, set.Count
		if node.Apex && p.qtype == dns.TypeANY {
			apexAny = true
			anCount += 1 + z.NS.Count
		}
		if node.Target != "" && p.qtype != dns.TypeCNAME && p.qtype != dns.TypeANY {
			ch = r.follow(z, node.Target, p.qtype, &p.wildcard)
			anCount += ch.count
			res.Rcode = ch.rcode
		}
	}
	var nsCount uint16
	if anCount == 0 || ch.negative {
		nsCount = 1 // RFC 2308: NXDOMAIN and NODATA carry the zone's SOA in authority.
	}
	dst = r.header(dst, q, p, res.Rcode, true, anCount, nsCount, arCount)
	if apexSOA || apexAny {
		dst = appendSOA(dst, z, soaOwner)
	}
	if apexAny {
		dst = append(dst, z.NS.Wire...)
	}
	owner := len(dst) - start + cnameTargetOffset // where a CNAME's target name sits
	dst = append(dst, an...)
	for i := range ch.n {
		at := len(dst)
		dst = append(dst, ch.sets[i].Wire...)
		setOwners(dst[at:], uint16(owner))
		owner = at - start + cnameTargetOffset
	}
	if nsCount > 0 {
		dst = appendSOA(dst, z, soaOwner)
	}
	dst = append(dst, ar...)
	dst = r.finish(dst, p)
	if len(dst)-start > r.sizeLimit(p, tcp) {
		// Too big: send only header, question and OPT with TC set so the
		// client retries over TCP (RFC 7766).
		dst = r.header(dst[:start], q, p, res.Rcode, true, 0, 0, 0)
		dst[start+2] |= 0x02
		dst = r.finish(dst, p)
		res.Truncated = true
	}
	return dst, res
}

// find looks up name, else the wildcard covering it.
func (r *Responder) find(name []byte, apexOff int, buf *[258]byte) (node *index.Node, wildcard bool) {
	if n := r.Index.Lookup(name); n != nil {
		return n, false
	}
	n := r.wildcard(name, apexOff, buf)
	return n, n != nil
}

// maxChain bounds how many in-zone CNAMEs an answer follows (loops too).
const maxChain = 8

// cnameTargetOffset is where the target name starts inside a CNAME record
// whose owner is a compression pointer: pointer, type, class, TTL, length.
const cnameTargetOffset = 2 + 2 + 2 + 4 + 2

// chain is what following a CNAME inside the zone adds to the answer, as an
// authoritative server does (RFC 1034 §4.3.2 step 3a): each hop's records,
// owned by the previous CNAME's target name.
type chain struct {
	n     int
	sets  [maxChain]index.RRSet
	count uint16
	rcode int
	// negative: the chain ends in NXDOMAIN or NODATA inside the zone, so the
	// SOA goes to authority (RFC 2308 §2.1, RFC 6604).
	negative bool
}

// follow chases target while it stays inside zone z. A target outside the
// zone ends the chain with NOERROR: the resolver asks its own servers.
func (r *Responder) follow(z *index.Zone, target string, qtype uint16, buf *[258]byte) chain {
	var ch chain
	var name [256]byte
	for ch.n < maxChain {
		wire := name[:copy(name[:], target)]
		tz, apexOff := r.Index.FindZone(wire)
		if tz != z {
			return ch
		}
		node, _ := r.find(wire, apexOff, buf)
		if node == nil {
			ch.rcode, ch.negative = dns.RcodeNameError, true
			return ch
		}
		set := rrset(node, qtype)
		if set.Count == 0 {
			ch.negative = true // NODATA
			return ch
		}
		ch.sets[ch.n] = set
		ch.n++
		ch.count += set.Count
		if node.Target == "" {
			return ch
		}
		target = node.Target
	}
	return ch
}

// setOwners points the owner of every record in rrs (each owned by a
// compression pointer) at message offset owner.
func setOwners(rrs []byte, owner uint16) {
	for i := 0; i+12 <= len(rrs); {
		binary.BigEndian.PutUint16(rrs[i:], 0xC000|owner)
		i += 12 + int(binary.BigEndian.Uint16(rrs[i+10:]))
	}
}

// rrset picks the records for qtype; a CNAME answers every type but its
// owner's own data types (there are none).
func rrset(n *index.Node, qtype uint16) index.RRSet {
	switch qtype {
	case dns.TypeA:
		if n.A.Count > 0 {
			return n.A
		}
	case dns.TypeAAAA:
		if n.AAAA.Count > 0 {
			return n.AAAA
		}
	case dns.TypeANY:
		return n.Any
	}
	return n.CNAME
}

// wildcard finds the most specific "*.<ancestor>" node within the zone. A
// wildcard covers names any number of labels below it (Gateway API listener
// semantics), and only names that do not exist themselves.
func (r *Responder) wildcard(name []byte, apexOff int, buf *[258]byte) *index.Node {
	for off := 1 + int(name[0]); off <= apexOff; off += 1 + int(name[off]) {
		suffix := name[off:]
		w := buf[:0]
		w = append(w, 1, '*')
		w = append(w, suffix...)
		if n := r.Index.Lookup(w); n != nil {
			return n
		}
		if name[off] == 0 {
			break
		}
	}
	return nil
}

// appendSOA appends the zone's SOA record with its owner compressed to the
// apex at offset owner of the message.
func appendSOA(dst []byte, z *index.Zone, owner uint16) []byte {
	rr, _ := z.SOA()
	at := len(dst)
	dst = append(dst, rr...)
	binary.BigEndian.PutUint16(dst[at:], 0xC000|owner)
	return dst
}

// header appends the response header and the question copied from the query.
func (r *Responder) header(dst, q []byte, p *query, rcode int, aa bool, an, ns, ar uint16) []byte {
	flags := uint16(0x8000) | p.flags&0x0100 | p.flags&0x0010 // QR, RD and CD echoed
	if aa {
		flags |= 0x0400
	}
	flags |= uint16(rcode & 0xF)
	if p.edns {
		ar++
	}
	dst = binary.BigEndian.AppendUint16(dst, p.id)
	dst = binary.BigEndian.AppendUint16(dst, flags)
	dst = binary.BigEndian.AppendUint16(dst, 1)
	dst = binary.BigEndian.AppendUint16(dst, an)
	dst = binary.BigEndian.AppendUint16(dst, ns)
	dst = binary.BigEndian.AppendUint16(dst, ar)
	return append(dst, q[headerLen:p.qEnd]...)
}

// finish appends our OPT record when the query had one (DO is not echoed:
// the gateway does not sign).
func (r *Responder) finish(dst []byte, p *query) []byte {
	if !p.edns {
		return dst
	}
	size := r.MaxUDPSize
	if size == 0 {
		size = DefaultMaxUDPSize
	}
	dst = append(dst, 0)
	dst = binary.BigEndian.AppendUint16(dst, dns.TypeOPT)
	dst = binary.BigEndian.AppendUint16(dst, uint16(size))
	dst = append(dst, 0, 0, 0, 0) // ext-rcode, version, flags
	return binary.BigEndian.AppendUint16(dst, 0)
}

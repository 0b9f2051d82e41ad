package index

import (
	"encoding/binary"
	"net/netip"

	"github.com/miekg/dns"
)

// RRSet is a precomputed answer: Count resource records in wire format whose
// owner names are the compression pointer 0xC00C, i.e. the question name at
// offset 12 of any response. That makes the same bytes valid for an exact
// match and for a wildcard-synthesized answer.
type RRSet struct {
	Count uint16
	Wire  []byte
}

// questionPointer is a compression pointer to the question name at offset 12.
var questionPointer = []byte{0xC0, 0x0C}

// appendRR appends an RR owned by the question name.
func appendRR(b []byte, rrtype uint16, ttl uint32, rdata []byte) []byte {
	b = append(b, questionPointer...)
	return appendRRBody(b, rrtype, ttl, rdata)
}

func appendRRBody(b []byte, rrtype uint16, ttl uint32, rdata []byte) []byte {
	b = binary.BigEndian.AppendUint16(b, rrtype)
	b = binary.BigEndian.AppendUint16(b, dns.ClassINET)
	b = binary.BigEndian.AppendUint32(b, ttl)
	b = binary.BigEndian.AppendUint16(b, uint16(len(rdata)))
	return append(b, rdata...)
}

// appendAddrRR appends an A or AAAA record with an explicit (uncompressed)
// owner, as used for glue.
func appendAddrRR(b []byte, owner []byte, a netip.Addr, ttl uint32) []byte {
	b = append(b, owner...)
	if a.Is4() {
		v := a.As4()
		return appendRRBody(b, dns.TypeA, ttl, v[:])
	}
	v := a.As16()
	return appendRRBody(b, dns.TypeAAAA, ttl, v[:])
}

package wire

import (
	"encoding/binary"

	"github.com/miekg/dns"
)

// slow handles what the fast parser rejected, with miekg/dns: malformed
// packets get FORMERR, other opcodes NOTIMP, EDNS versions above 0 BADVERS,
// other classes REFUSED. A well-formed query that only looked unusual (e.g.
// a compressed question name) is rewritten in plain form and answered by the
// fast path, so both paths give the same answers.
func (r *Responder) slow(dst, q []byte, tcp bool) ([]byte, Result) {
	if len(q) < headerLen || q[2]&0x80 != 0 {
		return nil, Result{Slow: true} // no ID to answer, or a response: drop
	}
	m := new(dns.Msg)
	if err := m.Unpack(q); err != nil {
		return r.slowError(dst, q, nil, dns.RcodeFormatError)
	}
	res := Result{Slow: true}
	if len(m.Question) > 0 {
		res.Qtype = m.Question[0].Qtype
	}
	reply := func(rcode int) ([]byte, Result) {
		out, rr := r.slowError(dst, q, m, rcode)
		rr.Qtype = res.Qtype
		return out, rr
	}
	switch {
	case m.Opcode != dns.OpcodeQuery:
		return reply(dns.RcodeNotImplemented)
	case len(m.Question) != 1 || len(m.Answer) > 0 || len(m.Ns) > 0:
		return reply(dns.RcodeFormatError)
	}
	opt := m.IsEdns0()
	if opt != nil && opt.Version() != 0 {
		return reply(dns.RcodeBadVers)
	}
	qq := m.Question[0]
	if qq.Qclass != dns.ClassINET {
		return reply(dns.RcodeRefused)
	}
	switch qq.Qtype {
	case dns.TypeAXFR, dns.TypeIXFR:
		return reply(dns.RcodeRefused) // no zone transfers
	case dns.TypeOPT, dns.TypeMAILA, dns.TypeMAILB:
		return reply(dns.RcodeNotImplemented)
	}
	plain := new(dns.Msg)
	plain.Id = m.Id
	plain.RecursionDesired = m.RecursionDesired
	plain.CheckingDisabled = m.CheckingDisabled
	plain.Question = []dns.Question{qq}
	if opt != nil {
		plain.SetEdns0(opt.UDPSize(), opt.Do())
	}
	packed, err := plain.Pack()
	if err != nil {
		return reply(dns.RcodeFormatError)
	}
	var p query
	if !p.parse(packed) {
		return reply(dns.RcodeFormatError)
	}
	out, res := r.answer(dst, packed, &p, tcp)
	res.Slow = true
	return out, res
}

// slowError answers with only a header (and the question and OPT when the
// query parsed) carrying rcode.
func (r *Responder) slowError(dst, q []byte, m *dns.Msg, rcode int) ([]byte, Result) {
	res := Result{Rcode: rcode, Slow: true}
	if m == nil {
		flags := uint16(0x8000) | binary.BigEndian.Uint16(q[2:])&0x7900 | uint16(rcode)
		dst = append(dst, q[0], q[1])
		dst = binary.BigEndian.AppendUint16(dst, flags)
		return append(dst, 0, 0, 0, 0, 0, 0, 0, 0), res
	}
	resp := new(dns.Msg)
	resp.SetRcode(m, rcode)
	resp.Authoritative = false
	resp.RecursionAvailable = false
	if len(m.Question) > 1 {
		resp.Question = nil
	}
	if opt := m.IsEdns0(); opt != nil {
		size := r.MaxUDPSize
		if size == 0 {
			size = DefaultMaxUDPSize
		}
		resp.SetEdns0(uint16(size), false)
		resp.IsEdns0().SetExtendedRcode(uint16(rcode))
	}
	out, err := resp.PackBuffer(dst[len(dst):cap(dst)])
	if err != nil {
		return nil, res
	}
	return append(dst, out...), res
}

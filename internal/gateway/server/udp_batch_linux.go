package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/dnsfailover/dnsfailover/internal/gateway/wire"
)

// batchSize is how many datagrams one recvmmsg/sendmmsg moves at most.
// Under load many queries wait in the socket buffer, so one system call
// each way serves a whole batch; when idle a batch is one query.
const batchSize = 32

// maxQuery is the largest query read; longer datagrams (MSG_TRUNC) are
// dropped, as no valid single-question query is that long.
const maxQuery = 4096

// batchConn reads and answers datagrams in batches on one socket.
type batchConn struct {
	raw  syscall.RawConn
	in   [batchSize][maxQuery]byte
	addr [batchSize]unix.RawSockaddrAny
	iovR [batchSize]unix.Iovec
	iovW [batchSize]unix.Iovec
	recv [batchSize]unix.Mmsghdr
	send [batchSize]unix.Mmsghdr
	out  []byte // answers of the current batch, back to back

	// The system-call closures are bound once so a batch allocates nothing;
	// they report through these fields.
	recvFn, sendFn func(fd uintptr) bool
	got, toSend    int
	errno          syscall.Errno
}

func newBatchConn(conn *net.UDPConn) (*batchConn, error) {
	raw, err := conn.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("udp raw conn: %w", err)
	}
	b := &batchConn{raw: raw, out: make([]byte, 0, 64<<10)}
	b.recvFn, b.sendFn = b.recvmmsg, b.sendmmsg
	for i := range batchSize {
		b.iovR[i].Base = &b.in[i][0]
		b.iovR[i].SetLen(maxQuery)
		b.recv[i].Hdr.Iov = &b.iovR[i]
		b.recv[i].Hdr.SetIovlen(1)
		b.send[i].Hdr.Iov = &b.iovW[i]
		b.send[i].Hdr.SetIovlen(1)
	}
	return b, nil
}

// read waits for at least one datagram and returns how many it read.
func (b *batchConn) read() (int, error) {
	for i := range batchSize {
		b.recv[i].Hdr.Name = (*byte)(unsafe.Pointer(&b.addr[i]))
		b.recv[i].Hdr.Namelen = unix.SizeofSockaddrAny
		b.recv[i].Hdr.Flags = 0
	}
	b.got, b.errno = 0, 0
	if err := b.raw.Read(b.recvFn); err != nil {
		return 0, err
	}
	if b.errno != 0 {
		return 0, fmt.Errorf("recvmmsg: %w", b.errno)
	}
	return b.got, nil
}

func (b *batchConn) recvmmsg(fd uintptr) bool {
	r, _, e := unix.Syscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&b.recv[0])), batchSize, 0, 0, 0)
	if e == unix.EAGAIN || e == unix.EINTR {
		return false // wait in the netpoller
	}
	b.got, b.errno = int(r), e
	return true
}

// write sends the first n prepared answers.
func (b *batchConn) write(n int) error {
	b.got, b.toSend, b.errno = 0, n, 0
	if err := b.raw.Write(b.sendFn); err != nil {
		return err
	}
	if b.errno != 0 {
		return fmt.Errorf("sendmmsg: %w", b.errno)
	}
	return nil
}

// sendmmsg sends from b.got up to b.toSend.
func (b *batchConn) sendmmsg(fd uintptr) bool {
	for b.got < b.toSend {
		r, _, e := unix.Syscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&b.send[b.got])), uintptr(b.toSend-b.got), 0, 0, 0)
		switch e {
		case 0:
			b.got += int(r)
		case unix.EAGAIN:
			return false
		case unix.EINTR:
		default:
			// One bad destination fails only its own datagram: skip it.
			b.errno = e
			b.got++
		}
	}
	return true
}

// udpLoop answers on conn with recvmmsg/sendmmsg until ctx ends.
func (s *DNS) udpLoop(ctx context.Context, conn *net.UDPConn) error {
	b, err := newBatchConn(conn)
	if err != nil {
		return err
	}
	var results [batchSize]wire.Result
	for {
		n, err := b.read()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return fmt.Errorf("read udp: %w", err)
		}
		start := time.Now()
		out := b.out[:0]
		k := 0 // answers to send
		for i := range n {
			m := &b.recv[i]
			if m.Hdr.Flags&unix.MSG_TRUNC != 0 {
				s.dropped()
				continue
			}
			at := len(out)
			resp, res := s.Responder.Respond(out, b.in[i][:m.Len], false)
			if resp == nil { // a response or a runt: no answer
				s.dropped()
				continue
			}
			out = resp
			b.iovW[k].Base = &out[at]
			b.iovW[k].SetLen(len(out) - at)
			b.send[k].Hdr.Name = m.Hdr.Name
			b.send[k].Hdr.Namelen = m.Hdr.Namelen
			results[k] = res
			k++
		}
		if cap(out) > cap(b.out) {
			b.out = out[:0] // keep the grown buffer for the next batch
		}
		// Every iovec points into out (or into an earlier backing array
		// that append left behind, still referenced by the iovecs).
		if err := b.write(k); err != nil && s.Log != nil {
			s.Log.Debug("udp write failed", "error", err)
		}
		for i := range k {
			s.Metrics.observe(results[i], false, start)
		}
	}
}

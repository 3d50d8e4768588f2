package lab

import (
	"bytes"
	"net"
	"sync"
	"time"

	"github.com/learnws/learnws/framing"
)

// tap is the TCP connection as the framing.Conn sees it. Every byte the
// Conn reads from the socket and every byte it writes passes through here
// and into a splitter, which cuts each direction into frames — so the lab
// shows what crossed the wire, not what the framer made of it.
type tap struct {
	net.Conn
	pre     []byte // bytes read from the socket before the tap existed (the handshake's bufio.Reader)
	in, out *splitter
	rmu     sync.Mutex
}

func newTap(c net.Conn, pre []byte, in, out *splitter) *tap {
	return &tap{Conn: c, pre: pre, in: in, out: out}
}

func (t *tap) Read(p []byte) (int, error) {
	t.rmu.Lock()
	defer t.rmu.Unlock()
	if len(t.pre) > 0 {
		n := copy(p, t.pre)
		t.pre = t.pre[n:]
		t.in.feed(p[:n])
		return n, nil
	}
	n, err := t.Conn.Read(p)
	if n > 0 {
		t.in.feed(p[:n])
	}
	return n, err
}

// NetConn returns the connection under the tap. framing.Conn looks for it to
// half-close the TCP connection (send its FIN) as soon as it has failed the
// connection, instead of when it gives up waiting for the peer a second later.
func (t *tap) NetConn() net.Conn { return t.Conn }

func (t *tap) Write(p []byte) (int, error) {
	n, err := t.Conn.Write(p)
	if n > 0 {
		t.out.feed(p[:n])
	}
	return n, err
}

// splitter cuts one direction's byte stream into an HTTP head (optional)
// and then frames, and hands each to emit. It keeps at most keep bytes of a
// frame; a frame declaring more is reported as soon as its header is
// complete, and its remaining bytes are counted, never stored.
type splitter struct {
	mu   sync.Mutex
	head bool // still reading the HTTP head
	keep int

	buf       []byte
	hdr       framing.Header
	hdrLen    int
	haveHdr   bool
	remaining uint64 // payload bytes still to come for the current frame
	skipping  bool   // the current frame is too big to keep; its header was reported
	offset    int64  // stream offset of the current frame

	onHead  func(raw []byte, at time.Time)
	onFrame func(raw []byte, complete bool, streamOffset int64, at time.Time)
}

func (s *splitter) feed(p []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	for len(p) > 0 {
		if s.head {
			s.buf = append(s.buf, p...)
			p = nil
			if i := bytes.Index(s.buf, []byte("\r\n\r\n")); i >= 0 {
				raw := s.buf[:i+4]
				rest := append([]byte(nil), s.buf[i+4:]...)
				s.onHead(append([]byte(nil), raw...), now)
				s.head = false
				s.buf = s.buf[:0]
				p = rest
			} else if len(s.buf) > 64<<10 {
				s.onHead(append([]byte(nil), s.buf...), now)
				s.head = false
				s.buf = nil
			}
			continue
		}
		if !s.haveHdr {
			need := 2
			if len(s.buf) >= 2 {
				need = framing.HeaderSize(s.buf[0], s.buf[1])
			} else if len(s.buf) == 1 {
				need = 2
			}
			take := need - len(s.buf)
			if take > len(p) {
				take = len(p)
			}
			s.buf = append(s.buf, p[:take]...)
			p = p[take:]
			if len(s.buf) < 2 {
				continue
			}
			h, n, err := framing.ParseHeader(s.buf)
			if err != nil {
				continue // need more header bytes
			}
			s.hdr, s.hdrLen, s.haveHdr = h, n, true
			s.remaining = h.PayloadLength
			if uint64(s.keep-n) < h.PayloadLength {
				// Too big to keep: report the header now (the frame may
				// never be read in full: the server refuses it with 1009).
				s.skipping = true
				s.onFrame(append([]byte(nil), s.buf...), false, s.offset, now)
			}
		}
		if s.remaining > 0 {
			take := uint64(len(p))
			if take > s.remaining {
				take = s.remaining
			}
			if !s.skipping {
				s.buf = append(s.buf, p[:take]...)
			}
			p = p[take:]
			s.remaining -= take
		}
		if s.remaining == 0 {
			total := int64(s.hdrLen) + int64(s.hdr.PayloadLength)
			if !s.skipping {
				s.onFrame(s.buf, true, s.offset, now)
			}
			s.offset += total
			s.buf = s.buf[:0]
			if cap(s.buf) > 64<<10 {
				s.buf = nil
			}
			s.haveHdr, s.skipping = false, false
		}
	}
}

// flush reports a frame the stream ended inside of.
func (s *splitter) flush() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.head || s.skipping || len(s.buf) == 0 {
		return
	}
	s.onFrame(append([]byte(nil), s.buf...), false, s.offset, time.Now())
	s.buf = nil
}

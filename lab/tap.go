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

// splitter is one direction of a tapped connection: an HTTP head first
// (head: the scripted clients' handshake crosses the tap too), then frames,
// which a framing.Splitter finds; both are handed to onHead and onFrame as
// they complete. Of a frame it keeps at most keep bytes of payload: a frame
// declaring more is reported as soon as its header is complete (the server
// refuses it with 1009 and may never read the rest), and its other bytes
// are counted, never stored. The Conn's reader and its writers feed it from
// their own goroutines, so it has a lock.
type splitter struct {
	mu   sync.Mutex
	head bool // still reading the HTTP head
	keep int  // payload bytes of one frame kept

	buf    []byte            // the HTTP head so far
	frames *framing.Splitter // after the head
	at     time.Time         // when the bytes being split arrived

	onHead  func(raw []byte, at time.Time)
	onFrame func(raw []byte, complete bool, streamOffset int64, at time.Time)
}

// maxHead bounds the HTTP head a splitter waits for.
const maxHead = 64 << 10

func (s *splitter) feed(p []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.at = time.Now()
	if s.head {
		s.buf = append(s.buf, p...)
		i := bytes.Index(s.buf, []byte("\r\n\r\n"))
		switch {
		case i >= 0:
			p = s.buf[i+4:]
			s.onHead(append([]byte(nil), s.buf[:i+4]...), s.at)
		case len(s.buf) > maxHead:
			s.onHead(s.buf, s.at)
			p = nil
		default:
			return
		}
		s.head, s.buf = false, nil
	}
	if s.frames == nil {
		s.frames = framing.NewSplitter(s.keep, s.split)
	}
	s.frames.Write(p)
}

// split reports a frame the framing.Splitter found: once for each frame,
// at its end, or at its header if it is too big to keep.
func (s *splitter) split(f framing.SplitFrame) {
	switch {
	case f.Kind == framing.FrameTooBig:
		s.onFrame(append([]byte(nil), f.Raw...), false, f.Offset, s.at)
	case f.Header.PayloadLength > uint64(s.keep):
		// Reported at its header already.
	default:
		s.onFrame(f.Raw, f.Kind == framing.FrameComplete, f.Offset, s.at)
	}
}

// flush reports a frame the stream ended inside of.
func (s *splitter) flush() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.frames != nil {
		s.at = time.Now()
		s.frames.Close()
	}
}

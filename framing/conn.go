package framing

import (
	"bufio"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// DefaultMaxMessageSize is the message size limit of a [Conn] whose
// [Options.MaxMessageSize] is 0: 32 MiB.
const DefaultMaxMessageSize = 32 << 20

const (
	// closeTimeout bounds every wait of the closing handshake: how long
	// Close waits for the peer's close frame, and how long sending a close
	// frame may block before the TCP connection is closed anyway.
	closeTimeout = 5 * time.Second
	// closeLinger is how long a client waits, after the close handshake, for
	// the server to close the TCP connection first (§7.1.1).
	closeLinger = time.Second

	readChunk      = 64 << 10 // payload bytes read (and UTF-8 checked) per step
	allocStep      = 1 << 20  // a message buffer grows by at most this much ahead of the data
	writeCopyLimit = 8 << 10  // payloads up to this size are copied beside the header: one write
	// copyLimitNoWritev is the same for a connection that cannot gather
	// writes (writev), such as a net.Conn wrapped to count bytes.
	copyLimitNoWritev = 64 << 10
	maskChunk         = 32 << 10 // a client masks a copy of its payload this much at a time
)

// ErrClosed is returned by the write methods of a [Conn] once a close frame
// has been sent: "After sending a Close frame, the endpoint MUST NOT send any
// more data frames" (§5.5.1).
var ErrClosed = errors.New("framing: close frame already sent")

// Options configures a [Conn]. The zero value (or a nil *Options) is ready to
// use.
type Options struct {
	// MaxMessageSize is the largest message ReadMessage accepts, in bytes,
	// counting all fragments; 0 means DefaultMaxMessageSize. A frame that
	// would take a message past it fails the connection with 1009 before any
	// of its payload is read or any memory is set aside for it.
	MaxMessageSize int64
	// Trace, if not nil, is called for every frame read or written, with
	// the frame's wire bytes (see [TraceEvent]). It is called synchronously:
	// from the goroutine calling ReadMessage for frames read, and with the
	// write lock held for frames written, so it must be quick and must not
	// write to the same Conn. When Trace is nil, tracing costs nothing.
	Trace func(TraceEvent)
	// Rand is where a client's masking keys come from; nil means
	// crypto/rand. §5.3: the masking key "MUST be derived from a strong
	// source of entropy". Tests and lessons may pass a fixed reader.
	Rand io.Reader
	// OnPing, if not nil, is called with the payload of each ping received,
	// before the pong is sent. OnPong is called with the payload of each
	// pong received. The slice is only valid during the call. Both run on
	// the reader's goroutine, inside ReadMessage: they must return quickly
	// and must not call ReadMessage or Close (Close waits for the reader,
	// which would be waiting for the callback); writing is fine.
	OnPing func([]byte)
	OnPong func([]byte)
	// ReadBufferSize is the least size of the buffered reader frames are
	// read through; 0 means DefaultReadBufferSize. A bigger buffer saves read
	// calls when a peer sends large messages in small pieces (gorilla's
	// client writes 4 KiB fragments: with 32 KiB, eight of them take one read
	// call), at that many bytes of memory per connection.
	ReadBufferSize int
	// WriteTimeout, if not 0, bounds the write of each frame: every frame
	// written (messages, pings, the pongs ReadMessage sends, close frames)
	// gets a write deadline of its own, WriteTimeout from when its write
	// begins, so a peer that stops reading cannot hold a writer forever, and
	// a deadline never outlives the frame it was set for. It replaces any
	// deadline set with SetWriteDeadline. A frame that times out leaves the
	// connection unusable for writing.
	WriteTimeout time.Duration
}

// DefaultReadBufferSize is Options.ReadBufferSize when none is given: the
// size of the reader net/http hands over after hijacking, so a server that
// holds thousands of quiet connections pays no more for them than for HTTP.
const DefaultReadBufferSize = 4 << 10

// CloseError is how a connection ended, as ReadMessage reports it.
//
// Remote is true when the code and reason came from the peer: its close
// frame (the closing handshake completed, §7.1.2), or, with Code
// [CloseAbnormal] (1006), the TCP connection ending without one. Remote is
// false when this endpoint failed the connection (§7.1.7) because the peer
// broke a rule: Code and Reason are what was sent in our close frame.
// When ReadMessage returns a *CloseError, the TCP connection is closed.
type CloseError struct {
	Code   CloseCode
	Reason string
	Remote bool
}

// Error says who ended the connection, with the code, its name and the
// reason, for example "framing: peer closed the connection: 1000 (normal
// closure): bye".
func (e *CloseError) Error() string {
	var s string
	if e.Remote {
		s = "framing: peer closed the connection: " + e.Code.String()
	} else {
		s = "framing: failed the connection: " + e.Code.String()
	}
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	return s
}

// Conn is a WebSocket connection after the opening handshake: it turns
// frames into messages and back (RFC 6455 §5, §6), and runs the closing
// handshake (§7).
//
// One goroutine may call ReadMessage at a time. Any number of goroutines may
// call WriteMessage, WriteFrame, Ping and Close at the same time as each
// other and as the reader: each frame is written whole, under a lock, so a
// ping can go out between two fragments or two messages of another writer.
type Conn struct {
	conn   net.Conn
	br     *bufio.Reader
	role   Role
	max    int64
	trace  func(TraceEvent)
	rand   io.Reader
	onPing func([]byte)
	onPong func([]byte)
	wtime  time.Duration // Options.WriteTimeout

	// Read side, owned by whoever holds rsem (ReadMessage, or Close when no
	// ReadMessage is running).
	rsem     chan struct{}
	readDone chan struct{} // closed when the read side has ended; readErr says how
	readErr  error
	state    MessageState // §5.4 and §8.1 across frames: the message being received
	msg      []byte       // dst of AppendMessage, with the message so far after msgStart
	msgStart int          // len(dst): where the message begins in msg
	ctrl     [MaxControlPayload]byte
	tr       readTrace

	// Write side, guarded by wmu.
	wmu       sync.Mutex
	wbuf      []byte
	bufs      [2][]byte
	nb        net.Buffers
	key       [4]byte
	closeSent bool
	werr      error
	writev    bool // conn gathers net.Buffers in one system call
}

// NewConn returns a Conn that speaks WebSocket over c, the connection left
// by the opening handshake. role is this endpoint's role: RoleServer if it
// accepted the handshake, RoleClient if it sent it; it decides the masking
// rules (§5.1). br, if not nil, must read from c: pass the reader used during
// the handshake, since it may already hold the peer's first frames (if br is
// smaller than Options.ReadBufferSize, Conn reads through a bigger buffer on
// top of it). opt may be nil.
func NewConn(c net.Conn, br *bufio.Reader, role Role, opt *Options) *Conn {
	size := DefaultReadBufferSize
	if opt != nil && opt.ReadBufferSize > 0 {
		size = opt.ReadBufferSize
	}
	if br == nil {
		br = bufio.NewReaderSize(c, size)
	} else if br.Size() < size {
		br = bufio.NewReaderSize(br, size)
	}
	conn := &Conn{
		conn:     c,
		br:       br,
		role:     role,
		max:      DefaultMaxMessageSize,
		rsem:     make(chan struct{}, 1),
		readDone: make(chan struct{}),
	}
	switch c.(type) {
	case *net.TCPConn, *net.UnixConn:
		conn.writev = true
	}
	if opt != nil {
		if opt.MaxMessageSize > 0 {
			conn.max = opt.MaxMessageSize
		}
		conn.trace = opt.Trace
		conn.rand = opt.Rand
		conn.onPing = opt.OnPing
		conn.onPong = opt.OnPong
		conn.wtime = opt.WriteTimeout
	}
	if int64(int(conn.max)) != conn.max { // 32-bit platforms
		conn.max = int64(^uint(0) >> 1)
	}
	return conn
}

// NetConn returns the underlying connection.
func (c *Conn) NetConn() net.Conn { return c.conn }

// SetReadDeadline sets the deadline of the underlying connection's reads.
// A read that times out leaves the connection unusable for reading (a frame
// may have been cut in two); call Close.
func (c *Conn) SetReadDeadline(t time.Time) error { return c.conn.SetReadDeadline(t) }

// SetWriteDeadline sets the deadline of the underlying connection's writes.
// A write that times out leaves the connection unusable for writing.
func (c *Conn) SetWriteDeadline(t time.Time) error { return c.conn.SetWriteDeadline(t) }

// ReadMessage returns the next text or binary message, its fragments put
// back together (§5.4). On the way it answers pings with pongs carrying the
// same payload (§5.5.2, §5.5.3), ignores pongs (after calling OnPong), and
// checks every rule of RFC 6455 a receiver must: when the peer breaks one,
// ReadMessage fails the connection (§7.1.7: close frame with the rule's code,
// then TCP close, after waiting at most a second for the peer to close its
// side) and returns a *CloseError with Remote false. When the peer
// sends a close frame, ReadMessage answers it with the same code (§5.5.1),
// closes the TCP connection and returns a *CloseError with Remote true.
//
// The returned slice is the caller's to keep; it is never nil, even for an
// empty message. Errors are sticky: once ReadMessage has returned an error,
// it returns the same error again. ReadMessage is AppendMessage(nil); a
// loop that reads many messages allocates less with AppendMessage.
func (c *Conn) ReadMessage() (Opcode, []byte, error) {
	return c.AppendMessage(nil)
}

// AppendMessage reads the next message exactly as ReadMessage does, and
// appends its payload, the fragments put back together (§5.4), to dst. It
// returns the extended slice, in the style of strconv.AppendInt: a loop that
// passes back what it got, emptied,
//
//	var buf []byte
//	for {
//		op, buf, err = conn.AppendMessage(buf[:0])
//		...
//	}
//
// reuses one buffer and, once it is big enough, allocates nothing. The
// message is written over dst's spare capacity: keep no other slice of it.
//
// Options.MaxMessageSize counts the message only, not the bytes already in
// dst, and is still checked before a frame's payload is read. Memory grows
// with the bytes that arrive: a frame's declared length sets aside at most
// 1 MiB ahead of them, and a message in many fragments grows the buffer by
// doubling. On error, AppendMessage returns dst as it was (its length
// unchanged) with the error.
func (c *Conn) AppendMessage(dst []byte) (Opcode, []byte, error) {
	c.rsem <- struct{}{}
	op, p, err := c.readMessage(dst)
	<-c.rsem
	return op, p, err
}

// readMessage does the work of AppendMessage; the caller holds rsem.
func (c *Conn) readMessage(dst []byte) (Opcode, []byte, error) {
	if c.readErr != nil {
		return 0, dst, c.readErr
	}
	// A message never spans two calls: readMessage returns only when one is
	// complete or the read side has ended.
	c.msg, c.msgStart = dst, len(dst)
	for {
		op, p, err := c.readFrame()
		if err != nil {
			c.msg = nil
			c.readErr = err
			close(c.readDone)
			return 0, dst, err
		}
		if op != 0 {
			if p == nil {
				p = []byte{}
			}
			return op, p, nil
		}
	}
}

// readFrame reads and handles one frame. It returns a message (op != 0) when
// the frame completed one, and an error when the read side has ended.
func (c *Conn) readFrame() (Opcode, []byte, error) {
	h, err := c.readHeader()
	if err != nil {
		return 0, nil, err
	}

	// Parse, then check, then act: the first rule broken fails the
	// connection, with the rule's close code.
	if errs := h.Check(c.role, &c.state); len(errs) > 0 {
		return c.failFrame(errs[0])
	}
	// Limits before allocation: a declared length is checked before a byte
	// of the payload is read or any memory is set aside for it. §10.4:
	// "Implementations that have implementation- and/or platform-specific
	// limitations regarding the frame size or total message size after
	// reassembly from multiple frames MUST protect themselves against
	// exceeding those limits."
	if got := uint64(len(c.msg) - c.msgStart); !h.Opcode.IsControl() && h.PayloadLength > uint64(c.max)-got {
		return c.failFrame(violation(RuleMessageTooBig, lengthField(h),
			strconv.FormatUint(satAdd(got, h.PayloadLength), 10), strconv.FormatInt(c.max, 10)))
	}

	c.state.StartFrame(h)
	if h.Opcode.IsControl() {
		return c.readControl(h)
	}
	if h.Opcode != OpContinuation { // a new message (Check made sure none was under way)
		c.msg = c.msg[:c.msgStart]
	}
	if err := c.readPayload(h); err != nil {
		return 0, nil, err
	}
	op, _ := c.state.Message()
	if err := c.state.EndFrame(); err != nil {
		return c.failFrame(err)
	}
	c.traceReadDone(nil)
	if !h.Fin {
		return 0, nil, nil
	}
	p := c.msg
	c.msg = nil // the caller's now: drop our reference
	return op, p, nil
}

// readHeader reads one frame header through the buffered reader without
// copying it, and starts the frame's trace.
func (c *Conn) readHeader() (Header, error) {
	b, err := c.br.Peek(2)
	if err != nil {
		return Header{}, c.readFailed(err, len(b) > 0)
	}
	n := HeaderSize(b[0], b[1])
	if b, err = c.br.Peek(n); err != nil {
		return Header{}, c.readFailed(err, true)
	}
	h, _, err := ParseHeader(b)
	if err != nil { // cannot happen: b holds the whole header
		return Header{}, c.readFailed(err, true)
	}
	if c.trace != nil {
		c.traceReadStart(h, b)
	}
	c.br.Discard(n)
	return h, nil
}

// readPayload appends the payload of data frame h to c.msg, unmasking it
// and passing it to c.state as it goes, so that a bad UTF-8 byte fails the
// connection without waiting for the rest of a long frame.
//
// Limits before allocation (the frame's length was checked against the
// limit before this is called), and memory in proportion to what arrives:
// when c.msg is full, it grows by as much as the message holds so far
// (doubling: a message in many fragments costs amortized O(1) copies), or,
// if more, to the end of this frame but at most allocStep (1 MiB) ahead, so
// that a lying length costs at most 1 MiB; never past the end of a final
// frame, nor past the limit.
func (c *Conn) readPayload(h Header) error {
	remaining := int(h.PayloadLength) // fits: checked against c.max
	pos := 0
	for remaining > 0 {
		n := min(remaining, readChunk)
		if cap(c.msg)-len(c.msg) < n {
			got := len(c.msg) - c.msgStart
			more := max(got, n, min(remaining, allocStep))
			if h.Fin {
				more = min(more, remaining)
			}
			more = min(more, int(c.max)-got) // >= remaining >= n: checked
			if len(c.msg) == 0 {
				c.msg = make([]byte, 0, more) // nothing to keep
			} else {
				// Unlike make and copy, slices.Grow does not clear the
				// bytes it is about to copy over.
				c.msg = slices.Grow(c.msg, more)
			}
		}
		// Take what has arrived (at least one byte), not a whole chunk: text
		// is then checked as it comes, and a bad byte fails the connection
		// while the rest of its frame is still on the way (§8.1 "fail fast";
		// Autobahn cases 6.4.3 and 6.4.4).
		start := len(c.msg)
		got, err := c.br.Read(c.msg[start : start+n])
		if got == 0 {
			if err == nil {
				err = io.ErrNoProgress
			}
			c.traceReadDone(err)
			return c.readFailed(err, true)
		}
		n = got
		seg := c.msg[start : start+n]
		c.msg = c.msg[:start+n]
		if c.trace != nil {
			c.traceReadPayload(seg)
		}
		if h.Masked {
			pos = Mask(h.MaskingKey, pos, seg)
		}
		if perr := c.state.Payload(seg); perr != nil {
			_, _, err := c.failFrame(perr)
			return err
		}
		remaining -= n
	}
	return nil
}

// readControl reads the payload of control frame h (at most 125 bytes, as
// Check made sure) and acts on it.
func (c *Conn) readControl(h Header) (Opcode, []byte, error) {
	p := c.ctrl[:h.PayloadLength]
	if _, err := io.ReadFull(c.br, p); err != nil {
		c.traceReadDone(err)
		return 0, nil, c.readFailed(err, true)
	}
	if c.trace != nil {
		c.traceReadPayload(p)
	}
	if h.Masked {
		Mask(h.MaskingKey, 0, p)
	}
	switch h.Opcode {
	case OpPing:
		c.traceReadDone(nil)
		if c.onPing != nil {
			c.onPing(p)
		}
		// §5.5.2: "Upon receipt of a Ping frame, an endpoint MUST send a
		// Pong frame in response ... A Pong frame sent in response to a Ping
		// frame must have identical "Application data" as found in the
		// message body of the Ping frame being replied to."
		c.wmu.Lock()
		var err error
		if !c.closeSent {
			err = c.writeFrameLocked(Header{Fin: true, Opcode: OpPong}, p)
		}
		c.wmu.Unlock()
		if err != nil {
			return 0, nil, err
		}
	case OpPong:
		// §5.5.3: "A response to an unsolicited Pong frame is not expected."
		c.traceReadDone(nil)
		if c.onPong != nil {
			c.onPong(p)
		}
	case OpClose:
		code, reason, err := ParseClosePayload(p)
		if err != nil {
			return c.failFrame(err.(*ProtocolError)) // its only kind of error
		}
		c.traceReadDone(nil)
		// §5.5.1: "If an endpoint receives a Close frame and did not
		// previously send a Close frame, the endpoint MUST send a Close
		// frame in response. ... it typically echos the status code it
		// received."
		var echo []byte
		if code != CloseNoStatus {
			echo = AppendClosePayload(c.ctrl[:0], code, "")
		}
		c.sendClose(echo)
		c.closeTCP()
		return 0, nil, &CloseError{Code: code, Reason: reason, Remote: true}
	}
	return 0, nil, nil
}

// failFrame ends the trace of the current frame with the rule it broke and
// fails the connection with the rule's close code.
func (c *Conn) failFrame(e *ProtocolError) (Opcode, []byte, error) {
	if c.trace != nil {
		c.traceReadDone(e)
	}
	return 0, nil, c.fail(e.Code, e.Reason)
}

// fail is "_Fail the WebSocket Connection_" (§7.1.7): the endpoint "MUST
// _Close the WebSocket Connection_", and "if _The WebSocket Connection is
// Established_ prior to the point where the endpoint is required to _Fail
// the WebSocket Connection_, the endpoint SHOULD send a Close frame with an
// appropriate status code (Section 7.4) before proceeding to _Close the
// WebSocket Connection_". We always do, so the peer learns why.
//
// The TCP connection is not closed at once: the peer may have sent bytes we
// have not read (the rest of a bad frame, more messages), and closing a
// socket with unread data makes the kernel answer with RST instead of FIN; a
// peer that receives the RST may drop our close frame before reading it. So
// after the close frame we stop writing (a FIN, §7.1.1: the server closes
// first), read and discard what the peer still sends until it closes its side
// too, and only then close. The wait is bounded (failLinger, failDrainLimit)
// so that a peer that keeps sending cannot hold the connection.
func (c *Conn) fail(code CloseCode, reason string) error {
	reason = shortReason(reason)
	if c.sendClose(AppendClosePayload(make([]byte, 0, 2+len(reason)), code, reason)) == nil {
		c.drain()
	}
	c.conn.Close()
	return &CloseError{Code: code, Reason: reason, Remote: false}
}

const (
	// failLinger and failDrainLimit bound how long, and how many bytes, a
	// failing Conn reads and discards before closing the TCP connection.
	failLinger     = time.Second
	failDrainLimit = 4 << 20
)

// drain half-closes the connection, if it can, and reads and discards what
// the peer sends until EOF, failLinger or failDrainLimit bytes, whichever
// comes first. The caller holds the read side.
func (c *Conn) drain() {
	closeWrite(c.conn)
	c.conn.SetReadDeadline(time.Now().Add(failLinger))
	// In case the connection ignores deadlines: closing it ends the read.
	t := time.AfterFunc(2*failLinger, func() { c.conn.Close() })
	defer t.Stop()
	io.CopyN(io.Discard, c.br, failDrainLimit)
}

// closeWrite shuts down the writing side of c (TCP: sends FIN) if c, or the
// connection it wraps (a NetConn method, as package wire's Conn has), can.
func closeWrite(c net.Conn) {
	for range 4 {
		switch cc := c.(type) {
		case interface{ CloseWrite() error }:
			cc.CloseWrite()
			return
		case interface{ NetConn() net.Conn }:
			c = cc.NetConn()
		default:
			return
		}
	}
}

// sendClose sends a close frame with the given payload unless one was sent
// already. It gives up after closeTimeout (a writer may be blocked on a peer
// that does not read) by closing the TCP connection.
func (c *Conn) sendClose(payload []byte) error {
	t := time.AfterFunc(closeTimeout, func() { c.conn.Close() })
	defer t.Stop()
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.closeSent {
		return nil
	}
	c.closeSent = true
	return c.writeFrameLocked(Header{Fin: true, Opcode: OpClose}, payload)
}

// closeTCP closes the TCP connection once the closing handshake is done.
// §7.1.1: "the underlying TCP connection, in most normal cases, SHOULD be
// closed first by the server", so a client first waits a little for the
// server's FIN.
func (c *Conn) closeTCP() {
	if c.role == RoleClient {
		c.conn.SetReadDeadline(time.Now().Add(closeLinger))
		io.Copy(io.Discard, c.br)
	}
	c.conn.Close()
}

// readFailed turns an error of the underlying reader into what ReadMessage
// returns. The TCP connection ending without a close frame is 1006
// (§7.1.5: "If _The WebSocket Connection is Closed_ and no Close control
// frame was received by the endpoint ... _The WebSocket Connection Close
// Code_ is considered to be 1006").
func (c *Conn) readFailed(err error, midFrame bool) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		c.conn.Close()
		reason := "connection closed without a close frame"
		if midFrame {
			reason = "connection closed in the middle of a frame"
		}
		return &CloseError{Code: CloseAbnormal, Reason: reason, Remote: true}
	}
	return fmt.Errorf("framing: read: %w", err)
}

// traceReadDone reports the frame being read, if tracing.
func (c *Conn) traceReadDone(err error) {
	if c.trace != nil {
		c.traceReadEnd(err)
	}
}

// WriteMessage sends p as one unfragmented message (FIN set) of type op,
// which must be OpText or OpBinary. For text, p must be UTF-8: WriteMessage
// does not check it. It returns ErrClosed once a close frame has been sent.
func (c *Conn) WriteMessage(op Opcode, p []byte) error {
	if op != OpText && op != OpBinary {
		return fmt.Errorf("framing: WriteMessage sends text or binary messages, not %s; use Ping, Close or WriteFrame", op)
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.closeSent {
		return ErrClosed
	}
	return c.writeFrameLocked(Header{Fin: true, Opcode: op}, p)
}

// WriteFrame sends one frame with header h and payload p as it is, legal or
// not, so that fragments, control frames and deliberately broken frames can
// be sent. Only the masking follows the role (§5.1): a client sets Masked and
// a fresh masking key from Options.Rand; a server clears Masked. The payload
// length is len(p), in the form h.LengthBytes asks for if that is longer than
// the minimal one. Sending a close frame this way counts as sending one for
// Close and WriteMessage.
func (c *Conn) WriteFrame(h Header, p []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if h.Opcode == OpClose {
		c.closeSent = true
	}
	return c.writeFrameLocked(h, p)
}

// Ping sends a ping with payload p, at most 125 bytes (§5.5). The peer's pong
// arrives through ReadMessage, which calls Options.OnPong.
func (c *Conn) Ping(p []byte) error {
	if len(p) > MaxControlPayload {
		return fmt.Errorf("framing: ping payload is %d bytes; control frames carry at most 125", len(p))
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.closeSent {
		return ErrClosed
	}
	return c.writeFrameLocked(Header{Fin: true, Opcode: OpPing}, p)
}

// Close runs the closing handshake (§7.1.2): it sends a close frame with
// code and reason, waits for the peer's close frame (at most 5 seconds),
// then closes the TCP connection. It may be called while another goroutine
// is blocked in ReadMessage: that ReadMessage receives the peer's reply and
// returns it as a *CloseError. Without a concurrent reader, Close reads (and
// discards) incoming messages itself until the reply arrives.
//
// code must be valid on the wire, or CloseNoStatus to send a close frame
// without a body; reason is at most 123 bytes of UTF-8. Close returns nil
// when the handshake completed, also when it had already completed.
func (c *Conn) Close(code CloseCode, reason string) error {
	var payload []byte
	switch {
	case code == CloseNoStatus && reason == "":
	case !code.ValidOnWire():
		return fmt.Errorf("framing: close code %s may not be sent in a close frame", code)
	case len(reason) > MaxControlPayload-2:
		return fmt.Errorf("framing: close reason is %d bytes; at most 123 fit in a close frame", len(reason))
	case !utf8.ValidString(reason):
		return errors.New("framing: close reason is not valid UTF-8")
	default:
		payload = AppendClosePayload(nil, code, reason)
	}

	timer := time.AfterFunc(closeTimeout, func() { c.conn.Close() })
	defer timer.Stop()
	if err := c.sendClose(payload); err != nil {
		c.conn.Close()
		return err
	}
	// Wait for the peer's close: either a running ReadMessage gets it, or
	// we read it ourselves. The timer bounds both.
	select {
	case <-c.readDone:
	case c.rsem <- struct{}{}:
		var buf []byte
		for c.readErr == nil {
			_, buf, _ = c.readMessage(buf[:0])
		}
		<-c.rsem
	}
	c.conn.Close()
	var ce *CloseError
	if errors.As(c.readErr, &ce) && ce.Remote && ce.Code != CloseAbnormal {
		return nil
	}
	return fmt.Errorf("framing: closing handshake not completed: %w", c.readErr)
}

// writeFrameLocked writes one frame; the caller holds wmu. It fills in the
// payload length and the masking of the role.
func (c *Conn) writeFrameLocked(h Header, p []byte) error {
	if c.werr != nil {
		return c.werr
	}
	h.PayloadLength = uint64(len(p))
	if c.role == RoleClient {
		// §5.3: "The masking key is a 32-bit value chosen at random by the
		// client. When preparing a masked frame, the client MUST pick a
		// fresh masking key from the set of allowed 32-bit values."
		if c.rand == nil {
			rand.Read(c.key[:])
		} else if _, err := io.ReadFull(c.rand, c.key[:]); err != nil {
			return fmt.Errorf("framing: masking key: %w", err)
		}
		h.Masked, h.MaskingKey = true, c.key
	} else {
		h.Masked, h.MaskingKey = false, [4]byte{}
	}
	var t time.Time
	if c.trace != nil {
		t = time.Now()
	}
	if c.wtime > 0 {
		// This frame's own deadline: one set for an earlier frame has
		// passed by now if the connection was quiet for a while.
		c.conn.SetWriteDeadline(time.Now().Add(c.wtime))
	}
	err := c.writeWire(h, p)
	if err != nil {
		// A frame may have been cut short: nothing more can be written.
		err = fmt.Errorf("framing: write: %w", err)
		c.werr = err
	}
	if c.trace != nil {
		c.traceWrite(t, h, p, err)
	}
	return err
}

// writeWire puts the frame on the wire with as few writes as it can without
// copying large payloads: header and small payload in one buffer; header and
// large payload together with writev (net.Buffers); a client's payload masked
// in a reused buffer, a chunk at a time (the caller's bytes stay as they are).
func (c *Conn) writeWire(h Header, p []byte) error {
	if c.wbuf == nil {
		c.wbuf = make([]byte, 0, MaxHeaderSize+writeCopyLimit)
	}
	b := h.AppendTo(c.wbuf[:0])
	if !h.Masked {
		switch {
		case len(p) <= writeCopyLimit || !c.writev && len(p) <= copyLimitNoWritev:
			b = append(b, p...)
			_, err := c.conn.Write(b)
			c.wbuf = b[:0] // keep a buffer that grew
			return err
		case c.writev:
			c.bufs = [2][]byte{b, p}
			c.nb = c.bufs[:]
			_, err := c.nb.WriteTo(c.conn)
			c.bufs = [2][]byte{}
			return err
		default:
			// A wrapped connection would get the header in a write (and a
			// TCP segment) of its own: send it with the start of the payload.
			b = append(b, p[:writeCopyLimit]...)
			if _, err := c.conn.Write(b); err != nil {
				return err
			}
			_, err := c.conn.Write(p[writeCopyLimit:])
			return err
		}
	}
	pos := 0
	for {
		n := min(len(p), maskChunk)
		start := len(b)
		b = append(b, p[:n]...)
		pos = Mask(h.MaskingKey, pos, b[start:])
		if _, err := c.conn.Write(b); err != nil {
			return err
		}
		c.wbuf = b[:0] // keep a buffer that grew
		p = p[n:]
		if len(p) == 0 {
			return nil
		}
		b = c.wbuf
	}
}

// shortReason cuts reason to fit a close frame (123 bytes) without
// splitting a UTF-8 sequence.
func shortReason(reason string) string {
	const limit = MaxControlPayload - 2
	if len(reason) <= limit {
		return reason
	}
	i := limit
	for i > 0 && !utf8.RuneStart(reason[i]) {
		i--
	}
	return reason[:i]
}

// satAdd adds without wrapping around.
func satAdd(a, b uint64) uint64 {
	if a+b < a {
		return ^uint64(0)
	}
	return a + b
}

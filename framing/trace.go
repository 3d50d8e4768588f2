package framing

import "time"

// Direction says which way a traced frame crossed the wire.
type Direction int

// The two directions, seen from the endpoint that owns the [Conn].
const (
	Read  Direction = iota // a frame that arrived from the peer
	Write                  // a frame this endpoint sent
)

// String returns "in" for Read and "out" for Write.
func (d Direction) String() string {
	if d == Write {
		return "out"
	}
	return "in"
}

// TracePayloadLimit is the largest number of payload bytes a [TraceEvent]
// carries. A bigger frame is traced with its whole header and the first
// TracePayloadLimit bytes of its payload, and Truncated set: the lab can show
// every byte of a lesson-sized frame without copying a 32 MiB message.
const TracePayloadLimit = 64 << 10

// TraceEvent is one frame read or written by a [Conn], reported to
// [Options.Trace].
type TraceEvent struct {
	Dir  Direction
	Time time.Time // when the first byte of the frame was handled
	// Header is the frame's header as parsed (Read) or as written (Write).
	Header Header
	// Raw holds the exact bytes of the frame on the wire: the header, then
	// the payload as it was sent, so still masked if Header.Masked. It is a
	// fresh copy that the callee may keep. Its length is
	// Header.Size() + Header.PayloadLength unless Truncated.
	Raw []byte
	// Truncated reports that Raw ends before the frame does: either the
	// payload was longer than TracePayloadLimit, or the frame was rejected
	// (or the connection broke) before all of it was read. The full length
	// is still in Header.PayloadLength.
	Truncated bool
	// Err is why the frame was rejected (a *ProtocolError naming the rule
	// and the close code) or why reading or writing it failed; nil for a
	// good frame.
	Err error
}

// traceLimit returns how many payload bytes of an n-byte payload a trace
// keeps.
func traceLimit(n uint64) int {
	if n > TracePayloadLimit {
		return TracePayloadLimit
	}
	return int(n)
}

// traceWrite reports a frame written with header h (as on the wire) and
// unmasked payload p. It runs with the write lock held, so events of one
// Conn reach the callee in the order their frames were written.
func (c *Conn) traceWrite(t time.Time, h Header, p []byte, err error) {
	k := traceLimit(uint64(len(p)))
	raw := make([]byte, 0, h.Size()+k)
	raw = h.AppendTo(raw)
	start := len(raw)
	raw = append(raw, p[:k]...)
	if h.Masked {
		Mask(h.MaskingKey, 0, raw[start:])
	}
	c.trace(TraceEvent{Dir: Write, Time: t, Header: h, Raw: raw, Truncated: k < len(p), Err: err})
}

// traceReadStart begins the trace of a frame being read: hdr holds its
// header bytes as they were on the wire.
func (c *Conn) traceReadStart(h Header, hdr []byte) {
	c.tr.time = time.Now()
	c.tr.header = h
	raw := make([]byte, len(hdr), len(hdr)+traceLimit(h.PayloadLength))
	copy(raw, hdr)
	c.tr.raw = raw
}

// traceReadPayload records payload bytes as they were on the wire (before
// unmasking), up to the limit.
func (c *Conn) traceReadPayload(wire []byte) {
	if room := cap(c.tr.raw) - len(c.tr.raw); room > 0 {
		c.tr.raw = append(c.tr.raw, wire[:min(room, len(wire))]...)
	}
}

// traceReadEnd reports the frame begun by traceReadStart.
func (c *Conn) traceReadEnd(err error) {
	if c.tr.raw == nil {
		return
	}
	h := c.tr.header
	want := uint64(h.Size()) + h.PayloadLength
	// For a parsed header, Size() is the size it had on the wire, since
	// LengthBytes keeps the length form that was used.
	ev := TraceEvent{Dir: Read, Time: c.tr.time, Header: h, Raw: c.tr.raw,
		Truncated: uint64(len(c.tr.raw)) < want, Err: err}
	c.tr.raw = nil
	c.trace(ev)
}

// readTrace is the state of the frame being traced on the read side.
type readTrace struct {
	time   time.Time
	header Header
	raw    []byte
}

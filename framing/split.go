package framing

// Splitter cuts one direction of a connection's byte stream into frames as
// the bytes arrive, however the stream is cut into pieces: bytes go in with
// Write, frames come out through the function given to [NewSplitter]. It
// is what a tool that watches a connection needs (the lab's tap, the
// proxy): it forwards nothing and judges nothing ([AnnotateNext] does
// that), it only finds where each frame begins and ends.
//
// Memory is bounded: of each frame it keeps the header and at most keep
// bytes of payload, and only counts the rest. A frame that declares more
// than keep bytes is reported as soon as its header is complete
// ([FrameTooBig]), so a tool can show it even if the rest never comes, and
// again when its last byte has gone by ([FrameComplete], with the bytes not
// kept counted in Dropped).
//
// A Splitter is not safe for concurrent use.
type Splitter struct {
	keep int
	emit func(SplitFrame)

	buf       []byte // the current frame: header bytes, then the payload kept
	limit     int    // len(buf) once all the payload to keep is in
	hdr       Header
	hdrLen    int    // the header's size; 0 until it is complete
	remaining uint64 // payload bytes still to come
	dropped   uint64 // payload bytes that went by without being kept
	offset    int64  // stream offset of the current frame's first byte
}

// SplitFrame is one frame found by a [Splitter]. It is only valid during
// the call that reports it: Raw is reused for the next frame.
type SplitFrame struct {
	Kind SplitKind
	// Offset is where the frame starts, counted from the first byte written
	// to the Splitter.
	Offset int64
	// Header is the frame's header, or the zero Header if Raw ends inside
	// it (only a [FrameCut] frame can).
	Header Header
	// Raw holds the frame's bytes as they crossed the wire (still masked):
	// the whole frame, or its header and the first keep bytes of its
	// payload, or (for [FrameCut]) the bytes that came before the end.
	Raw []byte
	// Dropped counts the payload bytes that went by without being kept.
	Dropped uint64
}

// SplitKind says what a [SplitFrame] reports.
type SplitKind int

const (
	// FrameComplete: the frame's last byte has arrived. Raw is the whole
	// frame, or, if it declared more than keep bytes, its header and the
	// first keep bytes of payload.
	FrameComplete SplitKind = iota
	// FrameTooBig: the header of a frame with more than keep bytes of
	// payload is complete; Raw is the header. A FrameComplete report follows
	// when the frame's last byte has gone by.
	FrameTooBig
	// FrameCut: the stream ended ([Splitter.Close]) inside this frame; Raw
	// is what came of it.
	FrameCut
)

// String returns "complete", "too big" or "cut".
func (k SplitKind) String() string {
	switch k {
	case FrameComplete:
		return "complete"
	case FrameTooBig:
		return "too big"
	case FrameCut:
		return "cut"
	}
	return "SplitKind(?)"
}

// NewSplitter returns a Splitter that keeps at most keep bytes of a frame's
// payload (keep < 0 counts as 0) and reports every frame to emit.
func NewSplitter(keep int, emit func(SplitFrame)) *Splitter {
	return &Splitter{keep: max(keep, 0), emit: emit}
}

// Write feeds the next bytes of the stream. It reports every frame that
// they complete (and every too-big header) before it returns, and it never
// fails: the error is always nil, so a Splitter can stand wherever an
// io.Writer can (an io.TeeReader, an io.MultiWriter).
func (s *Splitter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		if s.hdrLen == 0 {
			p = s.header(p)
			continue
		}
		take := min(uint64(len(p)), s.remaining)
		kept := min(take, uint64(s.limit-len(s.buf)))
		s.buf = append(s.buf, p[:kept]...)
		s.dropped += take - kept
		s.remaining -= take
		p = p[take:]
		if s.remaining == 0 {
			s.complete()
		}
	}
	return n, nil
}

// header takes bytes of p into the current frame's header and returns the
// rest of p. Once the header is complete, it sets aside room for the
// payload to keep (never more than keep bytes, whatever the header says).
func (s *Splitter) header(p []byte) []byte {
	need := 2
	if len(s.buf) >= 2 {
		need = HeaderSize(s.buf[0], s.buf[1])
	}
	take := min(need-len(s.buf), len(p))
	s.buf = append(s.buf, p[:take]...)
	p = p[take:]
	if len(s.buf) < 2 || len(s.buf) < HeaderSize(s.buf[0], s.buf[1]) {
		return p // the header needs more bytes (a 2-byte start may announce more)
	}
	h, n, _ := ParseHeader(s.buf) // cannot fail: the header is all there
	s.hdr, s.hdrLen, s.remaining, s.dropped = h, n, h.PayloadLength, 0
	s.limit = n + int(min(h.PayloadLength, uint64(s.keep)))
	if cap(s.buf) < s.limit {
		grown := make([]byte, n, s.limit)
		copy(grown, s.buf)
		s.buf = grown
	}
	if h.PayloadLength > uint64(s.keep) {
		s.emit(SplitFrame{Kind: FrameTooBig, Offset: s.offset, Header: h, Raw: s.buf})
	}
	if s.remaining == 0 {
		s.complete()
	}
	return p
}

// complete reports the current frame and starts the next.
func (s *Splitter) complete() {
	s.emit(SplitFrame{Kind: FrameComplete, Offset: s.offset, Header: s.hdr, Raw: s.buf, Dropped: s.dropped})
	s.offset += int64(s.hdrLen) + int64(s.hdr.PayloadLength)
	s.next()
}

// next forgets the current frame, keeping a buffer of a modest size.
func (s *Splitter) next() {
	s.hdr, s.hdrLen, s.remaining, s.dropped, s.limit = Header{}, 0, 0, 0, 0
	if cap(s.buf) > 64<<10 {
		s.buf = nil
	} else {
		s.buf = s.buf[:0]
	}
}

// Close says that the stream has ended. If it ended inside a frame, that
// frame is reported as [FrameCut]. Close may be called more than once; the
// Splitter is ready for a new stream afterwards, counting offsets on.
func (s *Splitter) Close() error {
	if len(s.buf) > 0 || s.hdrLen > 0 {
		s.emit(SplitFrame{Kind: FrameCut, Offset: s.offset, Header: s.hdr, Raw: s.buf, Dropped: s.dropped})
		s.offset += int64(len(s.buf)) + int64(s.dropped)
		s.next()
	}
	return nil
}

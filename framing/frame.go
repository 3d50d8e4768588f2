package framing

import (
	"fmt"
	"io"
)

// Frame is one whole frame: its header and its payload, unmasked.
type Frame struct {
	Header  Header
	Payload []byte // unmasked
}

// ErrShortFrame is returned by [ParseFrame] when b holds a whole header but
// fewer payload bytes than it declares. errors.Is(ErrShortFrame,
// io.ErrUnexpectedEOF) is true.
var ErrShortFrame = fmt.Errorf("framing: payload incomplete: %w", io.ErrUnexpectedEOF)

// ParseFrame decodes the frame at the start of b and returns it with its
// size in bytes. The payload is a fresh copy, unmasked (§5.3), so b is left
// as it was. Like [ParseHeader] it fails only when b is too short
// ([ErrShortHeader], [ErrShortFrame]) and checks no policy. No memory is
// sized from the declared length before b is known to hold it.
func ParseFrame(b []byte) (f Frame, n int, err error) {
	h, hn, err := ParseHeader(b)
	if err != nil {
		return Frame{}, 0, err
	}
	if h.PayloadLength > uint64(len(b)-hn) {
		return Frame{Header: h}, 0, ErrShortFrame
	}
	end := hn + int(h.PayloadLength)
	p := append([]byte(nil), b[hn:end]...)
	if h.Masked {
		Mask(h.MaskingKey, 0, p)
	}
	return Frame{Header: h, Payload: p}, end, nil
}

// AppendFrame appends one whole frame to dst: the header h with its
// PayloadLength set to len(payload), then the payload, masked with
// h.MaskingKey if h.Masked (§5.3). payload itself is not modified.
// AppendFrame writes whatever h says, legal or not, so lessons can build
// broken frames; [Header.Check] tells what a receiver will think of it.
func AppendFrame(dst []byte, h Header, payload []byte) []byte {
	h.PayloadLength = uint64(len(payload))
	dst = h.AppendTo(dst)
	start := len(dst)
	dst = append(dst, payload...)
	if h.Masked {
		Mask(h.MaskingKey, 0, dst[start:])
	}
	return dst
}

// AppendTo appends the wire form of f, as [AppendFrame] does.
func (f Frame) AppendTo(dst []byte) []byte { return AppendFrame(dst, f.Header, f.Payload) }

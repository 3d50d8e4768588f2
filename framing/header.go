package framing

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Role is the part an endpoint plays: the server accepted the opening
// handshake, the client sent it. The role decides the masking rules of
// RFC 6455 §5.1: a client masks every frame it sends, a server masks none.
// Each function says whether it wants the role of the sender or of the
// receiver.
type Role int

// The two roles.
const (
	RoleServer Role = iota
	RoleClient
)

// String returns "server" or "client".
func (r Role) String() string {
	switch r {
	case RoleServer:
		return "server"
	case RoleClient:
		return "client"
	}
	return fmt.Sprintf("Role(%d)", int(r))
}

// Header is one frame header, one field per wire field of RFC 6455 §5.2.
// It holds what was on the wire, legal or not: [Header.Check] says what is
// wrong with it.
type Header struct {
	// Fin: "Indicates that this is the final fragment in a message. The
	// first fragment MAY also be the final fragment."
	Fin bool
	// Rsv1, Rsv2, Rsv3: "MUST be 0 unless an extension is negotiated that
	// defines meanings for non-zero values."
	Rsv1, Rsv2, Rsv3 bool
	// Opcode: the frame type, 4 bits.
	Opcode Opcode
	// Masked: "Defines whether the "Payload data" is masked."
	Masked bool
	// MaskingKey: the 4 bytes the payload is XORed with (§5.3); zero when
	// Masked is false.
	MaskingKey [4]byte
	// PayloadLength is the length of the payload in bytes, as declared. It is
	// kept as a uint64 so that an illegal length (most significant bit set)
	// can still be shown.
	PayloadLength uint64
	// LengthBytes is the extended-length form used on the wire: 0 (length in
	// the 7-bit field), 2 (field = 126, then 16 bits) or 8 (field = 127, then
	// 64 bits). It lets a non-minimal encoding be shown and reproduced.
	LengthBytes int
}

// MaxHeaderSize is the largest header: 2 bytes, 8 bytes of extended length
// and a 4-byte masking key.
const MaxHeaderSize = 14

// ErrShortHeader is returned by [ParseHeader] when b ends before the header
// does. errors.Is(ErrShortHeader, io.ErrUnexpectedEOF) is true.
var ErrShortHeader = fmt.Errorf("framing: header incomplete: %w", io.ErrUnexpectedEOF)

// lengthBytesFor returns the extended-length size that the 7-bit field
// value announces (§5.2): "If 126, the following 2 bytes ... If 127, the
// following 8 bytes".
func lengthBytesFor(len7 byte) int {
	switch len7 {
	case 126:
		return 2
	case 127:
		return 8
	}
	return 0
}

// HeaderSize returns the size of the header whose first two bytes are b0 and
// b1: a reader knows how much more to read after two bytes.
func HeaderSize(b0, b1 byte) int {
	n := 2 + lengthBytesFor(b1&0x7F)
	if b1&0x80 != 0 {
		n += 4
	}
	return n
}

// ParseHeader decodes the frame header at the start of b and returns it with
// its size n in bytes. It fails only when b is too short ([ErrShortHeader]);
// it never fails on policy (use [Header.Check]).
//
// The steps follow the §5.2 diagram:
//
//  1. Byte 0: FIN (bit 0x80), RSV1 (0x40), RSV2 (0x20), RSV3 (0x10),
//     opcode (the low 4 bits).
//  2. Byte 1: MASK (bit 0x80) and the 7-bit payload length.
//  3. If that length is 126, the length is the next 2 bytes; if 127, the
//     next 8 bytes, both in network byte order (big-endian).
//  4. If MASK is set, the 4-byte masking key follows.
func ParseHeader(b []byte) (h Header, n int, err error) {
	if len(b) < 2 {
		return Header{}, 0, ErrShortHeader
	}
	b0, b1 := b[0], b[1]
	if size := HeaderSize(b0, b1); len(b) < size {
		return Header{}, 0, ErrShortHeader
	}
	// 1. Byte 0.
	h.Fin = b0&0x80 != 0
	h.Rsv1 = b0&0x40 != 0
	h.Rsv2 = b0&0x20 != 0
	h.Rsv3 = b0&0x10 != 0
	h.Opcode = Opcode(b0 & 0x0F)
	// 2. Byte 1.
	h.Masked = b1&0x80 != 0
	len7 := b1 & 0x7F
	n = 2
	// 3. Extended payload length.
	h.LengthBytes = lengthBytesFor(len7)
	switch h.LengthBytes {
	case 0:
		h.PayloadLength = uint64(len7)
	case 2:
		h.PayloadLength = uint64(binary.BigEndian.Uint16(b[n:]))
	case 8:
		h.PayloadLength = binary.BigEndian.Uint64(b[n:])
	}
	n += h.LengthBytes
	// 4. Masking key.
	if h.Masked {
		copy(h.MaskingKey[:], b[n:n+4])
		n += 4
	}
	return h, n, nil
}

// ReadHeader reads one frame header from r: first 2 bytes, then as many as
// they announce. It returns io.EOF if r ends before the first byte (a clean
// end between frames) and io.ErrUnexpectedEOF if r ends inside the header.
func ReadHeader(r io.Reader) (Header, error) {
	var buf [MaxHeaderSize]byte
	if _, err := io.ReadFull(r, buf[:2]); err != nil {
		return Header{}, err
	}
	size := HeaderSize(buf[0], buf[1])
	if _, err := io.ReadFull(r, buf[2:size]); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return Header{}, err
	}
	h, _, err := ParseHeader(buf[:size])
	return h, err
}

// lengthForm returns the extended-length size AppendTo writes: the minimal
// form for h.PayloadLength, or h.LengthBytes if that is larger (to
// reproduce a non-minimal encoding).
func (h Header) lengthForm() int {
	form := 0
	switch {
	case h.PayloadLength > 0xFFFF:
		form = 8
	case h.PayloadLength > 125:
		form = 2
	}
	if h.LengthBytes > form {
		if h.LengthBytes > 2 {
			return 8
		}
		return 2
	}
	return form
}

// MinimalLength reports whether the header uses the shortest length form for
// its payload length. §5.2: "in all cases, the minimal number of bytes MUST
// be used to encode the length". A header from [ParseHeader] that fails
// this was sent by a careless encoder; receivers commonly accept it.
func (h Header) MinimalLength() bool {
	minimal := Header{PayloadLength: h.PayloadLength}.lengthForm()
	return h.LengthBytes == minimal
}

// Size returns the number of bytes [Header.AppendTo] writes: 2 to 14.
func (h Header) Size() int {
	n := 2 + h.lengthForm()
	if h.Masked {
		n += 4
	}
	return n
}

// AppendTo appends the wire form of h to dst, the mirror image of
// [ParseHeader]. The length uses the minimal form unless h.LengthBytes asks
// for a longer one. It writes what h says, legal or not: the masking key
// only if h.Masked, and an Opcode above 0xF is cut to its low 4 bits.
func (h Header) AppendTo(dst []byte) []byte {
	var b0 byte
	if h.Fin {
		b0 |= 0x80
	}
	if h.Rsv1 {
		b0 |= 0x40
	}
	if h.Rsv2 {
		b0 |= 0x20
	}
	if h.Rsv3 {
		b0 |= 0x10
	}
	b0 |= byte(h.Opcode) & 0x0F
	var b1 byte
	if h.Masked {
		b1 = 0x80
	}
	switch h.lengthForm() {
	case 0:
		dst = append(dst, b0, b1|byte(h.PayloadLength))
	case 2:
		dst = append(dst, b0, b1|126)
		dst = binary.BigEndian.AppendUint16(dst, uint16(h.PayloadLength))
	case 8:
		dst = append(dst, b0, b1|127)
		dst = binary.BigEndian.AppendUint64(dst, h.PayloadLength)
	}
	if h.Masked {
		dst = append(dst, h.MaskingKey[:]...)
	}
	return dst
}

// String summarises h the way a packet list does, for example
// "text fin len=5 masked key=37fa213d".
func (h Header) String() string {
	s := h.Opcode.String()
	if h.Fin {
		s += " fin"
	}
	if h.Rsv1 {
		s += " rsv1"
	}
	if h.Rsv2 {
		s += " rsv2"
	}
	if h.Rsv3 {
		s += " rsv3"
	}
	s += fmt.Sprintf(" len=%d", h.PayloadLength)
	if h.Masked {
		s += fmt.Sprintf(" masked key=%x", h.MaskingKey[:])
	}
	return s
}

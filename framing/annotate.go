package framing

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Field explains one wire field of a frame: which bytes (Offset and Length,
// counted from the start of the input given to [Annotate]) and, within a
// single byte, which bits (Bits: 0x80 for FIN, 0x0F for the opcode, 0xFF
// for whole bytes). Value is the field's meaning in readable form; Note is
// a short remark.
//
// Names follow Wireshark's WebSocket dissector: "fin", "rsv1", "rsv2",
// "rsv3", "opcode", "mask", "payload_length", "payload_length_ext_16",
// "payload_length_ext_64", "masking_key", "payload" (unmasked on the wire),
// "masked_payload", "close.status_code", "close.reason".
type Field struct {
	Name           string
	Offset, Length int
	Bits           byte
	Value, Note    string
}

// AnnotatedFrame is one frame of an annotated capture.
type AnnotatedFrame struct {
	Offset, Length int    // where the frame is in the input, header included
	Header         Header // as decoded
	Payload        []byte // unmasked (only the bytes present, for a partial frame)
	Text           string // the payload as text, when IsText
	IsText         bool   // a text frame, or a continuation of a text message
	CloseCode      *CloseCode
	CloseReason    *string
	Fields         []Field          // in wire order, covering every bit of the frame once
	Problems       []*ProtocolError // every rule the frame breaks
}

// Annotation explains a run of concatenated frames.
type Annotation struct {
	// Frames are the whole frames, in order.
	Frames []AnnotatedFrame
	// Partial is the frame that the input cuts off, if any: its fields
	// explain the bytes of Rest that are present, so a page can draw it up
	// to the last byte.
	Partial *AnnotatedFrame
	// Rest holds the trailing bytes that are not a whole frame.
	Rest []byte
	// Err is nil when the input is a run of whole, valid frames. Otherwise
	// it is the first protocol violation (it wraps a *ProtocolError) or, if
	// there is none, says what is missing from the last frame.
	Err error
}

// frameError is a problem located at a frame's offset.
type frameError struct {
	offset int
	msg    string
	err    error
}

func (e *frameError) Error() string {
	return fmt.Sprintf("framing: frame at offset %d: %s", e.offset, e.msg)
}
func (e *frameError) Unwrap() error { return e.err }

// messageState follows a fragmented message across frames (§5.4).
type messageState struct {
	inProgress bool
	text       bool
	utf8       UTF8Validator
}

// displayLimit caps how many payload bytes a Value or Note spells out.
const displayLimit = 128

// Annotate explains every byte of b, which holds one or more frames one
// after the other (a capture of one direction of a connection). Each frame's
// role is inferred from its mask bit (masked: sent by a client), so the
// masking rules are never reported; everything else [Header.Check] checks
// is, and so are the rules that span frames: fragments (§5.4), UTF-8 in text
// messages across fragments (§8.1), and close payloads (§5.5.1).
//
// Annotate never panics and never sizes memory from a length read off the
// wire: a frame declaring 2^63 bytes costs no more than the bytes present.
// Whatever b holds, the fields of Frames and Rest together cover every bit
// of every byte of b exactly once. For a capture too long to hold explained
// all at once, an [Annotator] gives the same frames one at a time.
func Annotate(b []byte) Annotation {
	var out Annotation
	a := NewAnnotator(b)
	for a.Next() {
		out.Frames = append(out.Frames, a.Frame())
	}
	out.Partial, out.Rest, out.Err = a.Partial(), a.Rest(), a.Err()
	return out
}

// annotateFrame explains the frame at b[off:]. missing is "" for a whole
// frame, or says what the input lacks.
func annotateFrame(b []byte, off int, msg *messageState) (f AnnotatedFrame, missing string) {
	rest := b[off:]
	f.Offset = off
	add := func(fl Field) { f.Fields = append(f.Fields, fl) }
	bit := func(set bool) string {
		if set {
			return "1"
		}
		return "0"
	}

	// Byte 0: FIN, RSV1-3, opcode.
	b0 := rest[0]
	h := &f.Header
	h.Fin, h.Rsv1, h.Rsv2, h.Rsv3 = b0&0x80 != 0, b0&0x40 != 0, b0&0x20 != 0, b0&0x10 != 0
	h.Opcode = Opcode(b0 & 0x0F)
	finNote := "final fragment of the message"
	if !h.Fin {
		finNote = "more fragments follow"
	}
	if h.Opcode.IsControl() {
		finNote = "control frames are never fragmented"
		if !h.Fin {
			finNote = "must be 1: control frames are never fragmented"
		}
	}
	add(Field{Name: "fin", Offset: off, Length: 1, Bits: 0x80, Value: bit(h.Fin), Note: finNote})
	for i, set := range []bool{h.Rsv1, h.Rsv2, h.Rsv3} {
		note := "reserved for extensions"
		if set {
			note = "set, but no extension is negotiated"
			if i == 0 {
				note += " (permessage-deflate uses it)"
			}
		}
		add(Field{Name: fmt.Sprintf("rsv%d", i+1), Offset: off, Length: 1, Bits: 0x40 >> i, Value: bit(set), Note: note})
	}
	opName := h.Opcode.String()
	if h.Opcode.IsReserved() {
		opName = "reserved"
	}
	opNote := "data frame"
	if h.Opcode.IsControl() {
		opNote = "control frame"
	}
	switch {
	case h.Opcode == OpContinuation:
		opNote = "continues a fragmented message"
	case h.Opcode.IsReserved():
		opNote = "no meaning defined: the receiver must fail the connection"
	}
	add(Field{Name: "opcode", Offset: off, Length: 1, Bits: 0x0F, Value: fmt.Sprintf("0x%X %s", byte(h.Opcode), opName), Note: opNote})
	if len(rest) < 2 {
		return f, partialHeader(rest)
	}

	// Byte 1: MASK, 7-bit payload length.
	b1 := rest[1]
	h.Masked = b1&0x80 != 0
	len7 := b1 & 0x7F
	h.LengthBytes = lengthBytesFor(len7)
	maskNote := "not masked: server to client"
	if h.Masked {
		maskNote = "masked: client to server, a masking key follows"
	}
	add(Field{Name: "mask", Offset: off + 1, Length: 1, Bits: 0x80, Value: bit(h.Masked), Note: maskNote})
	lenNote := fmt.Sprintf("payload is %d bytes", len7)
	switch h.LengthBytes {
	case 2:
		lenNote = "126: the length is in the next 2 bytes"
	case 8:
		lenNote = "127: the length is in the next 8 bytes"
	default:
		h.PayloadLength = uint64(len7)
	}
	add(Field{Name: "payload_length", Offset: off + 1, Length: 1, Bits: 0x7F, Value: strconv.Itoa(int(len7)), Note: lenNote})

	// Extended payload length.
	pos := 2
	if h.LengthBytes > 0 {
		name := "payload_length_ext_16"
		if h.LengthBytes == 8 {
			name = "payload_length_ext_64"
		}
		if len(rest) < pos+h.LengthBytes {
			if len(rest) > pos {
				add(Field{Name: name, Offset: off + pos, Length: len(rest) - pos, Bits: 0xFF, Value: "(incomplete)",
					Note: fmt.Sprintf("%d of %d bytes present", len(rest)-pos, h.LengthBytes)})
			}
			return f, partialHeader(rest)
		}
		if h.LengthBytes == 2 {
			h.PayloadLength = uint64(binary.BigEndian.Uint16(rest[pos:]))
		} else {
			h.PayloadLength = binary.BigEndian.Uint64(rest[pos:])
		}
		note := "payload length in bytes"
		if !h.MinimalLength() {
			note = "not minimal: a shorter length form fits (the sender broke a MUST of §5.2)"
		}
		if h.PayloadLength>>63 != 0 {
			note = "most significant bit set: not allowed"
		}
		add(Field{Name: name, Offset: off + pos, Length: h.LengthBytes, Bits: 0xFF, Value: strconv.FormatUint(h.PayloadLength, 10), Note: note})
		pos += h.LengthBytes
	}

	// Masking key.
	if h.Masked {
		if len(rest) < pos+4 {
			if len(rest) > pos {
				add(Field{Name: "masking_key", Offset: off + pos, Length: len(rest) - pos, Bits: 0xFF,
					Value: hexBytes(rest[pos:]), Note: fmt.Sprintf("%d of 4 bytes present", len(rest)-pos)})
			}
			return f, partialHeader(rest)
		}
		copy(h.MaskingKey[:], rest[pos:pos+4])
		add(Field{Name: "masking_key", Offset: off + pos, Length: 4, Bits: 0xFF, Value: hexBytes(h.MaskingKey[:]), Note: "payload byte i is XORed with key byte i mod 4"})
		pos += 4
	}

	// The header is whole: check it. The sender's role follows from the mask
	// bit, so the receiver is the other role.
	receiver := RoleClient
	if h.Masked {
		receiver = RoleServer
	}
	f.Problems = h.Check(receiver)

	// Payload: only the bytes present, never more.
	present := uint64(len(rest) - pos)
	whole := h.PayloadLength <= present
	n := present
	if whole {
		n = h.PayloadLength
	}
	raw := rest[pos : pos+int(n)]
	f.Payload = append([]byte(nil), raw...)
	if h.Masked {
		Mask(h.MaskingKey, 0, f.Payload)
	}
	payloadName := "payload"
	if h.Masked {
		payloadName = "masked_payload"
	}
	f.Length = pos + int(n)
	if !whole {
		if n > 0 {
			add(Field{Name: payloadName, Offset: off + pos, Length: int(n), Bits: 0xFF, Value: hexBytes(f.Payload),
				Note: fmt.Sprintf("truncated: %d of %d bytes present", n, h.PayloadLength)})
		}
		return f, fmt.Sprintf("declares %d payload bytes; only %d present", h.PayloadLength, n)
	}

	f.messageRules(msg, payloadName)
	f.payloadFields(raw, off+pos, payloadName)
	return f, ""
}

// partialHeader says what an incomplete header lacks.
func partialHeader(rest []byte) string {
	need := 2
	if len(rest) >= 2 {
		need = HeaderSize(rest[0], rest[1])
	}
	return fmt.Sprintf("needs a %d-byte header; only %d bytes present", need, len(rest))
}

// messageRules applies the rules that span frames (§5.4 fragmentation, §8.1
// UTF-8) and the close payload rules (§5.5.1).
func (f *AnnotatedFrame) messageRules(msg *messageState, payloadName string) {
	h := f.Header
	prob := func(code CloseCode, field, format string, args ...any) {
		f.Problems = append(f.Problems, &ProtocolError{Code: code, Field: field, Reason: fmt.Sprintf(format, args...)})
	}
	switch {
	case h.Opcode == OpContinuation:
		if !msg.inProgress {
			prob(CloseProtocolError, "opcode", "continuation frame but no fragmented message to continue")
		}
	case h.Opcode.IsData():
		if msg.inProgress {
			prob(CloseProtocolError, "opcode", "new %s message starts before the fragmented message ends", h.Opcode)
		}
		msg.inProgress, msg.text = true, h.Opcode == OpText
		msg.utf8.Reset()
	case h.Opcode == OpClose:
		code, reason, err := ParseClosePayload(f.Payload)
		if len(f.Payload) >= 2 {
			f.CloseCode, f.CloseReason = &code, &reason
		}
		if err != nil {
			pe := err.(*ProtocolError)
			if pe.Field == "payload" {
				pe.Field = payloadName
			}
			f.Problems = append(f.Problems, pe)
		}
		return
	default:
		return
	}
	// A data frame (text, binary, or continuation).
	if msg.text && msg.inProgress {
		f.IsText = true
		f.Text = string(f.Payload)
		if !msg.utf8.Write(f.Payload) {
			prob(CloseInvalidPayload, payloadName, "text is not valid UTF-8")
		} else if h.Fin && !msg.utf8.Complete() {
			prob(CloseInvalidPayload, payloadName, "text message ends inside a UTF-8 sequence")
		}
	}
	if h.Fin {
		msg.inProgress, msg.text = false, false
	}
}

// payloadFields explains the payload bytes raw (as on the wire) at offset.
func (f *AnnotatedFrame) payloadFields(raw []byte, offset int, payloadName string) {
	if len(raw) == 0 {
		return
	}
	h := f.Header
	maskedNote := func(lo, hi int) string {
		if !h.Masked {
			return ""
		}
		return "on the wire (masked): " + hexBytes(raw[lo:hi])
	}
	if h.Opcode == OpClose && len(raw) >= 2 {
		code := CloseCode(binary.BigEndian.Uint16(f.Payload))
		note := maskedNote(0, 2)
		if !code.ValidOnWire() {
			note = join(note, "not allowed in a close frame")
		}
		f.Fields = append(f.Fields, Field{Name: "close.status_code", Offset: offset, Length: 2, Bits: 0xFF, Value: code.String(), Note: note})
		if len(raw) > 2 {
			f.Fields = append(f.Fields, Field{Name: "close.reason", Offset: offset + 2, Length: len(raw) - 2, Bits: 0xFF,
				Value: quoteText(f.Payload[2:]), Note: maskedNote(2, len(raw))})
		}
		return
	}
	value := hexBytes(f.Payload)
	note := maskedNote(0, len(raw))
	if f.IsText {
		value = quoteText(f.Payload)
		if !h.Masked {
			note = "UTF-8: " + hexBytes(f.Payload)
		}
	}
	f.Fields = append(f.Fields, Field{Name: payloadName, Offset: offset, Length: len(raw), Bits: 0xFF, Value: value, Note: note})
}

func join(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// hexBytes spells out b as "48 65 6c", the first displayLimit bytes only.
func hexBytes(b []byte) string {
	var s strings.Builder
	for i, c := range b {
		if i == displayLimit {
			fmt.Fprintf(&s, " … (%d bytes)", len(b))
			break
		}
		if i > 0 {
			s.WriteByte(' ')
		}
		fmt.Fprintf(&s, "%02x", c)
	}
	return s.String()
}

// quoteText shows text as a Go-quoted string, the first displayLimit bytes
// (cut at a character boundary) only.
func quoteText(b []byte) string {
	if len(b) <= displayLimit {
		return strconv.Quote(string(b))
	}
	cut := displayLimit
	for cut > displayLimit-utf8.UTFMax && !utf8.RuneStart(b[cut]) {
		cut--
	}
	return fmt.Sprintf("%s… (%d bytes)", strconv.Quote(string(b[:cut])), len(b))
}

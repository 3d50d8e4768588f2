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
// a short remark in English.
//
// NoteKey names the note, and NoteArgs fill its {0}, {1} …, so that a page
// can show it in another language: [NoteTemplates] lists every key with its
// English text. A Field without a note has NoteKey "".
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
	NoteKey        string
	NoteArgs       []string
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

// displayLimit caps how many payload bytes a Value or Note spells out.
const displayLimit = 128

// Annotate explains every byte of b, which holds one or more frames one
// after the other: a capture of one direction of a connection, from its
// first frame on. Each frame's sender is inferred from its mask bit
// (masked: sent by a client), so the masking rules are never reported;
// everything else [Header.Check] checks is, and so are the rules that span
// frames, with a [MessageState] of its own: fragments (§5.4), UTF-8 in text
// messages across fragments (§8.1), and close payloads (§5.5.1).
//
// Annotate never panics and never sizes memory from a length read off the
// wire: a frame declaring 2^63 bytes costs no more than the bytes present.
// Whatever b holds, the fields of Frames and Rest together cover every bit
// of every byte of b exactly once. For a capture too long to hold explained
// all at once, an [Annotator] gives the same frames one at a time.
func Annotate(b []byte) Annotation {
	var s MessageState
	return annotate(b, nil, &s)
}

// AnnotateNext explains b, the next bytes of one direction of a
// connection, as [Annotate] does, but as the endpoint in the role receiver
// sees them (so the masking rules of §5.1 are checked too) and at the point
// of the conversation that s holds. It advances s past every frame of b,
// so that a tool which sees a connection a frame at a time (the lab, the
// proxy) judges each frame exactly as the connection's own reader does.
//
// If b ends inside a frame's payload (Partial), s is advanced as if the rest
// of that frame went by unseen: the next bytes given to AnnotateNext must
// start a frame, and the text of a message whose bytes were not all seen is
// no longer checked as UTF-8. A frame cut inside its header leaves s as it
// was.
func AnnotateNext(b []byte, receiver Role, s *MessageState) Annotation {
	return annotate(b, &receiver, s)
}

// annotate does the work of Annotate (receiver nil: inferred from each mask
// bit) and AnnotateNext, with an Annotator.
func annotate(b []byte, receiver *Role, s *MessageState) Annotation {
	var out Annotation
	a := &Annotator{b: b, receiver: receiver, state: s}
	for a.Next() {
		out.Frames = append(out.Frames, a.Frame())
	}
	out.Partial, out.Rest, out.Err = a.Partial(), a.Rest(), a.Err()
	return out
}

// annotateFrame explains the frame at b[off:] and advances s past it.
// missing is "" for a whole frame, or says what the input lacks.
func annotateFrame(b []byte, off int, receiver *Role, s *MessageState) (f AnnotatedFrame, missing string) {
	rest := b[off:]
	f.Offset = off
	add := func(name string, at, n int, bits byte, value, key string, args ...string) {
		fl := Field{Name: name, Offset: off + at, Length: n, Bits: bits, Value: value}
		if key != "" {
			fl.note(key, args...)
		}
		f.Fields = append(f.Fields, fl)
	}
	bit := func(set bool) string {
		if set {
			return "1"
		}
		return "0"
	}
	itoa := strconv.Itoa

	// Byte 0: FIN, RSV1-3, opcode.
	b0 := rest[0]
	h := &f.Header
	h.Fin, h.Rsv1, h.Rsv2, h.Rsv3 = b0&0x80 != 0, b0&0x40 != 0, b0&0x20 != 0, b0&0x10 != 0
	h.Opcode = Opcode(b0 & 0x0F)
	finNote := "fin.final"
	switch {
	case h.Opcode.IsControl() && !h.Fin:
		finNote = "fin.control-unset"
	case h.Opcode.IsControl():
		finNote = "fin.control"
	case !h.Fin:
		finNote = "fin.more"
	}
	add("fin", 0, 1, 0x80, bit(h.Fin), finNote)
	for i, set := range []bool{h.Rsv1, h.Rsv2, h.Rsv3} {
		note := "rsv.clear"
		switch {
		case set && i == 0:
			note = "rsv1.set"
		case set:
			note = "rsv.set"
		}
		add(fmt.Sprintf("rsv%d", i+1), 0, 1, 0x40>>i, bit(set), note)
	}
	opName := h.Opcode.String()
	if h.Opcode.IsReserved() {
		opName = "reserved"
	}
	opNote := "opcode.data"
	switch {
	case h.Opcode == OpContinuation:
		opNote = "opcode.continuation"
	case h.Opcode.IsReserved():
		opNote = "opcode.reserved"
	case h.Opcode.IsControl():
		opNote = "opcode.control"
	}
	add("opcode", 0, 1, 0x0F, fmt.Sprintf("0x%X %s", byte(h.Opcode), opName), opNote)
	if len(rest) < 2 {
		return f, partialHeader(rest)
	}

	// Byte 1: MASK, 7-bit payload length.
	b1 := rest[1]
	h.Masked = b1&0x80 != 0
	len7 := b1 & 0x7F
	h.LengthBytes = lengthBytesFor(len7)
	// The sender's role follows from the mask bit, unless the receiver is
	// known.
	to := RoleClient
	if h.Masked {
		to = RoleServer
	}
	if receiver != nil {
		to = *receiver
	}
	maskNote := "mask.server"
	switch {
	case h.Masked && to == RoleServer:
		maskNote = "mask.client"
	case h.Masked:
		maskNote = "mask.server-masked"
	case to == RoleServer:
		maskNote = "mask.client-unmasked"
	}
	add("mask", 1, 1, 0x80, bit(h.Masked), maskNote)
	switch h.LengthBytes {
	case 2:
		add("payload_length", 1, 1, 0x7F, itoa(int(len7)), "length.ext16")
	case 8:
		add("payload_length", 1, 1, 0x7F, itoa(int(len7)), "length.ext64")
	case 0:
		h.PayloadLength = uint64(len7)
		if len7 == 1 {
			add("payload_length", 1, 1, 0x7F, "1", "length.one-byte")
		} else {
			add("payload_length", 1, 1, 0x7F, itoa(int(len7)), "length.bytes", itoa(int(len7)))
		}
	}

	// Extended payload length.
	pos := 2
	if h.LengthBytes > 0 {
		name := lengthField(*h)
		if len(rest) < pos+h.LengthBytes {
			if len(rest) > pos {
				add(name, pos, len(rest)-pos, 0xFF, "(incomplete)", "partial", itoa(len(rest)-pos), itoa(h.LengthBytes))
			}
			return f, partialHeader(rest)
		}
		if h.LengthBytes == 2 {
			h.PayloadLength = uint64(binary.BigEndian.Uint16(rest[pos:]))
		} else {
			h.PayloadLength = binary.BigEndian.Uint64(rest[pos:])
		}
		note := "length.value"
		if !h.MinimalLength() {
			note = "length.not-minimal"
		}
		if h.PayloadLength>>63 != 0 {
			note = "length.msb"
		}
		add(name, pos, h.LengthBytes, 0xFF, strconv.FormatUint(h.PayloadLength, 10), note)
		pos += h.LengthBytes
	}

	// Masking key.
	if h.Masked {
		if len(rest) < pos+4 {
			if len(rest) > pos {
				add("masking_key", pos, len(rest)-pos, 0xFF, hexBytes(rest[pos:]), "partial", itoa(len(rest)-pos), "4")
			}
			return f, partialHeader(rest)
		}
		copy(h.MaskingKey[:], rest[pos:pos+4])
		add("masking_key", pos, 4, 0xFF, hexBytes(h.MaskingKey[:]), "key.xor")
		pos += 4
	}

	// The header is whole: check it against the conversation so far.
	f.Problems = h.Check(to, s)

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
	f.Length = pos + int(n)

	// The rules that span frames.
	s.StartFrame(*h)
	if f.IsText = s.isText(); f.IsText {
		f.Text = string(f.Payload)
	}
	if err := s.Payload(f.Payload); err != nil {
		f.Problems = append(f.Problems, err)
	}
	if !whole {
		s.skip()
		s.EndFrame()
		if n > 0 {
			add(payloadField(*h), pos, int(n), 0xFF, hexBytes(f.Payload), "payload.truncated",
				strconv.FormatUint(n, 10), strconv.FormatUint(h.PayloadLength, 10))
		}
		return f, fmt.Sprintf("declares %d payload bytes; only %d present", h.PayloadLength, n)
	}
	if err := s.EndFrame(); err != nil {
		f.Problems = append(f.Problems, err)
	}
	if h.Opcode == OpClose {
		f.closeRules()
	}
	f.payloadFields(raw, off+pos)
	return f, ""
}

// partialHeader says what an incomplete header lacks.
func partialHeader(rest []byte) string {
	need := 2
	if len(rest) >= 2 {
		need = HeaderSize(rest[0], rest[1])
	}
	if len(rest) == 1 {
		return fmt.Sprintf("needs a %d-byte header; only 1 byte present", need)
	}
	return fmt.Sprintf("needs a %d-byte header; only %d bytes present", need, len(rest))
}

// closeRules applies the rules of a close frame's payload (§5.5.1, §7.4).
func (f *AnnotatedFrame) closeRules() {
	code, reason, err := ParseClosePayload(f.Payload)
	if len(f.Payload) >= 2 {
		f.CloseCode, f.CloseReason = &code, &reason
	}
	if err != nil {
		pe := err.(*ProtocolError)
		if pe.Field == "payload" {
			pe.Field = payloadField(f.Header)
		}
		f.Problems = append(f.Problems, pe)
	}
}

// payloadFields explains the payload bytes raw (as on the wire) at offset.
func (f *AnnotatedFrame) payloadFields(raw []byte, offset int) {
	if len(raw) == 0 {
		return
	}
	h := f.Header
	field := func(name string, at, n int, value string, unmaskedKey string, args ...string) {
		fl := Field{Name: name, Offset: offset + at, Length: n, Bits: 0xFF, Value: value}
		switch {
		case h.Masked && unmaskedKey == "close.code-not-allowed":
			fl.note("close.code-not-allowed-masked", hexBytes(raw[at:at+n]))
		case h.Masked:
			fl.note("payload.masked", hexBytes(raw[at:at+n]))
		case unmaskedKey != "":
			fl.note(unmaskedKey, args...)
		}
		f.Fields = append(f.Fields, fl)
	}
	if h.Opcode == OpClose && len(raw) >= 2 {
		code := CloseCode(binary.BigEndian.Uint16(f.Payload))
		key := ""
		if !code.ValidOnWire() {
			key = "close.code-not-allowed"
		}
		field("close.status_code", 0, 2, code.String(), key)
		if len(raw) > 2 {
			field("close.reason", 2, len(raw)-2, quoteText(f.Payload[2:]), "")
		}
		return
	}
	if f.IsText {
		field(payloadField(h), 0, len(raw), quoteText(f.Payload), "payload.utf8", hexBytes(f.Payload))
		return
	}
	field(payloadField(h), 0, len(raw), hexBytes(f.Payload), "")
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

// Package framejson turns a framing.Annotation into the JSON that
// `learnws decode --json` prints (DESIGN.md, "CLI"). The command-line tool and
// the web lab both answer with this shape, so a script written against one
// reads the other.
//
// The package framing explains bytes but holds no presentation; this is where
// its Go values become strings and numbers for JSON: the masking key and
// payload as hex, the opcode as a number and a name, close fields as null when
// the frame is not a close frame.
package framejson

import (
	"encoding/hex"

	"github.com/learnws/learnws/framing"
)

// Annotation is the answer of `learnws decode --json`: every whole frame, the
// bytes after the last whole frame, and what is wrong, if anything.
type Annotation struct {
	Frames []Frame `json:"frames"`
	Rest   string  `json:"rest"`            // hex of the trailing bytes that are not a whole frame
	Error  string  `json:"error,omitempty"` // present only when the bytes break the protocol
}

// Frame is one annotated frame. Offsets count from the first byte of the
// annotated input.
type Frame struct {
	Offset        int     `json:"offset"`
	Length        int     `json:"length"` // bytes of the frame on the wire (or present, for a partial frame)
	Fin           bool    `json:"fin"`
	Rsv1          bool    `json:"rsv1"`
	Rsv2          bool    `json:"rsv2"`
	Rsv3          bool    `json:"rsv3"`
	Opcode        int     `json:"opcode"`
	OpcodeName    string  `json:"opcode_name"` // "text", "binary", …, "reserved (0x3)"
	Masked        bool    `json:"masked"`
	PayloadLength uint64  `json:"payload_length"`
	MaskingKey    string  `json:"masking_key"`    // hex, "" if none
	Payload       string  `json:"payload"`        // UNMASKED, hex
	Text          *string `json:"text,omitempty"` // the payload (or close reason) as text, when text
	CloseCode     *int    `json:"close_code"`     // null unless a close frame carries a code
	CloseReason   *string `json:"close_reason"`
	Fields        []Field `json:"fields"` // together they cover every byte of the frame
}

// Field is framing.Field: which bytes (and, for header bits, which bits of
// the byte: Bits 0xFF means the whole bytes) stand for what.
type Field struct {
	Name   string `json:"name"` // Wireshark's names: "fin", "opcode", "masking_key", …
	Offset int    `json:"offset"`
	Length int    `json:"length"`
	Bits   int    `json:"bits"`
	Value  string `json:"value"`
	Note   string `json:"note"`
	// NoteKey names the note for translation (framing.NoteTemplates) and
	// NoteArgs fill its {0}, {1} …; both are absent when there is no note.
	NoteKey  string   `json:"note_key,omitempty"`
	NoteArgs []string `json:"note_args,omitempty"`
}

// FromAnnotation converts a whole annotation. A frame the input cuts off
// (a.Partial) is not among Frames: its bytes are in Rest.
func FromAnnotation(a framing.Annotation) Annotation {
	out := Annotation{Frames: []Frame{}, Rest: hex.EncodeToString(a.Rest)}
	for i := range a.Frames {
		out.Frames = append(out.Frames, FromFrame(&a.Frames[i]))
	}
	if a.Err != nil {
		out.Error = a.Err.Error()
	}
	return out
}

// FromFrame converts one annotated frame. A close frame's reason is also its
// Text, so that a reader looking for "the text" finds it.
func FromFrame(f *framing.AnnotatedFrame) Frame {
	h := f.Header
	j := Frame{
		Offset:        f.Offset,
		Length:        f.Length,
		Fin:           h.Fin,
		Rsv1:          h.Rsv1,
		Rsv2:          h.Rsv2,
		Rsv3:          h.Rsv3,
		Opcode:        int(h.Opcode),
		OpcodeName:    h.Opcode.String(),
		Masked:        h.Masked,
		PayloadLength: h.PayloadLength,
		Payload:       hex.EncodeToString(f.Payload),
		Fields:        []Field{},
	}
	if h.Masked {
		j.MaskingKey = hex.EncodeToString(h.MaskingKey[:])
	}
	if f.IsText {
		t := f.Text
		j.Text = &t
	}
	if f.CloseCode != nil {
		c := int(*f.CloseCode)
		j.CloseCode = &c
	}
	if f.CloseReason != nil {
		r := *f.CloseReason
		j.CloseReason = &r
		if j.Text == nil {
			j.Text = &r
		}
	}
	for _, fd := range f.Fields {
		j.Fields = append(j.Fields, Field{Name: fd.Name, Offset: fd.Offset, Length: fd.Length,
			Bits: int(fd.Bits), Value: fd.Value, Note: fd.Note, NoteKey: fd.NoteKey, NoteArgs: fd.NoteArgs})
	}
	return j
}

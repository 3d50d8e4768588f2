package lab

import (
	"encoding/hex"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/learnws/learnws/framing"
	"github.com/learnws/learnws/handshake"
	"github.com/learnws/learnws/internal/framejson"
)

// Event is one thing seen on a lab session, as the page receives it (one
// Server-Sent Event, JSON). Offsets in a Frame are counted from the frame's
// first byte; Hex holds the frame's bytes exactly as they crossed the wire.
type Event struct {
	Seq  uint64    `json:"seq"`
	Time time.Time `json:"time"`
	MS   float64   `json:"ms"`   // milliseconds since the session started
	Conn string    `json:"conn"` // "lab": the learner's socket; "bad:<script>": a scripted bad client
	// Kind is one of: "session", "handshake", "frame", "bytes", "note", "closed".
	Kind string `json:"kind"`
	Dir  string `json:"dir,omitempty"` // "in": browser (client) to server; "out": server to client

	Session   *SessionInfo   `json:"session,omitempty"`
	Handshake *HandshakeJSON `json:"handshake,omitempty"`
	Frame     *FrameJSON     `json:"frame,omitempty"`
	Bytes     *BytesJSON     `json:"bytes,omitempty"`
	Note      string         `json:"note,omitempty"`     // English text
	NoteKey   string         `json:"note_key,omitempty"` // translation key for the page, when there is one
	NoteArgs  []string       `json:"note_args,omitempty"`
	Close     *CloseJSON     `json:"close,omitempty"`
}

// SessionInfo opens every trace.
type SessionInfo struct {
	ID         string `json:"id"`
	MaxMessage int64  `json:"max_message"`
	FrameShow  int    `json:"frame_show"`
}

// CloseJSON says how a connection ended.
type CloseJSON struct {
	Code   int    `json:"code"`
	Name   string `json:"name"`
	Reason string `json:"reason"`
	Remote bool   `json:"remote"` // true: the client's close (or 1006); false: the server failed the connection
}

// HandshakeJSON is one half of the opening handshake.
type HandshakeJSON struct {
	Raw   string     `json:"raw"`   // the bytes as text
	Hex   string     `json:"hex"`   // the bytes
	Exact bool       `json:"exact"` // true: read from the TCP connection; false: re-serialised (no recording)
	Lines []LineJSON `json:"lines"`
	// Derivation is set on the request: the Accept computed from its key.
	Derivation *DerivationJSON `json:"derivation,omitempty"`
}

// LineJSON is handshake.Line.
type LineJSON struct {
	Offset  int    `json:"offset"`
	Length  int    `json:"length"`
	Name    string `json:"name"`
	Value   string `json:"value"`
	Note    string `json:"note"`
	Kind    string `json:"kind"`
	Problem string `json:"problem,omitempty"`
	// Hidden is set on a line whose value the lab does not show (Cookie,
	// Authorization, Proxy-Authorization: see hiddenFields): the value's length
	// in bytes. Value, the raw text and the hex then hold a placeholder instead.
	Hidden int `json:"hidden,omitempty"`
}

// DerivationJSON is handshake.Derivation, with the same keys as
// `learnws accept --json`, plus the decoded nonce.
type DerivationJSON struct {
	Key          string `json:"key"`
	KeyBytesHex  string `json:"key_bytes_hex"`
	GUID         string `json:"guid"`
	Concatenated string `json:"concatenated"`
	SHA1Hex      string `json:"sha1_hex"`
	Accept       string `json:"accept"`
}

// FrameJSON is one annotated frame: the keys of `learnws decode --json`
// (framejson.Frame, one implementation for the tool and the lab), plus the
// frame's raw bytes (Hex) and, when only its first bytes are kept, Shown <
// Length.
type FrameJSON struct {
	framejson.Frame
	Hex         string    `json:"hex"` // the first Shown bytes of the frame as they crossed the wire
	Shown       int       `json:"shown"`
	Complete    bool      `json:"complete"`     // false: the input (or the connection) ends inside this frame
	LengthBytes int       `json:"length_bytes"` // 0, 2 or 8: the extended length form used on the wire
	Problems    []Problem `json:"problems,omitempty"`
	// StreamOffset is where the frame starts in its direction's byte stream
	// after the handshake (lab events only).
	StreamOffset int64 `json:"stream_offset,omitempty"`
}

// Problem is a broken rule and the close code a receiver answers it with:
// framing.ProtocolError. Rule is the rule's stable name (translate by it,
// filling in Args), Section its section of RFC 6455.
type Problem struct {
	Code    int      `json:"code"`
	Reason  string   `json:"reason"`
	Rule    string   `json:"rule"`
	Section string   `json:"section"`
	Field   string   `json:"field,omitempty"`
	Args    []string `json:"args,omitempty"`
}

// BytesJSON is bytes that are not (yet) a frame, with what is wrong.
type BytesJSON struct {
	Hex   string `json:"hex"`
	Error string `json:"error,omitempty"`
}

// frameJSON converts f, whose bytes on the wire (or the first of them) are raw.
func frameJSON(f *framing.AnnotatedFrame, raw []byte, complete bool) *FrameJSON {
	j := &FrameJSON{
		Frame:       framejson.FromFrame(f),
		Hex:         hex.EncodeToString(raw),
		Shown:       len(raw),
		Complete:    complete,
		LengthBytes: f.Header.LengthBytes,
	}
	for _, p := range f.Problems {
		j.Problems = append(j.Problems, Problem{Code: int(p.Code), Reason: p.Reason,
			Rule: p.Rule.String(), Section: p.Rule.Section(), Field: p.Field, Args: p.Args})
	}
	return j
}

// clip keeps the first n bytes of a frame for display: hex, payload, text and
// fields are cut to match; Length and PayloadLength keep the true sizes.
func (j *FrameJSON) clip(n int) {
	if j.Shown <= n {
		return
	}
	j.Hex = j.Hex[:2*n]
	j.Shown = n
	hdr := j.Length - int(j.PayloadLength)
	if !j.Complete {
		hdr = 2 + j.LengthBytes
		if j.Masked {
			hdr += 4
		}
	}
	keep := n - hdr
	if keep < 0 {
		keep = 0
	}
	if 2*keep < len(j.Payload) {
		j.Payload = j.Payload[:2*keep]
	}
	if j.Text != nil && len(*j.Text) > keep {
		t := (*j.Text)[:keep]
		for len(t) > 0 && !utf8.ValidString(t) {
			t = t[:len(t)-1]
		}
		t += "…"
		j.Text = &t
	}
	end := j.Offset + n
	fields := j.Fields[:0]
	for _, f := range j.Fields {
		if f.Offset >= end {
			continue
		}
		if f.Offset+f.Length > end {
			f.Length = end - f.Offset
		}
		fields = append(fields, f)
	}
	j.Fields = fields
}

func handshakeJSON(raw []byte, exact, request bool) *HandshakeJSON {
	h := &HandshakeJSON{Raw: strings.ToValidUTF8(string(raw), "\uFFFD"), Hex: hex.EncodeToString(raw), Exact: exact, Lines: []LineJSON{}}
	var lines []handshake.Line
	if request {
		lines = handshake.AnnotateRequest(raw)
	} else {
		lines = handshake.AnnotateResponse(raw)
	}
	for _, l := range lines {
		h.Lines = append(h.Lines, LineJSON{Offset: l.Offset, Length: l.Length, Name: l.Name, Value: l.Value, Note: l.Note, Kind: l.Kind, Problem: l.Problem})
		if request && strings.EqualFold(l.Name, "Sec-WebSocket-Key") && h.Derivation == nil {
			h.Derivation = derivationJSON(l.Value)
		}
	}
	return h
}

func derivationJSON(key string) *DerivationJSON {
	d := handshake.Derive(key)
	return &DerivationJSON{
		Key:          d.Key,
		KeyBytesHex:  hex.EncodeToString(d.KeyBytes),
		GUID:         d.GUID,
		Concatenated: d.Concatenated,
		SHA1Hex:      hex.EncodeToString(d.SHA1[:]),
		Accept:       d.Accept,
	}
}

// DecodeJSON is the decoder's answer: every frame in the input, the bytes
// after the last whole frame, and what is wrong, if anything.
type DecodeJSON struct {
	Hex       string      `json:"hex"` // the input bytes
	Frames    []FrameJSON `json:"frames"`
	Partial   *FrameJSON  `json:"partial,omitempty"` // the frame the input cuts off
	Rest      string      `json:"rest"`
	Error     string      `json:"error,omitempty"`
	HexError  *HexError   `json:"hex_error,omitempty"` // the pasted text is not hex (from that point)
	Truncated bool        `json:"truncated,omitempty"` // input longer than the decoder takes; only the start is decoded
}

// Decode annotates b (one or more frames, one direction) for the decoder.
func Decode(b []byte) *DecodeJSON {
	a := framing.Annotate(b)
	d := &DecodeJSON{Hex: hex.EncodeToString(b), Frames: []FrameJSON{}, Rest: hex.EncodeToString(a.Rest)}
	for i := range a.Frames {
		f := &a.Frames[i]
		d.Frames = append(d.Frames, *frameJSON(f, b[f.Offset:f.Offset+f.Length], true))
	}
	if a.Partial != nil {
		p := a.Partial
		d.Partial = frameJSON(p, b[p.Offset:p.Offset+p.Length], false)
	}
	if a.Err != nil {
		d.Error = a.Err.Error()
	}
	return d
}

// annotate explains raw, one frame (or the start of one) that crossed the
// tap in direction dir, at the point of the conversation that state holds,
// and advances state past it. state is the lab's copy of the connection's
// own framing.MessageState (one per direction), and the receiver is the
// role that reads dir, so each frame gets exactly the verdict the server's
// framing.Conn gives it.
func annotate(raw []byte, dir string, state *framing.MessageState) (*FrameJSON, *BytesJSON) {
	receiver := framing.RoleServer // "in": the browser's frames, read by our server
	if dir == "out" {
		receiver = framing.RoleClient
	}
	a := framing.AnnotateNext(raw, receiver, state)
	switch {
	case len(a.Frames) > 0:
		return frameJSON(&a.Frames[0], raw, true), nil
	case a.Partial != nil:
		return frameJSON(a.Partial, raw, false), nil
	}
	bj := &BytesJSON{Hex: hex.EncodeToString(raw)}
	if a.Err != nil {
		bj.Error = a.Err.Error()
	}
	return nil, bj
}

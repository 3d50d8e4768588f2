package conformance

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"

	"github.com/learnws/learnws/framing"
)

// Case is one conformance test: the bytes a client sends and what the server
// must do about them.
type Case struct {
	// ID is Autobahn's case number ("5.9"), or one of ours in section 10.
	ID string
	// Description says what is sent, in Autobahn's words where it has some.
	Description string
	// Send returns the client's bytes, already masked by m (random keys).
	// It is a function so that the large messages of section 9 exist only
	// while their case runs.
	Send func(m *Masker) []Part
	// Expect is what the server must do.
	Expect Expect
	// Size is the number of payload bytes the case sends, for the large
	// cases of section 9 (0 for small ones): Options.MaxSize leaves out
	// cases above a size.
	Size int
}

// Part is a run of client bytes written to the connection, and what to wait
// for after writing it.
type Part struct {
	// Bytes are the raw bytes: whole frames, or pieces of one (a case that
	// tests a server reading a frame in pieces cuts a frame between parts).
	Bytes []byte
	// Chop, if not 0, writes Bytes in pieces of Chop bytes, one write each
	// (Autobahn's "octet-wise chops" is Chop 1). 0 writes Bytes at once.
	Chop int
	// Await waits, after writing, until at least Await events (messages,
	// pongs) have been received since the start of the case.
	Await int
	// Barrier sends, after writing, a ping of the runner's own and waits for
	// its pong: a server handles frames in order, so the pong proves that
	// every byte before it has been acted on. The pong is not an event.
	// Only whole frames may precede a barrier.
	Barrier bool
	// FailHere is a fail-fast checkpoint: the bytes just written make the
	// message invalid, and a strict server fails the connection now, before
	// the message ends. The runner waits up to Options.FailFastWait for the
	// server's close; if it comes, no further part is sent.
	FailHere bool
}

// Closing says who ends a case's connection, and how.
type Closing int

const (
	// ClientCloses: after the expected events, the runner starts the closing
	// handshake with code 1000 (§7.1.2); the server must answer with a close
	// frame (1000 or empty) and then close the TCP connection (§7.1.1).
	ClientCloses Closing = iota
	// ClientClosed: the case's own bytes include a close frame; the server
	// must answer it with a close frame whose code is in Codes.
	ClientClosed
	// ServerFails: the client breaks a rule and the server must "_Fail the
	// WebSocket Connection_" (§7.1.7): send a close frame with a code in
	// Codes, then close the TCP connection.
	ServerFails
)

// Expect is the outcome a case expects.
type Expect struct {
	// Events are the messages and pongs the server must send, in order, for
	// an OK grade.
	Events []Event
	// NonStrict lists further event sequences that are acceptable but graded
	// NON-STRICT (for example, 3.2: a server that fails the connection before
	// echoing the message that came before the bad frame).
	NonStrict [][]Event
	// Close says how the connection must end.
	Close Closing
	// Codes are the acceptable status codes in the server's close frame.
	// Empty with ClientCloses means 1000.
	Codes []framing.CloseCode
	// FailFast says that the server should fail at a FailHere checkpoint;
	// failing only later is NON-STRICT.
	FailFast bool
	// Informational marks behaviour the RFC leaves open: the outcome is
	// recorded but never failed, unless the server breaks the protocol.
	Informational bool
}

// EventKind is what a received event is.
type EventKind int

// The events a client sees: complete messages (fragments put together),
// pongs and pings. Close frames are not events: they end the case.
const (
	Message EventKind = iota
	Pong
	Ping
)

// Event is one thing the server sent: a message (Opcode text or binary,
// Payload reassembled from its fragments) or a control frame.
type Event struct {
	Kind    EventKind
	Opcode  framing.Opcode // OpText or OpBinary for a Message
	Payload []byte
	// Len is the payload's length; Payload may be cut short in a Report
	// (see Result.Events) but Len is not.
	Len int
}

// Text is the event "text message with payload s".
func Text(s string) Event {
	return Event{Kind: Message, Opcode: framing.OpText, Payload: []byte(s), Len: len(s)}
}

// TextBytes is the event "text message with payload p".
func TextBytes(p []byte) Event {
	return Event{Kind: Message, Opcode: framing.OpText, Payload: p, Len: len(p)}
}

// Binary is the event "binary message with payload p".
func Binary(p []byte) Event {
	return Event{Kind: Message, Opcode: framing.OpBinary, Payload: p, Len: len(p)}
}

// PongFor is the event "pong carrying p", the answer to a ping carrying p
// (§5.5.3: "identical Application data").
func PongFor(p []byte) Event {
	return Event{Kind: Pong, Opcode: framing.OpPong, Payload: p, Len: len(p)}
}

// equal reports whether e and o are the same event.
func (e Event) equal(o Event) bool {
	return e.Kind == o.Kind && e.Opcode == o.Opcode && bytes.Equal(e.Payload, o.Payload)
}

// String describes e, for example `text "Hello"`, `binary 16777216 bytes`
// or `pong ""`.
func (e Event) String() string {
	var name string
	switch e.Kind {
	case Message:
		name = e.Opcode.String()
	case Pong:
		name = "pong"
	case Ping:
		name = "ping"
	}
	return name + " " + quote(e.Payload, e.Len)
}

// quote shows a payload of n bytes (of which p is the start) briefly: quoted
// if it is short UTF-8, hex if it is short binary, its size otherwise.
func quote(p []byte, n int) string {
	switch {
	case n > 64 || len(p) < n:
		return strconv.Itoa(n) + " bytes"
	case utf8.Valid(p):
		return strconv.Quote(string(p))
	default:
		return fmt.Sprintf("0x%x", p)
	}
}

func eventsString(evs []Event) string {
	if len(evs) == 0 {
		return "nothing"
	}
	if len(evs) > 4 {
		return fmt.Sprintf("%s, %s, … (%d events), %s", evs[0], evs[1], len(evs), evs[len(evs)-1])
	}
	var b bytes.Buffer
	for i, e := range evs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(e.String())
	}
	return b.String()
}

// Masker builds the client's frames. §5.3: "The masking key is a 32-bit
// value chosen at random by the client. When preparing a masked frame, the
// client MUST pick a fresh masking key" — so every frame gets a new key
// from Rand.
type Masker struct {
	Rand io.Reader // nil means crypto/rand
}

func (m *Masker) key() [4]byte {
	var k [4]byte
	r := m.Rand
	if r == nil {
		r = rand.Reader
	}
	if _, err := io.ReadFull(r, k[:]); err != nil {
		panic("conformance: masking key: " + err.Error())
	}
	return k
}

// Frame returns the wire bytes of a masked frame with header h (its
// PayloadLength and masking key are filled in) and payload p, built with
// framing.AppendFrame.
func (m *Masker) Frame(h framing.Header, p []byte) []byte {
	h.Masked, h.MaskingKey = true, m.key()
	return framing.AppendFrame(nil, h, p)
}

// Header returns the wire bytes of a masked frame header alone, with the
// payload length h declares: for a frame whose payload never follows.
func (m *Masker) Header(h framing.Header) []byte {
	h.Masked, h.MaskingKey = true, m.key()
	return h.AppendTo(nil)
}

// F is one frame of a case, before masking.
type F struct {
	Header  framing.Header
	Payload []byte
	// Unmasked sends the frame without masking (a rule broken on purpose).
	Unmasked bool
}

func (f F) bytes(m *Masker) []byte {
	if f.Unmasked {
		h := f.Header
		h.Masked = false
		return framing.AppendFrame(nil, h, f.Payload)
	}
	return m.Frame(f.Header, f.Payload)
}

// Frame constructors for the table. fr is the general one: fin, opcode and
// payload; the others are shorthands for whole (FIN) frames.
func fr(fin bool, op framing.Opcode, p []byte) F {
	return F{Header: framing.Header{Fin: fin, Opcode: op}, Payload: p}
}
func textF(s string) F   { return fr(true, framing.OpText, []byte(s)) }
func binaryF(p []byte) F { return fr(true, framing.OpBinary, p) }
func pingF(p []byte) F   { return fr(true, framing.OpPing, p) }
func pongF(p []byte) F   { return fr(true, framing.OpPong, p) }
func closeF(p []byte) F  { return fr(true, framing.OpClose, p) }

// closeCodeF is a close frame whose body is the 2-byte code c, whatever c
// is (framing.AppendClosePayload writes no body for 1005, which 7.9.4 must
// send).
func closeCodeF(c uint16) F { return closeF(binary.BigEndian.AppendUint16(nil, c)) }

func withRSV(f F, rsv int) F {
	f.Header.Rsv1, f.Header.Rsv2, f.Header.Rsv3 = rsv&4 != 0, rsv&2 != 0, rsv&1 != 0
	return f
}
func withOpcode(f F, op int) F { f.Header.Opcode = framing.Opcode(op); return f }

// Ways of writing a list of frames, as Autobahn has them.

// together writes all frames in one write ("all in one chop").
func together(fs ...F) func(*Masker) []Part {
	return func(m *Masker) []Part { return []Part{{Bytes: cat(m, fs...)}} }
}

// frameWise writes each frame with a write of its own ("frame-wise chops").
func frameWise(fs ...F) func(*Masker) []Part {
	return func(m *Masker) []Part {
		ps := make([]Part, len(fs))
		for i, f := range fs {
			ps[i] = Part{Bytes: f.bytes(m)}
		}
		return ps
	}
}

// chopped writes all frames as one byte stream in pieces of n bytes
// ("octet-wise chops" for n = 1).
func chopped(n int, fs ...F) func(*Masker) []Part {
	return func(m *Masker) []Part {
		ps := together(fs...)(m)
		ps[0].Chop = n
		return ps
	}
}

// Expectation constructors.

// echo expects evs, then a clean close started by the client.
func echo(evs ...Event) Expect { return Expect{Events: evs, Close: ClientCloses} }

// fail expects the server to fail the connection with one of codes, after
// sending evs.
func fail(evs []Event, codes ...framing.CloseCode) Expect {
	return Expect{Events: evs, Close: ServerFails, Codes: codes}
}

// closed expects the server to answer the client's close frame with one of
// codes, after sending evs.
func closed(evs []Event, codes ...framing.CloseCode) Expect {
	return Expect{Events: evs, Close: ClientClosed, Codes: codes}
}

// repeat returns n copies of b (strings.Repeat for bytes).
func repeat(b []byte, n int) []byte { return bytes.Repeat(b, n) }

package lab

import (
	"bufio"
	"io"
	"net"
	"net/url"
	"time"

	"github.com/learnws/learnws/framing"
	"github.com/learnws/learnws/handshake"
)

// Script is a misbehaving client that a browser cannot be: it writes frames
// no WebSocket API would send. The lab runs it against its own server code
// over an in-memory connection, and the transcript — its handshake, its
// frames and the server's answer, close frame included — goes into the
// session's trace exactly like the learner's own traffic.
type Script struct {
	Name   string
	Expect framing.CloseCode // the close code the server must answer with
	About  string            // what the client does wrong, in English
	frames func() [][]byte   // what the client writes after the handshake
}

var fixedKey = [4]byte{0x37, 0xfa, 0x21, 0x3d} // the RFC §5.7 masking key: recognisable in the grid

func masked(h framing.Header, p []byte) []byte {
	h.Masked, h.MaskingKey = true, fixedKey
	return framing.AppendFrame(nil, h, p)
}

func hello() []byte { return masked(framing.Header{Fin: true, Opcode: framing.OpText}, []byte("Hi")) }

// Scripts lists the scripted bad clients, in the order the page offers them.
var Scripts = []Script{
	{"unmasked", framing.CloseProtocolError, "sends a text frame without the mask bit: a client MUST mask every frame (§5.1)",
		func() [][]byte {
			return [][]byte{hello(), framing.AppendFrame(nil, framing.Header{Fin: true, Opcode: framing.OpText}, []byte("Hi"))}
		}},
	{"bad-opcode", framing.CloseProtocolError, "sends a frame with the reserved opcode 0x3 (§5.2)",
		func() [][]byte { return [][]byte{masked(framing.Header{Fin: true, Opcode: 3}, []byte("?"))} }},
	{"invalid-utf8", framing.CloseInvalidPayload, "sends a text message that is not UTF-8 (the byte 0xFF never occurs in UTF-8, §8.1)",
		func() [][]byte {
			return [][]byte{masked(framing.Header{Fin: true, Opcode: framing.OpText}, []byte{'H', 'i', 0xff})}
		}},
	{"rsv1", framing.CloseProtocolError, "sets RSV1 although no extension was negotiated (§5.2)",
		func() [][]byte {
			return [][]byte{masked(framing.Header{Fin: true, Rsv1: true, Opcode: framing.OpText}, []byte("Hi"))}
		}},
	{"fragmented-ping", framing.CloseProtocolError, "sends a ping without FIN: control frames MUST NOT be fragmented (§5.5)",
		func() [][]byte { return [][]byte{masked(framing.Header{Opcode: framing.OpPing}, []byte("ping"))} }},
	{"long-ping", framing.CloseProtocolError, "sends a ping with 126 bytes of payload: control frames carry at most 125 (§5.5)",
		func() [][]byte {
			p := make([]byte, 126)
			for i := range p {
				p[i] = 'x'
			}
			return [][]byte{masked(framing.Header{Fin: true, Opcode: framing.OpPing}, p)}
		}},
	{"lone-continuation", framing.CloseProtocolError, "sends a continuation frame when no message was started (§5.4)",
		func() [][]byte {
			return [][]byte{masked(framing.Header{Fin: true, Opcode: framing.OpContinuation}, []byte("lo"))}
		}},
	{"too-big", framing.CloseMessageTooBig, "declares a 2^62-byte payload: the server refuses before reading (or allocating) any of it",
		func() [][]byte {
			h := framing.Header{Fin: true, Opcode: framing.OpBinary, Masked: true, MaskingKey: fixedKey, PayloadLength: 1 << 62}
			return [][]byte{append(h.AppendTo(nil), "only a few bytes follow"...)}
		}},
	{"bad-close-code", framing.CloseProtocolError, "sends a close frame with code 1005, which may never be sent on the wire (§7.4.1)",
		func() [][]byte {
			return [][]byte{masked(framing.Header{Fin: true, Opcode: framing.OpClose}, []byte{0x03, 0xed})}
		}},
}

func scriptByName(name string) (Script, bool) {
	for _, s := range Scripts {
		if s.Name == name {
			return s, true
		}
	}
	return Script{}, false
}

// ScriptNames lists the names of Scripts.
func ScriptNames() []string {
	var ns []string
	for _, s := range Scripts {
		ns = append(ns, s.Name)
	}
	return ns
}

// RunScript plays the named bad client against the lab server, on an
// in-memory connection, publishing the transcript to s. It returns when the
// server has closed the connection (bounded: 5 s).
func (l *Lab) RunScript(s *Session, name string) {
	sc, ok := scriptByName(name)
	if !ok {
		return
	}
	label := "bad:" + name
	s.Publish(&Event{Conn: label, Kind: "note", Note: "scripted client: " + sc.About, NoteKey: "badabout." + name})
	l.play(s, label, sc)
}

// play runs sc against the lab server on an in-memory connection, its
// transcript published to s as conn label, and returns when the server has
// closed the connection (bounded: 5 s).
func (l *Lab) play(s *Session, label string, sc Script) {
	client, server := net.Pipe()
	deadline := time.Now().Add(5 * time.Second)
	client.SetDeadline(deadline)
	server.SetDeadline(deadline)
	done := make(chan struct{})
	go func() {
		defer close(done)
		l.serveConn(s, label, server, nil, true, false)
	}()
	runClient(client, sc)
	client.Close()
	<-done
}

// runClient is the bad client: a handshake as a tool would send it, the
// script's frames, then it reads until the server closes, answering a close
// frame like a polite (if broken) client.
func runClient(c net.Conn, sc Script) {
	key, _ := handshake.NewKey(nil)
	u := &url.URL{Scheme: "ws", Host: "lab.invalid", Path: "/ws/lab"}
	if _, err := c.Write(handshake.NewRequest(u, key, nil, "")); err != nil {
		return
	}
	br := bufio.NewReader(c)
	if _, _, err := handshake.ReadResponse(br, key, nil); err != nil {
		return
	}
	// Read everything the server sends while writing the script, so that a
	// synchronous pipe never blocks both sides.
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		for {
			h, err := framing.ReadHeader(br)
			if err != nil {
				return
			}
			if h.PayloadLength > 1<<20 {
				return
			}
			p := make([]byte, h.PayloadLength)
			if _, err := io.ReadFull(br, p); err != nil {
				return
			}
			if h.Opcode == framing.OpClose {
				c.Write(masked(framing.Header{Fin: true, Opcode: framing.OpClose}, p))
				return
			}
		}
	}()
	for _, f := range sc.frames() {
		if _, err := c.Write(f); err != nil {
			break
		}
	}
	<-readDone
}

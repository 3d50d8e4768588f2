package conformance

import (
	"fmt"
	"strings"
	"sync"

	"github.com/learnws/learnws/framing"
)

// Close codes the table uses (RFC 6455 §7.4.1).
const (
	normal      = framing.CloseNormal         // 1000
	protocolErr = framing.CloseProtocolError  // 1002
	invalidData = framing.CloseInvalidPayload // 1007
	tooBig      = framing.CloseMessageTooBig  // 1009
	// noStatus in Expect.Codes accepts a close frame without a body (§5.5.1:
	// "If there is a body, ..."; no body is allowed).
	noStatus = framing.CloseNoStatus
)

// Cases returns every case, in Autobahn's order: sections 1 to 7, 9 and 10.
func Cases() []Case {
	var cs []Case
	cs = append(cs, section1()...)
	cs = append(cs, section2()...)
	cs = append(cs, section3()...)
	cs = append(cs, section4()...)
	cs = append(cs, section5()...)
	cs = append(cs, section6()...)
	cs = append(cs, section7()...)
	cs = append(cs, section9()...)
	cs = append(cs, section10()...)
	return cs
}

// Section 1: framing. Text and binary messages whose lengths sit on both
// sides of each length form of §5.2: 7 bits (0–125), 16 bits (126–65535),
// 64 bits (65536 and up).
func section1() []Case {
	var cs []Case
	lengths := []int{0, 125, 126, 127, 128, 65535, 65536}
	for i, n := range lengths {
		p := strings.Repeat("*", n)
		cs = append(cs, Case{
			ID:          fmt.Sprintf("1.1.%d", i+1),
			Description: fmt.Sprintf("Send text message with payload length %d.", n),
			Send:        together(textF(p)),
			Expect:      echo(Text(p)),
		})
	}
	p := strings.Repeat("*", 65536)
	cs = append(cs, Case{ID: "1.1.8",
		Description: "Send text message with payload length 65536, sent in chops of 997 octets.",
		Send:        chopped(997, textF(p)),
		Expect:      echo(Text(p)),
	})
	for i, n := range lengths {
		b := repeat([]byte{0xfe}, n)
		cs = append(cs, Case{
			ID:          fmt.Sprintf("1.2.%d", i+1),
			Description: fmt.Sprintf("Send binary message with payload length %d.", n),
			Send:        together(binaryF(b)),
			Expect:      echo(Binary(b)),
		})
	}
	b := repeat([]byte{0xfe}, 65536)
	cs = append(cs, Case{ID: "1.2.8",
		Description: "Send binary message with payload length 65536, sent in chops of 997 octets.",
		Send:        chopped(997, binaryF(b)),
		Expect:      echo(Binary(b)),
	})
	return cs
}

// Section 2: pings and pongs. §5.5.2: "Upon receipt of a Ping frame, an
// endpoint MUST send a Pong frame in response"; §5.5.3: "A Pong frame sent
// in response to a Ping frame must have identical "Application data"" and
// "A response to an unsolicited Pong frame is not expected."
func section2() []Case {
	hello := []byte("Hello, world!")
	bin := []byte{0x00, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0x00, 0xff}
	p125 := repeat([]byte{0xfe}, 125)
	p126 := repeat([]byte{0xfe}, 126)
	unsolicited := []byte("unsolicited pong payload")
	pingPayload := []byte("ping payload")
	var tenPings []F
	var tenPongs []Event
	for i := range 10 {
		p := fmt.Appendf(nil, "payload-%d", i)
		tenPings = append(tenPings, pingF(p))
		tenPongs = append(tenPongs, PongFor(p))
	}
	return []Case{
		{ID: "2.1", Description: "Send ping without payload.",
			Send: together(pingF(nil)), Expect: echo(PongFor([]byte{}))},
		{ID: "2.2", Description: "Send ping with small text payload.",
			Send: together(pingF(hello)), Expect: echo(PongFor(hello))},
		{ID: "2.3", Description: "Send ping with small binary (non UTF-8) payload.",
			Send: together(pingF(bin)), Expect: echo(PongFor(bin))},
		{ID: "2.4", Description: "Send ping with binary payload of 125 octets.",
			Send: together(pingF(p125)), Expect: echo(PongFor(p125))},
		{ID: "2.5", Description: "Send ping with binary payload of 126 octets (§5.5: control frames carry at most 125).",
			Send: together(pingF(p126)), Expect: fail(nil, protocolErr)},
		{ID: "2.6", Description: "Send ping with binary payload of 125 octets, in octet-wise chops.",
			Send: chopped(1, pingF(p125)), Expect: echo(PongFor(p125))},
		{ID: "2.7", Description: "Send unsolicited pong without payload.",
			Send: together(pongF(nil)), Expect: echo()},
		{ID: "2.8", Description: "Send unsolicited pong with payload.",
			Send: together(pongF(unsolicited)), Expect: echo()},
		{ID: "2.9", Description: "Send unsolicited pong with payload, then ping with payload.",
			Send: together(pongF(unsolicited), pingF(pingPayload)), Expect: echo(PongFor(pingPayload))},
		{ID: "2.10", Description: "Send 10 pings with payload.",
			Send: together(tenPings...), Expect: echo(tenPongs...)},
		{ID: "2.11", Description: "Send 10 pings with payload, in octet-wise chops.",
			Send: chopped(1, tenPings...), Expect: echo(tenPongs...)},
	}
}

// Section 3: reserved bits. §5.2: RSV1, RSV2, RSV3 "MUST be 0 unless an
// extension is negotiated that defines meanings for non-zero values. If a
// nonzero value is received and none of the negotiated extensions defines
// the meaning of such a nonzero value, the receiving endpoint MUST _Fail the
// WebSocket Connection_." The RSV value is Autobahn's: 4 = RSV1, 2 = RSV2,
// 1 = RSV3.
func section3() []Case {
	const hello = "Hello, world!"
	msgThenBad := func(rsv int) []F {
		return []F{textF(hello), withRSV(textF(hello), rsv), pingF(nil)}
	}
	// The server must echo the message before the bad frame; failing before
	// echoing it is NON-STRICT (Autobahn).
	echoThenFail := Expect{Events: []Event{Text(hello)}, NonStrict: [][]Event{nil},
		Close: ServerFails, Codes: []framing.CloseCode{protocolErr}}
	bin := make([]byte, 256)
	for i := range bin {
		bin[i] = byte(i)
	}
	return []Case{
		{ID: "3.1", Description: "Send small text message with RSV = 1.",
			Send: together(withRSV(textF(hello), 1)), Expect: fail(nil, protocolErr)},
		{ID: "3.2", Description: "Send small text message, then send again with RSV = 2, then send ping.",
			Send: together(msgThenBad(2)...), Expect: echoThenFail},
		{ID: "3.3", Description: "Send small text message, then send again with RSV = 3, then send ping. Frame-wise writes.",
			Send: frameWise(msgThenBad(3)...), Expect: echoThenFail},
		{ID: "3.4", Description: "Send small text message, then send again with RSV = 4, then send ping. Octet-wise chops.",
			Send: chopped(1, msgThenBad(4)...), Expect: echoThenFail},
		{ID: "3.5", Description: "Send small binary message with RSV = 5.",
			Send: together(withRSV(binaryF(bin), 5)), Expect: fail(nil, protocolErr)},
		{ID: "3.6", Description: "Send ping with payload and RSV = 6.",
			Send: together(withRSV(pingF([]byte(hello)), 6)), Expect: fail(nil, protocolErr)},
		{ID: "3.7", Description: "Send close with RSV = 7.",
			Send: together(withRSV(closeCodeF(1000), 7)), Expect: fail(nil, protocolErr)},
	}
}

// Section 4: opcodes. §5.2: "%x3-7 are reserved for further non-control
// frames", "%xB-F are reserved for further control frames", and "If an
// unknown opcode is received, the receiving endpoint MUST _Fail the
// WebSocket Connection_."
func section4() []Case {
	const hello = "Hello, world!"
	payload := []byte("reserved opcode payload")
	echoThenFail := Expect{Events: []Event{Text(hello)}, NonStrict: [][]Event{nil},
		Close: ServerFails, Codes: []framing.CloseCode{protocolErr}}
	var cs []Case
	for _, g := range []struct {
		sub   string
		kind  string
		codes [5]int
	}{{"4.1", "non-control", [5]int{3, 4, 5, 6, 7}}, {"4.2", "control", [5]int{11, 12, 13, 14, 15}}} {
		c := g.codes
		cs = append(cs,
			Case{ID: g.sub + ".1", Description: fmt.Sprintf("Send frame with reserved %s opcode = %d.", g.kind, c[0]),
				Send: together(withOpcode(fr(true, 0, nil), c[0])), Expect: fail(nil, protocolErr)},
			Case{ID: g.sub + ".2", Description: fmt.Sprintf("Send frame with reserved %s opcode = %d and non-empty payload.", g.kind, c[1]),
				Send: together(withOpcode(fr(true, 0, payload), c[1])), Expect: fail(nil, protocolErr)},
			Case{ID: g.sub + ".3", Description: fmt.Sprintf("Send small text message, then send frame with reserved %s opcode = %d, then send ping.", g.kind, c[2]),
				Send: together(textF(hello), withOpcode(fr(true, 0, nil), c[2]), pingF(nil)), Expect: echoThenFail},
			Case{ID: g.sub + ".4", Description: fmt.Sprintf("Send small text message, then send frame with reserved %s opcode = %d and non-empty payload, then send ping.", g.kind, c[3]),
				Send: together(textF(hello), withOpcode(fr(true, 0, payload), c[3]), pingF(nil)), Expect: echoThenFail},
			Case{ID: g.sub + ".5", Description: fmt.Sprintf("Send small text message, then send frame with reserved %s opcode = %d and non-empty payload, then send ping.", g.kind, c[4]),
				Send: together(textF(hello), withOpcode(fr(true, 0, payload), c[4]), pingF(nil)), Expect: echoThenFail},
		)
	}
	return cs
}

// Section 5: fragmentation. §5.4: a fragmented message is a first frame with
// FIN clear and a data opcode, zero or more continuation frames, and a final
// continuation frame with FIN set; "Control frames ... MAY be injected in the
// middle of a fragmented message"; "Control frames themselves MUST NOT be
// fragmented"; "The fragments of one message MUST NOT be interleaved between
// the fragments of another message".
func section5() []Case {
	const (
		op0, op1 = framing.OpContinuation, framing.OpText
	)
	f1, f2 := []byte("fragment1"), []byte("fragment2")
	two := []F{fr(false, op1, f1), fr(true, op0, f2)}
	ping := []byte("ping payload")
	twoPing := []F{fr(false, op1, f1), pingF(ping), fr(true, op0, f2)}
	noCont := func(fin bool) []F {
		return []F{fr(fin, op0, []byte("non-continuation payload")), textF("Hello, world!")}
	}
	repeat2 := func(fin bool) []F {
		one := []F{fr(fin, op0, f1), fr(false, op1, f2), fr(true, op0, []byte("fragment3"))}
		return append(one, one...)
	}
	frags := []string{"fragment1", "fragment2", "fragment3", "fragment4", "fragment5"}
	pings := [][]byte{[]byte("pongme 1!"), []byte("pongme 2!")}
	// 5.19: Autobahn sends two fragments and a ping, waits a second, then
	// sends the rest. We wait for the first pong instead: it must come back
	// while the message is still unfinished.
	case519 := func(m *Masker) []Part {
		a := cat(m, fr(false, op1, []byte(frags[0])), fr(false, op0, []byte(frags[1])), pingF(pings[0]))
		b := cat(m, fr(false, op0, []byte(frags[2])), fr(false, op0, []byte(frags[3])), pingF(pings[1]), fr(true, op0, []byte(frags[4])))
		return []Part{{Bytes: a, Await: 1}, {Bytes: b}}
	}
	frameWise519 := func(m *Masker) []Part {
		fs := []F{fr(false, op1, []byte(frags[0])), fr(false, op0, []byte(frags[1])), pingF(pings[0]),
			fr(false, op0, []byte(frags[2])), fr(false, op0, []byte(frags[3])), pingF(pings[1]), fr(true, op0, []byte(frags[4]))}
		ps := frameWise(fs...)(m)
		ps[2].Await = 1
		return ps
	}
	whole := Text(strings.Join(frags, ""))
	f12 := Text("fragment1fragment2")
	return []Case{
		{ID: "5.1", Description: "Send ping in 2 fragments.",
			Send: together(fr(false, framing.OpPing, f1), fr(true, op0, f2)), Expect: fail(nil, protocolErr)},
		{ID: "5.2", Description: "Send pong in 2 fragments.",
			Send: together(fr(false, framing.OpPong, f1), fr(true, op0, f2)), Expect: fail(nil, protocolErr)},
		{ID: "5.3", Description: "Send text message in 2 fragments.",
			Send: together(two...), Expect: echo(f12)},
		{ID: "5.4", Description: "Send text message in 2 fragments, in octet-wise chops.",
			Send: chopped(1, two...), Expect: echo(f12)},
		{ID: "5.5", Description: "Send text message in 2 fragments, frame-wise writes.",
			Send: frameWise(two...), Expect: echo(f12)},
		{ID: "5.6", Description: "Send text message in 2 fragments, with a ping in between.",
			Send: together(twoPing...), Expect: echo(PongFor(ping), f12)},
		{ID: "5.7", Description: "Send text message in 2 fragments, with a ping in between, in octet-wise chops.",
			Send: chopped(1, twoPing...), Expect: echo(PongFor(ping), f12)},
		{ID: "5.8", Description: "Send text message in 2 fragments, with a ping in between, frame-wise writes.",
			Send: frameWise(twoPing...), Expect: echo(PongFor(ping), f12)},
		{ID: "5.9", Description: "Send unfragmented text message after a continuation frame with FIN = false, where there is nothing to continue.",
			Send: together(noCont(false)...), Expect: fail(nil, protocolErr)},
		{ID: "5.10", Description: "Same as 5.9, in octet-wise chops.",
			Send: chopped(1, noCont(false)...), Expect: fail(nil, protocolErr)},
		{ID: "5.11", Description: "Same as 5.9, frame-wise writes.",
			Send: frameWise(noCont(false)...), Expect: fail(nil, protocolErr)},
		{ID: "5.12", Description: "Send unfragmented text message after a continuation frame with FIN = true, where there is nothing to continue.",
			Send: together(noCont(true)...), Expect: fail(nil, protocolErr)},
		{ID: "5.13", Description: "Same as 5.12, in octet-wise chops.",
			Send: chopped(1, noCont(true)...), Expect: fail(nil, protocolErr)},
		{ID: "5.14", Description: "Same as 5.12, frame-wise writes.",
			Send: frameWise(noCont(true)...), Expect: fail(nil, protocolErr)},
		{ID: "5.15", Description: "Send text message in 2 fragments, then a continuation frame with FIN = false where there is nothing to continue, then an unfragmented text message.",
			Send: together(append(two, fr(false, op0, []byte("fragment3")), textF("fragment4"))...),
			Expect: Expect{Events: []Event{f12}, NonStrict: [][]Event{nil}, Close: ServerFails,
				Codes: []framing.CloseCode{protocolErr}}},
		{ID: "5.16", Description: "Twice: a continuation frame with FIN = false (nothing to continue), then a text message in 2 fragments.",
			Send: together(repeat2(false)...), Expect: fail(nil, protocolErr)},
		{ID: "5.17", Description: "Twice: a continuation frame with FIN = true (nothing to continue), then a text message in 2 fragments.",
			Send: together(repeat2(true)...), Expect: fail(nil, protocolErr)},
		{ID: "5.18", Description: "Send text message in 2 fragments, with both frame opcodes set to text.",
			Send: together(fr(false, op1, f1), fr(true, op1, f2)), Expect: fail(nil, protocolErr)},
		{ID: "5.19", Description: "Send a text message in 5 fragments with a ping after the 2nd and the 4th; the first pong must arrive before the message is finished.",
			Send: case519, Expect: echo(PongFor(pings[0]), PongFor(pings[1]), whole)},
		{ID: "5.20", Description: "Same as 5.19, frame-wise writes.",
			Send: frameWise519, Expect: echo(PongFor(pings[0]), PongFor(pings[1]), whole)},
	}
}

// cat returns the masked bytes of fs, one after the other.
func cat(m *Masker, fs ...F) []byte {
	var b []byte
	for _, f := range fs {
		b = append(b, f.bytes(m)...)
	}
	return b
}

// Section 7: the closing handshake (§5.5.1, §7.1) and close codes (§7.4).
func section7() []Case {
	const hello = "Hello World!"
	closeWith := func(code uint16, reason []byte) F {
		return closeF(append(closeCodeF(code).Payload, reason...))
	}
	big := strings.Repeat("BAsd7&jh23", 256<<10/10+1)[:256<<10]
	invalidReason := []byte("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80\x65\x64\x69\x74\x65\x64")
	cs := []Case{
		{ID: "7.1.1", Description: "Send a message followed by a close frame.",
			Send: func(m *Masker) []Part {
				return []Part{{Bytes: textF(hello).bytes(m), Await: 1}, {Bytes: closeCodeF(1000).bytes(m)}}
			},
			Expect: closed([]Event{Text(hello)}, normal)},
		{ID: "7.1.2", Description: "Send two close frames (§5.5.1: after a close, nothing more is processed).",
			Send: together(closeCodeF(1000), closeCodeF(1000)), Expect: closed(nil, normal)},
		{ID: "7.1.3", Description: "Send a ping after a close frame: no pong may come back.",
			Send: together(closeCodeF(1000), pingF([]byte(hello))), Expect: closed(nil, normal)},
		{ID: "7.1.4", Description: "Send a text message after a close frame: it may not be echoed.",
			Send: together(closeCodeF(1000), textF(hello)), Expect: closed(nil, normal)},
		{ID: "7.1.5", Description: "Send the first fragment of a message, then a close frame, then the last fragment.",
			Send:   together(fr(false, framing.OpText, []byte("fragment1")), closeCodeF(1000), fr(true, framing.OpContinuation, []byte("fragment2"))),
			Expect: closed(nil, normal)},
		{ID: "7.1.6", Description: "Send a 256 KiB text message, a small text message, a close frame and a ping, back to back.",
			Send: together(textF(big), textF(hello), closeCodeF(1000), pingF(nil)),
			Expect: Expect{Events: []Event{Text(big), Text(hello)}, NonStrict: [][]Event{nil, {Text(big)}},
				Close: ClientClosed, Codes: []framing.CloseCode{normal}, Informational: true}},

		{ID: "7.3.1", Description: "Send a close frame with payload length 0 (no close code, no reason).",
			Send: together(closeF(nil)), Expect: closed(nil, noStatus, normal)},
		{ID: "7.3.2", Description: "Send a close frame with payload length 1 (§5.5.1: a body starts with a 2-byte code).",
			Send: together(closeF([]byte("a"))), Expect: closed(nil, protocolErr)},
		{ID: "7.3.3", Description: "Send a close frame with payload length 2 (code 1000, no reason).",
			Send: together(closeCodeF(1000)), Expect: closed(nil, normal)},
		{ID: "7.3.4", Description: "Send a close frame with code 1000 and a reason.",
			Send: together(closeWith(1000, []byte(hello))), Expect: closed(nil, normal)},
		{ID: "7.3.5", Description: "Send a close frame with code 1000 and a reason of 123 bytes (payload 125 bytes, the most a control frame holds).",
			Send: together(closeWith(1000, repeat([]byte("*"), 123))), Expect: closed(nil, normal)},
		{ID: "7.3.6", Description: "Send a close frame with code 1000 and a reason of 124 bytes (payload 126 bytes: too long for a control frame).",
			Send: together(closeWith(1000, repeat([]byte("*"), 124))), Expect: closed(nil, protocolErr)},
		{ID: "7.5.1", Description: "Send a close frame with code 1000 and a reason that is not valid UTF-8.",
			Send: together(closeWith(1000, invalidReason)), Expect: closed(nil, protocolErr, invalidData)},
	}
	// 7.7: valid codes; the server echoes the code or answers 1000.
	for i, c := range []uint16{1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999} {
		cs = append(cs, Case{ID: fmt.Sprintf("7.7.%d", i+1),
			Description: fmt.Sprintf("Send a close frame with the valid close code %d.", c),
			Send:        together(closeCodeF(c)),
			Expect:      closed(nil, normal, framing.CloseCode(c))})
	}
	// 7.9: codes that may not appear on the wire (§7.4.1, §7.4.2): the
	// server must answer 1002.
	for i, c := range []uint16{0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999} {
		cs = append(cs, Case{ID: fmt.Sprintf("7.9.%d", i+1),
			Description: fmt.Sprintf("Send a close frame with the invalid close code %d.", c),
			Send:        together(closeCodeF(c)),
			Expect:      closed(nil, protocolErr)})
	}
	// 7.13: codes above the ranges §7.4.2 lists; what to do is undefined.
	for i, c := range []uint16{5000, 65535} {
		cs = append(cs, Case{ID: fmt.Sprintf("7.13.%d", i+1),
			Description: fmt.Sprintf("Send a close frame with close code %d (outside every range of §7.4.2).", c),
			Send:        together(closeCodeF(c)),
			Expect: Expect{Close: ClientClosed, Informational: true,
				Codes: []framing.CloseCode{normal, framing.CloseCode(c), protocolErr}}})
	}
	return cs
}

// bigPayload is a 16 MiB run of printable ASCII (valid as text and as
// binary) that section 9 slices its messages from. The bytes vary, so that a
// server mixing up offsets is caught.
var bigPayload = sync.OnceValue(func() []byte {
	b := make([]byte, 16<<20)
	for i := range b {
		b[i] = byte(' ' + (i*31+i/251)%95)
	}
	return b
})

// Section 9, lightly: large messages in one frame and in fragments, a large
// frame written in small chops, and many small messages one after the other.
// Autobahn times these; we only check the echoes.
func section9() []Case {
	big := bigPayload()
	var cs []Case
	sizes := []int{64 << 10, 256 << 10, 1 << 20, 4 << 20, 8 << 20, 16 << 20}
	for _, bin := range []bool{false, true} {
		sub, kind := "9.1", "text"
		if bin {
			sub, kind = "9.2", "binary"
		}
		for i, n := range sizes {
			cs = append(cs, Case{ID: fmt.Sprintf("%s.%d", sub, i+1),
				Description: fmt.Sprintf("Send %s message of %s in one frame.", kind, size(n)),
				Send:        together(dataF(bin, true, false, big[:n])),
				Expect:      echo(msg(bin, big[:n])),
				Size:        n})
		}
	}
	const fragTotal = 4 << 20
	fragSizes := []int{64, 256, 1 << 10, 4 << 10, 16 << 10, 64 << 10, 256 << 10, 1 << 20, 4 << 20}
	for _, bin := range []bool{false, true} {
		sub, kind := "9.3", "text"
		if bin {
			sub, kind = "9.4", "binary"
		}
		for i, n := range fragSizes {
			cs = append(cs, Case{ID: fmt.Sprintf("%s.%d", sub, i+1),
				Description: fmt.Sprintf("Send %s message of %s in fragments of %s.", kind, size(fragTotal), size(n)),
				Send:        fragmented(bin, big[:fragTotal], n),
				Expect:      echo(msg(bin, big[:fragTotal])),
				Size:        fragTotal})
		}
	}
	const chopTotal = 1 << 20
	for _, bin := range []bool{false, true} {
		sub, kind := "9.5", "text"
		if bin {
			sub, kind = "9.6", "binary"
		}
		for i, n := range []int{64, 128, 256, 512, 1024, 2048} {
			cs = append(cs, Case{ID: fmt.Sprintf("%s.%d", sub, i+1),
				Description: fmt.Sprintf("Send %s message of %s in one frame, written in chops of %d bytes.", kind, size(chopTotal), n),
				Send:        chopped(n, dataF(bin, true, false, big[:chopTotal])),
				Expect:      echo(msg(bin, big[:chopTotal])),
				Size:        chopTotal})
		}
	}
	const count = 1000
	for _, bin := range []bool{false, true} {
		sub, kind := "9.7", "text"
		if bin {
			sub, kind = "9.8", "binary"
		}
		for i, n := range []int{0, 16, 64, 256, 1024, 4096} {
			p := big[:n]
			evs := make([]Event, count)
			for j := range evs {
				evs[j] = msg(bin, p)
			}
			cs = append(cs, Case{ID: fmt.Sprintf("%s.%d", sub, i+1),
				Description: fmt.Sprintf("Send %d %s messages of %d bytes, each after the echo of the one before.", count, kind, n),
				Send: func(m *Masker) []Part {
					ps := make([]Part, count)
					for j := range ps {
						ps[j] = Part{Bytes: dataF(bin, true, false, p).bytes(m), Await: j + 1}
					}
					return ps
				},
				Expect: echo(evs...),
				Size:   count * n})
		}
	}
	return cs
}

// dataF is a text (or binary) frame; cont makes it a continuation frame.
func dataF(bin, fin, cont bool, p []byte) F {
	op := framing.OpText
	switch {
	case cont:
		op = framing.OpContinuation
	case bin:
		op = framing.OpBinary
	}
	return fr(fin, op, p)
}

func msg(bin bool, p []byte) Event {
	if bin {
		return Binary(p)
	}
	return TextBytes(p)
}

// fragmented sends p as one message in fragments of n bytes, all in one
// write.
func fragmented(bin bool, p []byte, n int) func(*Masker) []Part {
	return func(m *Masker) []Part {
		b := make([]byte, 0, len(p)+(len(p)/n+1)*14)
		for off := 0; off < len(p); off += n {
			end := min(off+n, len(p))
			b = append(b, dataF(bin, end == len(p), off > 0, p[off:end]).bytes(m)...)
		}
		return []Part{{Bytes: b}}
	}
}

func size(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// Section 10: Autobahn's 10.1.1, then rules of RFC 6455 that Autobahn's
// client cannot test (it always masks, and always encodes lengths
// minimally).
func section10() []Case {
	p := strings.Repeat("*", 65536)
	b := []byte(p)
	hello := "Hello, world!"
	var auto []F
	for off := 0; off < len(b); off += 1300 {
		end := min(off+1300, len(b))
		auto = append(auto, dataF(false, end == len(b), off > 0, b[off:end]))
	}
	unmasked := func(f F) F { f.Unmasked = true; return f }
	longForm := func(n int) func(*Masker) []Part {
		return func(m *Masker) []Part {
			return []Part{{Bytes: m.Frame(framing.Header{Fin: true, Opcode: framing.OpText, LengthBytes: n}, []byte(hello))}}
		}
	}
	nonMinimal := Expect{Events: []Event{Text(hello)}, NonStrict: [][]Event{nil}, Close: ClientCloses,
		Codes: []framing.CloseCode{protocolErr}, Informational: true}
	return []Case{
		{ID: "10.1.1", Description: "Send text message with payload of length 65536 in fragments of 1300 bytes.",
			Send: together(auto...), Expect: echo(Text(p))},
		{ID: "10.2.1", Description: "(learnws) Send an unmasked text frame. §5.1: \"The server MUST close the connection upon receiving a frame that is not masked.\"",
			Send: together(unmasked(textF(hello))), Expect: fail(nil, protocolErr)},
		{ID: "10.2.2", Description: "(learnws) Send a masked text message, then an unmasked ping.",
			Send: together(textF(hello), unmasked(pingF([]byte("unmasked")))),
			Expect: Expect{Events: []Event{Text(hello)}, NonStrict: [][]Event{nil}, Close: ServerFails,
				Codes: []framing.CloseCode{protocolErr}}},
		{ID: "10.3.1", Description: "(learnws) Send a text frame header declaring 2^63 payload bytes (§5.2: \"the most significant bit MUST be 0\"), and no payload.",
			Send: func(m *Masker) []Part {
				return []Part{{Bytes: m.Header(framing.Header{Fin: true, Opcode: framing.OpText, PayloadLength: 1 << 63})}}
			},
			Expect: fail(nil, protocolErr, tooBig)},
		{ID: "10.3.2", Description: "(learnws) Send a binary frame header declaring 2^63-1 payload bytes, and no payload (§10.4: implementations SHOULD limit message size; 1009).",
			Send: func(m *Masker) []Part {
				return []Part{{Bytes: m.Header(framing.Header{Fin: true, Opcode: framing.OpBinary, PayloadLength: 1<<63 - 1})}}
			},
			Expect: fail(nil, tooBig)},
		{ID: "10.4.1", Description: "(learnws) Send a small text message with its length in the 16-bit form (§5.2: \"the minimal number of bytes MUST be used\"; receivers commonly accept it).",
			Send: longForm(2), Expect: nonMinimal},
		{ID: "10.4.2", Description: "(learnws) Send a small text message with its length in the 64-bit form.",
			Send: longForm(8), Expect: nonMinimal},
	}
}

package conformance

import (
	"fmt"
	"strings"

	"github.com/learnws/learnws/framing"
)

// Section 6: UTF-8 handling. §5.6: "The "Payload data" is text data encoded
// as UTF-8." §8.1: "When an endpoint is to interpret a byte stream as UTF-8
// but finds that the byte stream is not, in fact, a valid UTF-8 stream, that
// endpoint MUST _Fail the WebSocket Connection_" — with 1007 (§7.4.1: "data
// within a message that was not consistent with the type of the message").
// Validity is decided on the whole message, fragments put together: a code
// point may be split across frames.
func section6() []Case {
	const (
		op0, op1 = framing.OpContinuation, framing.OpText
	)
	// κόσμε ("kosme", Greek for "world"): the first line of Markus Kuhn's
	// UTF-8 test file. 2-, 3-, 2-, 2- and 2-byte sequences.
	kosme := []byte("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5")
	// κόσμε, then U+D800 (a UTF-16 surrogate, invalid in UTF-8), then "edited".
	invalid := []byte("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80\x65\x64\x69\x74\x65\x64")
	hello := []byte("Hello-\xc2\xb5@\xc3\x9f\xc3\xb6\xc3\xa4\xc3\xbc\xc3\xa0\xc3\xa1-UTF-8!!")
	middle := []byte("middle frame payload")
	// Each byte as a frame of its own: the first a text frame, the rest
	// continuation frames.
	octetFrames := func(p []byte) []F {
		fs := make([]F, len(p))
		for i := range p {
			op := op0
			if i == 0 {
				op = op1
			}
			fs[i] = fr(i == len(p)-1, op, p[i:i+1])
		}
		return fs
	}
	fail1007 := fail(nil, invalidData)

	cs := []Case{
		{ID: "6.1.1", Description: "Send text message of length 0.",
			Send: together(textF("")), Expect: echo(Text(""))},
		{ID: "6.1.2", Description: "Send fragmented text message, 3 fragments each of length 0.",
			Send:   together(fr(false, op1, nil), fr(false, op0, nil), fr(true, op0, nil)),
			Expect: echo(Text(""))},
		{ID: "6.1.3", Description: "Send fragmented text message, 3 fragments, first and last of length 0, middle non-empty.",
			Send:   together(fr(false, op1, nil), fr(false, op0, middle), fr(true, op0, nil)),
			Expect: echo(TextBytes(middle))},

		{ID: "6.2.1", Description: "Send a valid UTF-8 text message in one fragment.",
			Send: together(fr(true, op1, hello)), Expect: echo(TextBytes(hello))},
		{ID: "6.2.2", Description: "Send a valid UTF-8 text message in 2 fragments, split on a code point boundary.",
			Send:   together(fr(false, op1, hello[:12]), fr(true, op0, hello[12:])),
			Expect: echo(TextBytes(hello))},
		{ID: "6.2.3", Description: "Send a valid UTF-8 text message in fragments of 1 octet, so frames end inside code points.",
			Send: together(octetFrames(hello)...), Expect: echo(TextBytes(hello))},
		{ID: "6.2.4", Description: "Send a valid UTF-8 text message (κόσμε) in fragments of 1 octet, so frames end inside code points.",
			Send: together(octetFrames(kosme)...), Expect: echo(TextBytes(kosme))},

		{ID: "6.3.1", Description: "Send an invalid UTF-8 text message (κόσμε, U+D800, \"edited\") unfragmented.",
			Send: together(fr(true, op1, invalid)), Expect: fail1007},
		{ID: "6.3.2", Description: "Send the same invalid UTF-8 text message in fragments of 1 octet.",
			Send: together(octetFrames(invalid)...), Expect: fail1007},
	}
	cs = append(cs, failFastCases(kosme)...)

	// 6.5 to 6.23: one text message per byte sequence of Markus Kuhn's
	// UTF-8 decoder stress test, as Autobahn numbers them.
	for i, g := range utf8Groups() {
		for j, s := range g.Seqs {
			c := Case{ID: fmt.Sprintf("6.%d.%d", i+5, j+1)}
			p := s.Bytes
			if s.Valid {
				c.Description = fmt.Sprintf("%s: send a text message with the valid UTF-8 payload 0x%x.", g.Name, p)
				c.Expect = echo(TextBytes(p))
			} else {
				c.Description = fmt.Sprintf("%s: send a text message with the invalid UTF-8 payload 0x%x.", g.Name, p)
				c.Expect = fail1007
			}
			c.Send = together(fr(true, op1, p))
			cs = append(cs, c)
		}
	}
	return cs
}

// failFastCases are 6.4.1 to 6.4.4: an invalid text message sent in three
// parts, the second of which makes it invalid. A server that validates as
// bytes arrive fails the connection after the second part, before the
// message is finished (Autobahn: "fail fast on UTF-8"); one that validates
// whole messages fails only after the third (NON-STRICT).
func failFastCases(kosme []byte) []Case {
	const op0, op1 = framing.OpContinuation, framing.OpText
	edited := []byte("edited")
	// 6.4.1 and 6.4.3: U+110000 encoded as F4 90 80 80 — beyond U+10FFFF, so
	// the byte 0x90 is the first invalid one.
	a1, a2 := kosme, []byte("\xf4\x90\x80\x80")
	// 6.4.2 and 6.4.4: the same bytes cut elsewhere: F4 ends the first part,
	// 90 alone makes the second part.
	b1, b2, b3 := append(append([]byte(nil), kosme...), 0xf4), []byte("\x90"), []byte("\x80\x80edited")

	// Frames: after the first fragment, a barrier (our ping, and its pong)
	// proves the server accepted it; after the second, the checkpoint.
	frames := func(p1, p2, p3 []byte) func(*Masker) []Part {
		return func(m *Masker) []Part {
			return []Part{
				{Bytes: fr(false, op1, p1).bytes(m), Barrier: true},
				{Bytes: fr(false, op0, p2).bytes(m), FailHere: true},
				{Bytes: fr(true, op0, p3).bytes(m)},
			}
		}
	}
	// Chops: one frame, written in three pieces cut at the same places. A
	// barrier cannot go inside a frame, so a server failing too early (on
	// the valid first piece) is not told apart from one failing on time.
	chops := func(p1, p2, p3 []byte) func(*Masker) []Part {
		return func(m *Masker) []Part {
			all := append(append(append([]byte(nil), p1...), p2...), p3...)
			b := fr(true, op1, all).bytes(m)
			h := len(b) - len(all)
			c1, c2 := h+len(p1), h+len(p1)+len(p2)
			return []Part{{Bytes: b[:c1]}, {Bytes: b[c1:c2], FailHere: true}, {Bytes: b[c2:]}}
		}
	}
	ff := Expect{Close: ServerFails, Codes: []framing.CloseCode{invalidData}, FailFast: true}
	return []Case{
		{ID: "6.4.1", Description: "Send an invalid UTF-8 text message in 3 fragments: κόσμε, then F4 90 80 80 (U+110000, out of range), then \"edited\". The server should fail on the 2nd fragment.",
			Send: frames(a1, a2, edited), Expect: ff},
		{ID: "6.4.2", Description: "Same as 6.4.1, cut differently: κόσμε + F4, then 90, then 80 80 \"edited\". The server should fail on the 2nd fragment (F4 90 is already invalid).",
			Send: frames(b1, b2, b3), Expect: ff},
		{ID: "6.4.3", Description: "Same bytes as 6.4.1, in one frame written in 3 chops. The server should fail on the 2nd chop, before the frame is complete.",
			Send: chops(a1, a2, edited), Expect: ff},
		{ID: "6.4.4", Description: "Same bytes as 6.4.2, in one frame written in 3 chops (the 2nd chop is the single byte 90).",
			Send: chops(b1, b2, b3), Expect: ff},
	}
}

// utf8Seq is one byte sequence of the UTF-8 table and whether it is valid
// UTF-8 as a whole message (RFC 3629).
type utf8Seq struct {
	Valid bool
	Bytes []byte
}

// utf8Group is one subsection of the table (6.5, 6.6, ...).
type utf8Group struct {
	Name string
	Seqs []utf8Seq
}

// utf8Groups is the table of Autobahn's createUtf8TestSequences, itself
// from Markus Kuhn's http://www.cl.cam.ac.uk/~mgk25/ucs/examples/UTF-8-test.txt
// (section numbers of that file in the comments). The order is Autobahn's,
// so the case IDs 6.5.1 ... 6.23.7 match its reports.
func utf8Groups() []utf8Group {
	v := func(s string) utf8Seq { return utf8Seq{true, []byte(s)} }
	x := func(s string) utf8Seq { return utf8Seq{false, []byte(s)} }
	kosme := "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"

	var gs []utf8Group
	add := func(name string, seqs ...utf8Seq) { gs = append(gs, utf8Group{name, seqs}) }

	// 1: some correct UTF-8 text.
	add("Some valid UTF-8 sequences",
		v("hello\x24world"),             // U+0024
		v("hello\xc2\xa2world"),         // U+00A2
		v("hello\xe2\x82\xacworld"),     // U+20AC
		v("hello\xf0\xa4\xad\xa2world"), // U+24B62
		v(kosme))
	// Every prefix of κόσμε: valid only where it ends on a code point.
	var prefixes []utf8Seq
	for i := 1; i <= len(kosme); i++ {
		complete := i == 2 || i == 5 || i == 7 || i == 9 || i == 11
		prefixes = append(prefixes, utf8Seq{complete, []byte(kosme[:i])})
	}
	add("All prefixes of a valid UTF-8 string that contains multi-byte code points", prefixes...)
	// 2.1
	add("First possible sequence of a certain length",
		v("\x00"), v("\xc2\x80"), v("\xe0\xa0\x80"), v("\xf0\x90\x80\x80"))
	// Valid in the old 31-bit UTF-8 scheme, invalid in RFC 3629 (above U+10FFFF).
	add("First possible sequence length 5/6 (invalid codepoints)",
		x("\xf8\x88\x80\x80\x80"), x("\xfc\x84\x80\x80\x80\x80"))
	// 2.2
	add("Last possible sequence of a certain length",
		v("\x7f"), v("\xdf\xbf"), v("\xef\xbf\xbf"), v("\xf4\x8f\xbf\xbf"))
	add("Last possible sequence length 4/5/6 (invalid codepoints)",
		x("\xf7\xbf\xbf\xbf"), x("\xfb\xbf\xbf\xbf\xbf"), x("\xfd\xbf\xbf\xbf\xbf\xbf"))
	// 2.3
	add("Other boundary conditions",
		v("\xed\x9f\xbf"), v("\xee\x80\x80"), v("\xef\xbf\xbd"), v("\xf4\x8f\xbf\xbf"), x("\xf4\x90\x80\x80"))
	// 3.1
	var conts []byte
	for b := 0x80; b < 0xbf; b++ { // Autobahn's xrange(0x80, 0xbf): 0xbf left out
		conts = append(conts, byte(b))
	}
	add("Unexpected continuation bytes",
		x("\x80"), x("\xbf"), x("\x80\xbf"), x("\x80\xbf\x80"), x("\x80\xbf\x80\xbf"),
		x("\x80\xbf\x80\xbf\x80"), x("\x80\xbf\x80\xbf\x80\xbf"), utf8Seq{false, conts})
	// 3.2: each start byte of a range, followed by a space.
	var lonely []utf8Seq
	for _, r := range [][2]int{{0xc0, 0xdf}, {0xe0, 0xef}, {0xf0, 0xf7}, {0xf8, 0xfb}, {0xfc, 0xfd}} {
		var b []byte
		for c := r[0]; c < r[1]; c++ { // upper bound left out, as in Autobahn
			b = append(b, byte(c), ' ')
		}
		lonely = append(lonely, utf8Seq{false, b})
	}
	add("Lonely start characters", lonely...)
	// 3.3
	missing := []string{"\xc0", "\xe0\x80", "\xf0\x80\x80", "\xf8\x80\x80\x80", "\xfc\x80\x80\x80\x80",
		"\xdf", "\xef\xbf", "\xf7\xbf\xbf", "\xfb\xbf\xbf\xbf", "\xfd\xbf\xbf\xbf\xbf"}
	var ms []utf8Seq
	for _, s := range missing {
		ms = append(ms, x(s))
	}
	add("Sequences with last continuation byte missing", ms...)
	// 3.4
	add("Concatenation of incomplete sequences", x(strings.Join(missing, "")))
	// 3.5
	add("Impossible bytes", x("\xfe"), x("\xff"), x("\xfe\xfe\xff\xff"))
	// 4.1
	add("Examples of an overlong ASCII character",
		x("\xc0\xaf"), x("\xe0\x80\xaf"), x("\xf0\x80\x80\xaf"), x("\xf8\x80\x80\x80\xaf"), x("\xfc\x80\x80\x80\x80\xaf"))
	// 4.2
	add("Maximum overlong sequences",
		x("\xc1\xbf"), x("\xe0\x9f\xbf"), x("\xf0\x8f\xbf\xbf"), x("\xf8\x87\xbf\xbf\xbf"), x("\xfc\x83\xbf\xbf\xbf\xbf"))
	// 4.3
	add("Overlong representation of the NUL character",
		x("\xc0\x80"), x("\xe0\x80\x80"), x("\xf0\x80\x80\x80"), x("\xf8\x80\x80\x80\x80"), x("\xfc\x80\x80\x80\x80\x80"))
	// 5.1
	add("Single UTF-16 surrogates",
		x("\xed\xa0\x80"), x("\xed\xad\xbf"), x("\xed\xae\x80"), x("\xed\xaf\xbf"),
		x("\xed\xb0\x80"), x("\xed\xbe\x80"), x("\xed\xbf\xbf"))
	// 5.2
	add("Paired UTF-16 surrogates",
		x("\xed\xa0\x80\xed\xb0\x80"), x("\xed\xa0\x80\xed\xbf\xbf"), x("\xed\xad\xbf\xed\xb0\x80"),
		x("\xed\xad\xbf\xed\xbf\xbf"), x("\xed\xae\x80\xed\xb0\x80"), x("\xed\xae\x80\xed\xbf\xbf"),
		x("\xed\xaf\xbf\xed\xb0\x80"), x("\xed\xaf\xbf\xed\xbf\xbf"))
	// 5.3: noncharacters are valid UTF-8 (RFC 3629; Unicode Corrigendum #9).
	nonchars := []utf8Seq{v("\xef\xbf\xbe"), v("\xef\xbf\xbf")}
	for _, z1 := range []byte{0xf0, 0xf1, 0xf2, 0xf3, 0xf4} {
		for _, z2 := range []byte{0x8f, 0x9f, 0xaf, 0xbf} {
			if z1 == 0xf4 && z2 != 0x8f {
				continue // above U+10FFFF
			}
			for _, z3 := range []byte{0xbe, 0xbf} {
				if z1 == 0xf0 && z2 == 0x8f {
					continue // overlong
				}
				nonchars = append(nonchars, utf8Seq{true, []byte{z1, z2, 0xbf, z3}})
			}
		}
	}
	add("Non-character code points (valid UTF-8)", nonchars...)
	add("Unicode specials (i.e. replacement char)",
		v("\xef\xbf\xb9"), v("\xef\xbf\xba"), v("\xef\xbf\xbb"), v("\xef\xbf\xbc"),
		v("\xef\xbf\xbd"), v("\xef\xbf\xbe"), v("\xef\xbf\xbf"))
	return gs
}

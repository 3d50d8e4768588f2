package framing

// UTF8Validator checks text incrementally, as it arrives in frames and in
// pieces of frames. RFC 6455 §5.6: "The "Payload data" is text data encoded
// as UTF-8." §8.1: "When an endpoint is to interpret a byte stream as UTF-8
// but finds that the byte stream is not, in fact, a valid UTF-8 stream, that
// endpoint MUST _Fail the WebSocket Connection_." (close code 1007).
//
// A text message may be split across fragments anywhere, even inside a
// character, so the validator keeps the state of an unfinished sequence
// between calls. It fails fast: [UTF8Validator.Write] returns false as soon
// as the bytes seen so far cannot be the start of valid UTF-8, without
// waiting for the end of the message.
//
// It is written from the table of well-formed byte sequences (Unicode
// Standard, Table 3-7):
//
//	Code points         1st byte  2nd byte  3rd byte  4th byte
//	U+0000..U+007F      00..7F
//	U+0080..U+07FF      C2..DF    80..BF
//	U+0800..U+0FFF      E0        A0..BF    80..BF
//	U+1000..U+CFFF      E1..EC    80..BF    80..BF
//	U+D000..U+D7FF      ED        80..9F    80..BF
//	U+E000..U+FFFF      EE..EF    80..BF    80..BF
//	U+10000..U+3FFFF    F0        90..BF    80..BF    80..BF
//	U+40000..U+FFFFF    F1..F3    80..BF    80..BF    80..BF
//	U+100000..U+10FFFF  F4        80..8F    80..BF    80..BF
//
// C0, C1 and F5..FF never appear; E0 80..9F would be an overlong form, ED
// A0..BF a surrogate, F0 80..8F overlong, F4 90..BF beyond U+10FFFF.
//
// The zero value is ready to use.
type UTF8Validator struct {
	need   int  // continuation bytes still expected in the current sequence
	lo, hi byte // allowed range of the next continuation byte
	failed bool
}

// Write feeds p to the validator and reports whether everything written so
// far (since the last Reset) can still be, or is, valid UTF-8. Once it has
// returned false it keeps returning false.
func (v *UTF8Validator) Write(p []byte) bool {
	if v.failed {
		return false
	}
	need, lo, hi := v.need, v.lo, v.hi
	for i := 0; i < len(p); i++ {
		c := p[i]
		if need > 0 {
			if c < lo || c > hi {
				v.failed = true
				return false
			}
			need--
			lo, hi = 0x80, 0xBF // after the second byte, any continuation byte
			continue
		}
		if c < 0x80 { // ASCII; skip runs of it quickly
			for i+1 < len(p) && p[i+1] < 0x80 {
				i++
			}
			continue
		}
		switch {
		case c >= 0xC2 && c <= 0xDF:
			need, lo, hi = 1, 0x80, 0xBF
		case c == 0xE0:
			need, lo, hi = 2, 0xA0, 0xBF
		case c >= 0xE1 && c <= 0xEC, c == 0xEE, c == 0xEF:
			need, lo, hi = 2, 0x80, 0xBF
		case c == 0xED:
			need, lo, hi = 2, 0x80, 0x9F
		case c == 0xF0:
			need, lo, hi = 3, 0x90, 0xBF
		case c >= 0xF1 && c <= 0xF3:
			need, lo, hi = 3, 0x80, 0xBF
		case c == 0xF4:
			need, lo, hi = 3, 0x80, 0x8F
		default: // 80..C1 (stray continuation or overlong lead), F5..FF
			v.failed = true
			return false
		}
	}
	v.need, v.lo, v.hi = need, lo, hi
	return true
}

// Complete reports whether everything written since the last Reset is valid
// UTF-8 and does not end inside a character: call it when the last fragment
// of a text message has been written.
func (v *UTF8Validator) Complete() bool { return !v.failed && v.need == 0 }

// Reset makes the validator ready for a new message.
func (v *UTF8Validator) Reset() { *v = UTF8Validator{} }

// Package pastedhex reads the hex a learner pastes: from a terminal, a packet
// capture, a C array or a colleague's chat message. The command-line decoder
// (`learnws decode`, `learnws frame --hex`) and the web lab's decoder both read
// their input here, so the two accept exactly the same text.
package pastedhex

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Error says where pasted hex stops making sense. Bytes holds what was read
// before the problem, so a page can still show the bytes up to there.
type Error struct {
	Line   int    `json:"line"` // 1-based position of the problem in the input
	Col    int    `json:"col"`
	Reason string `json:"reason"` // what is wrong, in words
	Bytes  []byte `json:"-"`      // the bytes read before the problem
}

func (e *Error) Error() string {
	return fmt.Sprintf("pastedhex: line %d, column %d: %s", e.Line, e.Col, e.Reason)
}

// Parse reads hex as the usual tools copy it:
//
//   - a plain stream or groups: "818537fa", "81 85 37 fa", "8185 37fa", one
//     group per line, tabs, commas, semicolons, dashes;
//   - C arrays and escapes: "0x81, 0x85", "0x818537fa", "{0x81,0x85}", "\x81\x85";
//   - colons (Wireshark's "Copy as Hex", tcpdump): "81:85:37:fa";
//   - Wireshark "Copy as C Arrays": "char peer0_0[] = { 0x81, 0x85 };";
//   - dumps with an offset column and an ASCII column: xxd ("00000000: 8185 37fa  ..7."),
//     hexdump -C ("00000000  81 85 37 fa  |..7.|"), Wireshark "Copy as Hex Dump"
//     ("0000   81 85 37 fa   ..7."). A line is a dump line when it begins with
//     an offset of four or more hex digits equal to the bytes read so far,
//     followed by a colon or two spaces; its ASCII column is dropped.
//
// Every byte needs both its digits together: "8 1" is two lone digits, not
// 0x81, because a digit on its own usually means one was lost in copying.
//
// On error it returns an *Error carrying the bytes read before the problem.
func Parse(s string) ([]byte, error) {
	var out []byte
	lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	sawDump := false
	inComment := false
	for li, line := range lines {
		line = blankComments(line, &inComment)
		start := 0
		end := len(line)
		if t := strings.TrimSpace(line); sawDump && len(t) >= 4 && len(t) <= 16 && allHex(t) && hexValue(t) == len(out) {
			continue // hexdump's last line: the final offset alone
		}
		if off, hexStart, ok := dumpOffset(line); ok && off == len(out) {
			sawDump = true
			start = hexStart
			end = dumpHexEnd(line, hexStart)
		} else if i := strings.Index(line, "[] = {"); i >= 0 {
			start = i + len("[] = {")
		} else if i := strings.Index(line, "[]={"); i >= 0 {
			start = i + len("[]={")
		}
		var pending int = -1 // high nibble waiting for its low nibble
		pendingCol := 0
		for i := start; i < end; i++ {
			c := line[i]
			switch {
			case c == '0' && i+1 < end && (line[i+1] == 'x' || line[i+1] == 'X') && pending < 0:
				i++ // skip the 0x prefix
				continue
			case c == '\\' && i+1 < end && line[i+1] == 'x' && pending < 0:
				i++
				continue
			case isHexDigit(c):
				if pending < 0 {
					pending, pendingCol = int(unhex(c)), i
				} else {
					out = append(out, byte(pending<<4)|unhex(c))
					pending = -1
				}
				continue
			case c == ' ' || c == '\t' || c == ',' || c == ':' || c == ';' || c == '{' || c == '}' || c == '-':
				if pending >= 0 {
					return out, &Error{Line: li + 1, Col: pendingCol + 1, Reason: "a lone hex digit: every byte needs two digits", Bytes: out}
				}
				continue
			default:
				return out, &Error{Line: li + 1, Col: i + 1, Reason: fmt.Sprintf("%q is not a hex digit", notHex(line[i:])), Bytes: out}
			}
		}
		if pending >= 0 {
			return out, &Error{Line: li + 1, Col: pendingCol + 1, Reason: "a lone hex digit: every byte needs two digits", Bytes: out}
		}
	}
	if len(out) == 0 {
		return nil, &Error{Line: 1, Col: 1, Reason: "no hex digits in the input"}
	}
	return out, nil
}

// dumpOffset recognises the offset column of a dump line and returns the
// offset and where the hex part starts.
func dumpOffset(line string) (off, hexStart int, ok bool) {
	i := 0
	for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
		i++
	}
	j := i
	for j < len(line) && isHexDigit(line[j]) {
		j++
	}
	if j-i < 4 || j-i > 16 {
		return 0, 0, false
	}
	k := j
	switch {
	case k < len(line) && line[k] == ':':
		k++
	case k+1 < len(line) && line[k] == ' ' && line[k+1] == ' ', k < len(line) && line[k] == '\t':
	default:
		return 0, 0, false
	}
	for k < len(line) && (line[k] == ' ' || line[k] == '\t') {
		k++
	}
	v := 0
	for _, c := range []byte(line[i:j]) {
		v = v<<4 | int(unhex(c))
		if v > 1<<40 {
			return 0, 0, false
		}
	}
	return v, k, true
}

// dumpHexEnd finds where the hex part of a dump line ends: at a '|' (hexdump
// -C), or at the first gap of two or more spaces — except a single gap of
// exactly two spaces after eight bytes, which Wireshark prints mid-line.
func dumpHexEnd(line string, start int) int {
	if i := strings.IndexByte(line[start:], '|'); i >= 0 {
		return start + i
	}
	digits := 0
	i := start
	for i < len(line) {
		if line[i] == ' ' || line[i] == '\t' {
			j := i
			for j < len(line) && (line[j] == ' ' || line[j] == '\t') {
				j++
			}
			gap := j - i
			if j >= len(line) {
				return i
			}
			if gap >= 2 && !(gap == 2 && digits == 16) {
				return i
			}
			i = j
			continue
		}
		if !isHexDigit(line[i]) {
			return i
		}
		digits++
		if digits > 64 { // no dump prints more than 32 bytes a line
			return i
		}
		i++
	}
	return i
}

// blankComments replaces C comments (Wireshark's "Copy as C Arrays" writes
// /* Packet 4 */) with spaces, keeping columns.
func blankComments(line string, in *bool) string {
	b := []byte(line)
	for i := 0; i < len(b); i++ {
		if *in {
			if b[i] == '*' && i+1 < len(b) && b[i+1] == '/' {
				b[i], b[i+1] = ' ', ' '
				i++
				*in = false
				continue
			}
			b[i] = ' '
		} else if b[i] == '/' && i+1 < len(b) && b[i+1] == '*' {
			b[i], b[i+1] = ' ', ' '
			i++
			*in = true
		}
	}
	return string(b)
}

func allHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isHexDigit(s[i]) {
			return false
		}
	}
	return true
}

func hexValue(s string) int {
	v := 0
	for i := 0; i < len(s) && v < 1<<40; i++ {
		v = v<<4 | int(unhex(s[i]))
	}
	return v
}

func isHexDigit(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10
	}
	return 0
}

// notHex is the character at the start of s, for an error message: the whole
// UTF-8 character ('☃', not its first byte), or the byte when s is not UTF-8.
func notHex(s string) rune {
	r, size := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError && size <= 1 {
		return rune(s[0])
	}
	return r
}

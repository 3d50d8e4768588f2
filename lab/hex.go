package lab

import "github.com/learnws/learnws/internal/pastedhex"

// HexError says where pasted hex stops making sense: line, column, reason,
// and the bytes read before the problem (the decoder still shows those).
type HexError = pastedhex.Error

// ParseHex reads hex as the usual tools copy it: xxd, hexdump -C, Wireshark's
// hex dumps and C arrays, 0x prefixes, colons, \x escapes. It is the reader
// `learnws decode` uses too (package pastedhex), so the page and the command
// accept the same text. On error it returns a *HexError.
func ParseHex(s string) ([]byte, error) { return pastedhex.Parse(s) }

package main

import (
	"bufio"
	"flag"
	"io"
	"strings"

	"github.com/learnws/learnws/framing"
	"github.com/learnws/learnws/internal/framejson"
	"github.com/learnws/learnws/internal/pastedhex"
)

// maxHexInput bounds what "decode -" reads: a 32 MiB message (the largest our server
// accepts) as hex with separators.
const maxHexInput = 100 << 20

// runDecode is "learnws decode [--json] HEX|-". The hex may be split over several
// arguments ("decode 81 85 37 fa …") and may be in any format package pastedhex
// reads (xxd, hexdump -C, Wireshark, 0x prefixes, colons; the same as the web
// decoder). Exit status: 0 when the bytes are whole, valid
// frames; 2 for bad input: text that is not hex, bytes that end in the middle of a frame,
// or frames that break the protocol. Whatever could be decoded is printed first, then one
// line on standard error names the problem.
func runDecode(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := newEnv("decode", stdin, stdout, stderr)
	fs := flag.NewFlagSet("decode", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print JSON: {frames:[…], rest, error}")
	pos, err := parseFlags(e, fs, args, "decode [--json] HEX|-   (\"-\" reads the hex from standard input)")
	if err != nil {
		return e.flagExit(err)
	}
	var text string
	switch {
	case len(pos) == 0:
		return e.failf("missing HEX (for example: learnws decode 81 05 48 65 6c 6c 6f), or - to read standard input")
	case len(pos) == 1 && pos[0] == "-":
		b, err := io.ReadAll(io.LimitReader(bufio.NewReader(stdin), maxHexInput+1))
		if err != nil {
			return e.failf("reading standard input: %v", err)
		}
		if len(b) > maxHexInput {
			return e.failf("standard input is larger than %d MiB", maxHexInput>>20)
		}
		text = string(b)
	default:
		text = strings.Join(pos, " ")
	}
	raw, err := pastedhex.Parse(text)
	if err != nil {
		return e.fail(trimPrefix(err))
	}
	return e.annotate(raw, *asJSON)
}

// annotate prints the annotation of raw and returns the exit status (see runDecode).
func (e *env) annotate(raw []byte, asJSON bool) int {
	a := framing.Annotate(raw)
	if asJSON {
		if err := e.writeJSON(framejson.FromAnnotation(a)); err != nil {
			return e.fail(err)
		}
	} else {
		e.printFrames(raw, a, "")
	}
	switch {
	case a.Partial != nil || len(a.Rest) > 0:
		return e.fail(trimPrefix(a.Err))
	case a.Err != nil:
		return e.fail(trimPrefix(a.Err))
	}
	return 0
}

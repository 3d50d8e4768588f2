package main

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"flag"
	"io"
	"strings"

	"github.com/learnws/learnws/framing"
	"github.com/learnws/learnws/internal/framejson"
	"github.com/learnws/learnws/internal/pastedhex"
)

// maxHexInput bounds what "decode -" reads: a 32 MiB message (framing's default
// message limit) as hex with separators.
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
//
// The frames are explained and printed one at a time (framing.Annotator): memory
// stays that of the input and one frame, however many frames the input holds (a
// capture of 12 MB of hex can hold millions), instead of every frame explained at
// once before the first is printed.
func (e *env) annotate(raw []byte, asJSON bool) int {
	out := bufio.NewWriterSize(e.stdout, 64<<10)
	pe := *e
	pe.stdout = out // e.color still says whether the real stdout is a terminal
	a := framing.NewAnnotator(raw)
	var err error
	if asJSON {
		err = writeAnnotationJSON(out, a)
	} else {
		pe.printAnnotator(raw, a, "")
	}
	if ferr := out.Flush(); err == nil {
		err = ferr
	}
	if err != nil {
		return e.fail(err)
	}
	if a.Err() != nil {
		return e.fail(trimPrefix(a.Err()))
	}
	return 0
}

// writeAnnotationJSON writes the JSON of framejson.FromAnnotation(framing.Annotate(b))
// — the same bytes json.Encoder would, a line of compact JSON — one frame at a time
// as a explains them.
func writeAnnotationJSON(w io.Writer, a *framing.Annotator) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	value := func(v any) error {
		buf.Reset()
		if err := enc.Encode(v); err != nil {
			return err
		}
		_, err := w.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
		return err
	}
	io.WriteString(w, `{"frames":[`)
	for i := 0; a.Next(); i++ {
		if i > 0 {
			io.WriteString(w, ",")
		}
		f := a.Frame()
		if err := value(framejson.FromFrame(&f)); err != nil {
			return err
		}
	}
	io.WriteString(w, `],"rest":`)
	if err := value(hex.EncodeToString(a.Rest())); err != nil {
		return err
	}
	if err := a.Err(); err != nil {
		io.WriteString(w, `,"error":`)
		if err := value(err.Error()); err != nil {
			return err
		}
	}
	_, err := io.WriteString(w, "}\n")
	return err
}

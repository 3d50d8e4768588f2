package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/learnws/learnws/framing"
	"github.com/learnws/learnws/handshake"
)

// env is what a command runs with: its streams, and whether stdout is a terminal (then
// the tables get ANSI colour; piped output stays plain).
type env struct {
	name   string // command name, for error lines: "learnws decode: …"
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	color  bool
}

func newEnv(name string, stdin io.Reader, stdout, stderr io.Writer) *env {
	return &env{name: name, stdin: stdin, stdout: stdout, stderr: stderr, color: isTerminal(stdout)}
}

// isTerminal reports whether w is a terminal and colour is wanted (NO_COLOR unset,
// TERM not "dumb").
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	if os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb" {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// fail prints the one-line error "learnws CMD: message" and returns exit status 2.
func (e *env) fail(err error) int {
	fmt.Fprintf(e.stderr, "learnws %s: %s\n", e.name, oneLine(err.Error()))
	return 2
}

func (e *env) failf(format string, a ...any) int {
	return e.fail(fmt.Errorf(format, a...))
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ")), " ")
}

// ANSI styles, used only when env.color is set.
const (
	sReset  = "\x1b[0m"
	sBold   = "\x1b[1m"
	sDim    = "\x1b[2m"
	sRed    = "\x1b[31m"
	sGreen  = "\x1b[32m"
	sYellow = "\x1b[33m"
	sBlue   = "\x1b[34m"
	sCyan   = "\x1b[36m"
)

func (e *env) paint(style, s string) string {
	if !e.color || style == "" || s == "" {
		return s
	}
	return style + s + sReset
}

// table prints rows with aligned columns. A cell's style is applied after padding, so
// colour never disturbs the alignment.
type table struct {
	head   []string
	rows   [][]string
	styles [][]string
}

func (t *table) add(styles []string, cells ...string) {
	t.rows = append(t.rows, cells)
	t.styles = append(t.styles, styles)
}

func (t *table) print(e *env, indent string) {
	widths := make([]int, len(t.head))
	measure := func(cells []string) {
		for i, c := range cells {
			if i < len(widths) && utf8.RuneCountInString(c) > widths[i] {
				widths[i] = utf8.RuneCountInString(c)
			}
		}
	}
	measure(t.head)
	for _, r := range t.rows {
		measure(r)
	}
	line := func(cells, styles []string, headStyle string) {
		var b strings.Builder
		b.WriteString(indent)
		for i, c := range cells {
			st := headStyle
			if styles != nil && i < len(styles) {
				st = styles[i]
			}
			if i == len(cells)-1 {
				b.WriteString(e.paint(st, c))
				break
			}
			pad := widths[i] - utf8.RuneCountInString(c)
			b.WriteString(e.paint(st, c))
			b.WriteString(strings.Repeat(" ", pad+2))
		}
		fmt.Fprintln(e.stdout, strings.TrimRight(b.String(), " "))
	}
	line(t.head, nil, sDim)
	for i, r := range t.rows {
		line(r, t.styles[i], "")
	}
}

// hexSpaced renders b as "81 85 37 fa", cut after max bytes with a count of the rest.
func hexSpaced(b []byte, max int) string {
	cut := b
	if max > 0 && len(b) > max {
		cut = b[:max]
	}
	var s strings.Builder
	for i, c := range cut {
		if i > 0 {
			s.WriteByte(' ')
		}
		fmt.Fprintf(&s, "%02x", c)
	}
	if len(cut) < len(b) {
		fmt.Fprintf(&s, " … (+%d)", len(b)-len(cut))
	}
	return s.String()
}

// bitsPattern shows which bits of a byte a field owns: "1......." for FIN set,
// ".000...." for the RSV bits, the full byte for 0xFF.
func bitsPattern(b, mask byte) string {
	if mask == 0xFF || mask == 0 {
		return ""
	}
	var s [8]byte
	for i := 0; i < 8; i++ {
		bit := byte(0x80) >> i
		switch {
		case mask&bit == 0:
			s[i] = '.'
		case b&bit != 0:
			s[i] = '1'
		default:
			s[i] = '0'
		}
	}
	return string(s[:])
}

// clip shortens s to max runes for a table cell, marking the cut.
func clip(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)
	return string(r[:max-1]) + "…"
}

// printable makes a value safe for one table cell: control characters escaped.
func printable(s string) string {
	q := fmt.Sprintf("%+q", s)
	q = q[1 : len(q)-1]
	if strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) || !utf8.ValidString(s) {
		return q
	}
	return s
}

// fieldStyle colours a field by what it is.
func fieldStyle(name string) string {
	switch {
	case name == "masking_key":
		return sYellow
	case strings.Contains(name, "payload") && !strings.HasPrefix(name, "payload_length"):
		return sGreen
	case strings.HasPrefix(name, "close."):
		return sGreen
	case strings.HasPrefix(name, "payload_length"):
		return sBlue
	}
	return sCyan
}

// printFrames prints an annotation as one summary line and one table per frame.
// input is the bytes that were annotated (for the byte column).
func (e *env) printFrames(input []byte, a framing.Annotation, indent string) {
	for i, f := range a.Frames {
		e.printFrame(input, f, i, false, indent)
	}
	e.printEnd(input, a.Partial, a.Rest, len(a.Frames), indent)
}

// printAnnotator is printFrames for frames explained one at a time.
func (e *env) printAnnotator(input []byte, a *framing.Annotator, indent string) {
	n := 0
	for ; a.Next(); n++ {
		e.printFrame(input, a.Frame(), n, false, indent)
	}
	e.printEnd(input, a.Partial(), a.Rest(), n, indent)
}

// printEnd prints what follows the whole frames: the frame the input ends inside
// (partial), or the rest of the bytes.
func (e *env) printEnd(input []byte, partial *framing.AnnotatedFrame, rest []byte, frames int, indent string) {
	if partial != nil {
		e.printFrame(input, *partial, frames, true, indent)
		return
	}
	if len(rest) > 0 {
		if frames > 0 {
			fmt.Fprintln(e.stdout)
		}
		fmt.Fprintf(e.stdout, "%s%s %d bytes that are not a whole frame: %s\n", indent,
			e.paint(sBold, "rest"), len(rest), hexSpaced(rest, 16))
	}
}

// printFrame prints frame i (counted from 0) of input: a summary line, then a table
// of its fields; partial marks the frame the input ends inside.
func (e *env) printFrame(input []byte, f framing.AnnotatedFrame, i int, partial bool, indent string) {
	if i > 0 {
		fmt.Fprintln(e.stdout)
	}
	title := fmt.Sprintf("frame %d", i+1)
	summary := frameSummary(f)
	if partial {
		title = "incomplete frame"
		summary = fmt.Sprintf("(bytes %d–%d, %d present)", f.Offset, f.Offset+f.Length-1, f.Length)
		if _, _, err := framing.ParseHeader(input[f.Offset:]); err == nil {
			_, desc, _ := strings.Cut(frameSummary(f), ": ")
			summary += ": " + desc
		}
	}
	fmt.Fprintf(e.stdout, "%s%s %s\n", indent, e.paint(sBold, title), summary)
	t := &table{head: []string{"offset", "bytes", "bits", "field", "value", "note"}}
	for _, fd := range f.Fields {
		var raw []byte
		if fd.Offset >= 0 && fd.Offset+fd.Length <= len(input) {
			raw = input[fd.Offset : fd.Offset+fd.Length]
		}
		bits := ""
		if len(raw) == 1 {
			bits = bitsPattern(raw[0], fd.Bits)
		}
		t.add([]string{sDim, "", "", fieldStyle(fd.Name), "", sDim},
			fmt.Sprint(fd.Offset), hexSpaced(raw, 8), bits, fd.Name,
			clip(printable(fd.Value), 48), clip(printable(fd.Note), 72))
	}
	t.print(e, indent+"  ")
	if f.IsText {
		fmt.Fprintf(e.stdout, "%s  %s %s\n", indent, e.paint(sDim, "text:"), e.paint(sGreen, fmt.Sprintf("%q", clipText(f.Text))))
	}
	if f.CloseCode != nil {
		reason := ""
		if f.CloseReason != nil {
			reason = *f.CloseReason
		}
		fmt.Fprintf(e.stdout, "%s  %s %s %q\n", indent, e.paint(sDim, "close:"), e.paint(sGreen, f.CloseCode.String()), reason)
	}
	for _, p := range f.Problems {
		fmt.Fprintf(e.stdout, "%s  %s %s (close %d)\n", indent, e.paint(sRed, "problem:"), p.Reason, uint16(p.Code))
	}
}

func clipText(s string) string {
	if len(s) > 400 {
		cut := 400
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		return s[:cut] + "…"
	}
	return s
}

// frameSummary is the one-line description of a frame: "text, FIN, masked, 5-byte payload".
func frameSummary(f framing.AnnotatedFrame) string {
	h := f.Header
	parts := []string{h.Opcode.String()}
	if h.Fin {
		parts = append(parts, "FIN")
	} else {
		parts = append(parts, "not FIN")
	}
	for i, set := range []bool{h.Rsv1, h.Rsv2, h.Rsv3} {
		if set {
			parts = append(parts, fmt.Sprintf("RSV%d", i+1))
		}
	}
	if h.Masked {
		parts = append(parts, "masked")
	} else {
		parts = append(parts, "unmasked")
	}
	parts = append(parts, fmt.Sprintf("%d-byte payload", h.PayloadLength))
	return fmt.Sprintf("(bytes %d–%d, %d in all): %s", f.Offset, f.Offset+f.Length-1, f.Length, strings.Join(parts, ", "))
}

// annotateHandshake explains every line of an opening handshake's raw request
// (kind "request") or response.
func annotateHandshake(kind string, raw []byte) []handshake.Line {
	if kind == "request" {
		return handshake.AnnotateRequest(raw)
	}
	return handshake.AnnotateResponse(raw)
}

// lineJSON is one handshake line in --json output (dial and proxy events).
type lineJSON struct {
	Offset  int    `json:"offset"`
	Length  int    `json:"length"`
	Name    string `json:"name"`
	Value   string `json:"value"`
	Note    string `json:"note"`
	Problem string `json:"problem,omitempty"`
}

func linesJSON(lines []handshake.Line) []lineJSON {
	ls := []lineJSON{}
	for _, l := range lines {
		ls = append(ls, lineJSON{l.Offset, l.Length, l.Name, l.Value, l.Note, l.Problem})
	}
	return ls
}

// printHandshake prints the annotated lines of raw as a table (offset, the line
// as sent, what it means or what is wrong with it), then a blank line.
func (e *env) printHandshake(raw []byte, lines []handshake.Line) {
	t := &table{head: []string{"offset", "line", "note"}}
	for _, l := range lines {
		text := ""
		if l.Offset >= 0 && l.Offset+l.Length <= len(raw) {
			text = strings.TrimRight(string(raw[l.Offset:l.Offset+l.Length]), "\r\n")
		}
		if text == "" && l.Kind == handshake.KindEnd {
			text = "(blank line)"
		}
		note, style := l.Note, sDim
		if l.Problem != "" {
			note, style = "problem: "+l.Problem, sRed
		}
		t.add([]string{sDim, sCyan, style}, fmt.Sprint(l.Offset), clip(printable(text), 72), clip(oneLine(note), 90))
	}
	t.print(e, "  ")
	fmt.Fprintln(e.stdout)
}

func (e *env) writeJSON(v any) error {
	enc := json.NewEncoder(e.stdout)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

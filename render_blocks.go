package learnws

// The special fenced blocks of a lesson. During parsing, blocksTransformer turns a
// fenced block whose info string names one of them into a *specialBlock node, so the
// syntax highlighter never takes it; blocksRenderer draws it; lessons_test.go checks it
// against the real code.
//
//	```handshake            a Sec-WebSocket-Key and the Accept it must produce
//	key: dGhlIHNhbXBsZSBub25jZQ==
//	accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=
//	caption: optional text
//	```
//
//	```frame                hex bytes (one or more frames), then one line of expected
//	81 05 48 65 6c 6c 6f    fields per frame: fin rsv1 rsv2 rsv3 (0|1), opcode (name),
//	fin=1 opcode=text masked=0 len=5 payload="Hello"
//	```                     masked (0|1), key (hex), len, payload ("quoted text"),
//	                        payload_hex, close_code, close_reason ("quoted"); and
//	                        optionally a last line "rest=HEX" or "error=1"
//
//	```transcript           an HTTP request, a blank line, the response the server
//	GET /ws/echo HTTP/1.1   must send (Date is the only header allowed to differ)
//	…
//
//	HTTP/1.1 101 Switching Protocols
//	…
//	```
//
//	```go                   a complete program …
//	```
//	```output               … and exactly what it prints
//	```
//
//	```demo NAME            a live demo (see RegisterDemo) beside the text; optional
//	key=value               lines become its query string; "caption: …" a caption
//	```
//
//	```measure              claims about the real-time comparison (package realtime,
//	scenario: default       `learnws compare`), one per line; syntax in the
//	short-polling.bytes_per_event ≈ 1300 ±20%
//	websocket.bytes_per_event < long-polling.bytes_per_event < short-polling.bytes_per_event
//	short-polling.latency_p50_ms ≈ interval / 2 ±50%
//	sse.requests = clients    "measure blocks" section below
//	```

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
	"math"
	"net/url"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"

	"github.com/learnws/learnws/framing"
	"github.com/learnws/learnws/handshake"
	"github.com/learnws/learnws/internal/pastedhex"
	"github.com/learnws/learnws/realtime"
)

// special block kinds, by info string
var specialKinds = map[string]bool{
	"handshake": true, "frame": true, "transcript": true, "output": true, "demo": true,
	"measure": true,
}

var kindSpecialBlock = ast.NewNodeKind("LearnwsBlock")

// specialBlock is one special fenced block.
type specialBlock struct {
	ast.BaseBlock
	Block    string // "handshake", "frame", "transcript", "output", "demo", "measure"
	Arg      string // the rest of the info string (the demo's name)
	Body     string // the block's text
	File     string // set by parseLesson
	Line     int    // line of the opening fence
	BodyLine int    // line of the first body line
	Err      error  // the block does not follow its syntax

	Handshake  *handshakeSpec
	Frame      *frameSpec
	Transcript *transcriptSpec
	Output     *outputSpec
	Demo       *demoSpec
	Measure    *measureSpec
}

func (b *specialBlock) Kind() ast.NodeKind { return kindSpecialBlock }
func (b *specialBlock) Dump(src []byte, level int) {
	ast.DumpHelper(b, src, level, map[string]string{"Block": b.Block, "Line": strconv.Itoa(b.Line)}, nil)
}

// Where is "file:line" of the block.
func (b *specialBlock) Where() string { return fmt.Sprintf("%s:%d", b.File, b.Line) }

type handshakeSpec struct {
	Key, Accept string
	Protocols   string // optional: what the client offers
	Caption     string
}

type frameSpec struct {
	Hex     string // as written
	Bytes   []byte
	Expect  []frameExpect // one per frame
	Rest    string        // expected trailing hex ("" = none)
	Error   bool          // the bytes must break the protocol
	Caption string
}

// frameExpect is one frame's expected fields, in the order written.
type frameExpect struct {
	Line   int
	Text   string
	Fields []kv
}

type kv struct{ Key, Value string }

type transcriptSpec struct {
	Request  string // lines joined by "\n", no trailing blank line
	Response string
	Caption  string
}

type outputSpec struct {
	Output string // what the lesson says the program prints
	Code   string // the Go block right before it
	Line   int    // its fence line
}

type demoSpec struct {
	Name    string
	Query   url.Values
	Caption string
}

// blocksTransformer replaces special fenced blocks with specialBlock nodes.
type blocksTransformer struct{}

func (blocksTransformer) Transform(doc *ast.Document, reader text.Reader, pc parser.Context) {
	src := reader.Source()
	var found []*ast.FencedCodeBlock
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if fc, ok := n.(*ast.FencedCodeBlock); ok && entering {
			if specialKinds[string(fc.Language(src))] {
				found = append(found, fc)
			}
		}
		return ast.WalkContinue, nil
	})
	for _, fc := range found {
		b := &specialBlock{Block: string(fc.Language(src))}
		if fc.Info != nil {
			info := strings.TrimSpace(string(fc.Info.Segment.Value(src)))
			_, b.Arg, _ = strings.Cut(info, " ")
			b.Arg = strings.TrimSpace(b.Arg)
			b.Line = lineAt(src, fc.Info.Segment.Start)
		}
		var body strings.Builder
		lines := fc.Lines()
		for i := 0; i < lines.Len(); i++ {
			seg := lines.At(i)
			body.Write(seg.Value(src))
		}
		b.Body = body.String()
		b.BodyLine = b.Line + 1
		b.SetLines(lines)
		b.parse(fc, src)
		fc.Parent().ReplaceChild(fc.Parent(), fc, b)
	}
}

// parse fills in the block's spec from its body.
func (b *specialBlock) parse(fc *ast.FencedCodeBlock, src []byte) {
	lines := strings.Split(strings.TrimRight(b.Body, "\n"), "\n")
	fail := func(i int, format string, args ...any) {
		if b.Err == nil {
			b.Err = fmt.Errorf("line %d: %s", b.BodyLine+i, fmt.Sprintf(format, args...))
		}
	}
	switch b.Block {
	case "handshake":
		h := &handshakeSpec{}
		for i, l := range lines {
			k, v, ok := strings.Cut(l, ":")
			v = strings.TrimSpace(v)
			switch strings.TrimSpace(k) {
			case "key":
				h.Key = v
			case "accept":
				h.Accept = v
			case "protocols":
				h.Protocols = v
			case "caption":
				h.Caption = v
			default:
				if ok || strings.TrimSpace(l) != "" {
					fail(i, "handshake block: want key:, accept:, protocols: or caption:, got %q", l)
				}
			}
		}
		if h.Key == "" || h.Accept == "" {
			fail(0, "handshake block needs both key: and accept:")
		}
		b.Handshake = h
	case "frame":
		f := &frameSpec{}
		var hexParts []string
		for i, l := range lines {
			t := strings.TrimSpace(l)
			switch {
			case t == "" || strings.HasPrefix(t, "#"):
			case strings.HasPrefix(t, "caption:"):
				f.Caption = strings.TrimSpace(strings.TrimPrefix(t, "caption:"))
			case isHexLine(t) && len(f.Expect) == 0:
				hexParts = append(hexParts, t)
			default:
				fields, err := parseKV(t)
				if err != nil {
					fail(i, "frame block: %v", err)
					continue
				}
				if len(fields) == 1 && fields[0].Key == "rest" {
					f.Rest = fields[0].Value
					continue
				}
				if len(fields) == 1 && fields[0].Key == "error" {
					f.Error = fields[0].Value == "1"
					continue
				}
				f.Expect = append(f.Expect, frameExpect{Line: b.BodyLine + i, Text: t, Fields: fields})
			}
		}
		f.Hex = strings.Join(hexParts, " ")
		bs, err := pastedhex.Parse(f.Hex)
		if err != nil {
			fail(0, "frame block: %v", err)
		}
		if len(bs) == 0 {
			fail(0, "frame block has no hex bytes")
		}
		f.Bytes = bs
		b.Frame = f
	case "transcript":
		t := &transcriptSpec{}
		var req, resp []string
		inResp := false
		for _, l := range lines {
			l = strings.TrimRight(l, "\r")
			if strings.HasPrefix(l, "caption:") && !inResp && len(req) == 0 {
				t.Caption = strings.TrimSpace(strings.TrimPrefix(l, "caption:"))
				continue
			}
			if !inResp && l == "" && len(req) > 0 {
				inResp = true
				continue
			}
			if inResp {
				resp = append(resp, l)
			} else {
				req = append(req, l)
			}
		}
		t.Request = strings.Join(req, "\n")
		t.Response = strings.TrimRight(strings.Join(resp, "\n"), "\n")
		if t.Request == "" || t.Response == "" {
			fail(0, "transcript block: want a request, a blank line, then the response")
		}
		b.Transcript = t
	case "output":
		o := &outputSpec{Output: b.Body}
		prev, ok := fc.PreviousSibling().(*ast.FencedCodeBlock)
		if !ok || string(prev.Language(src)) != "go" {
			fail(0, "an output block must follow a ```go block")
		} else {
			var code strings.Builder
			for i := 0; i < prev.Lines().Len(); i++ {
				seg := prev.Lines().At(i)
				code.Write(seg.Value(src))
			}
			o.Code = code.String()
			if prev.Info != nil {
				o.Line = lineAt(src, prev.Info.Segment.Start)
			}
		}
		b.Output = o
	case "demo":
		d := &demoSpec{Name: b.Arg, Query: url.Values{}}
		for i, l := range lines {
			t := strings.TrimSpace(l)
			switch {
			case t == "":
			case strings.HasPrefix(t, "caption:"):
				d.Caption = strings.TrimSpace(strings.TrimPrefix(t, "caption:"))
			default:
				k, v, ok := strings.Cut(t, "=")
				if !ok {
					fail(i, "demo block: want key=value lines, got %q", t)
					continue
				}
				d.Query.Add(strings.TrimSpace(k), strings.TrimSpace(v))
			}
		}
		if d.Name == "" {
			fail(0, "demo block needs a name: ```demo NAME")
		}
		b.Demo = d
	case "measure":
		b.Measure = parseMeasure(lines, b.BodyLine, fail)
	}
}

// isHexLine reports whether every token of t is hex bytes (optionally 0x-prefixed).
func isHexLine(t string) bool {
	for _, tok := range strings.Fields(t) {
		tok = strings.TrimPrefix(strings.TrimPrefix(tok, "0x"), "0X")
		if tok == "" {
			return false
		}
		for _, r := range tok {
			if !strings.ContainsRune("0123456789abcdefABCDEF", r) {
				return false
			}
		}
	}
	return true
}

// parseKV reads `name=value name="quoted value"` tokens.
func parseKV(s string) ([]kv, error) {
	var out []kv
	for s = strings.TrimSpace(s); s != ""; s = strings.TrimSpace(s) {
		eq := strings.IndexByte(s, '=')
		if eq <= 0 {
			return nil, fmt.Errorf("want name=value, got %q", s)
		}
		name := s[:eq]
		if strings.ContainsAny(name, " \t\"") {
			return nil, fmt.Errorf("want name=value, got %q", s)
		}
		rest := s[eq+1:]
		var value string
		if strings.HasPrefix(rest, `"`) {
			q, err := strconv.QuotedPrefix(rest)
			if err != nil {
				return nil, fmt.Errorf("bad quoted value in %q", rest)
			}
			value, _ = strconv.Unquote(q)
			rest = rest[len(q):]
		} else {
			end := strings.IndexAny(rest, " \t")
			if end < 0 {
				end = len(rest)
			}
			value, rest = rest[:end], rest[end:]
		}
		out = append(out, kv{name, value})
		s = rest
	}
	return out, nil
}

// ---------------------------------------------------------------------------
// demos

// Demo is a live demo that a lesson can place beside its text with a ```demo NAME
// block. It is a page of the site, embedded in an iframe as /<lang>/<Path>?embed=1
// (renderPage then drops the header and footer), with a link to the full page.
type Demo struct {
	Path     string // page under /<lang>/, e.g. "lab" or "realtime/race"
	TitleKey string // i18n key of its title (panel caption, header link)
	Nav      bool   // also link it in the site header
	Size     string // panel height: "s", "m" (default) or "l"
	Order    int    // position among header links
	Name     string // set by RegisterDemo
}

var (
	demosMu sync.RWMutex
	demos   = map[string]Demo{}
)

// RegisterDemo makes name usable in ```demo blocks. Call it from an init function
// (lessons are rendered when the first Server is built). Registering a name twice panics.
func RegisterDemo(name string, d Demo) {
	demosMu.Lock()
	defer demosMu.Unlock()
	if _, dup := demos[name]; dup {
		panic("learnws: demo " + strconv.Quote(name) + " registered twice")
	}
	d.Name = name
	demos[name] = d
}

func lookupDemo(name string) (Demo, bool) {
	demosMu.RLock()
	defer demosMu.RUnlock()
	d, ok := demos[name]
	return d, ok
}

func demosInOrder() []Demo {
	demosMu.RLock()
	defer demosMu.RUnlock()
	out := make([]Demo, 0, len(demos))
	for _, d := range demos {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Order != out[j].Order {
			return out[i].Order < out[j].Order
		}
		return out[i].Name < out[j].Name
	})
	return out
}

func init() {
	RegisterDemo("accept", Demo{Path: "accept", TitleKey: "site.accept.title", Size: "m", Order: 90})
}

// ---------------------------------------------------------------------------
// rendering

// blockStrings are the labels the block renderers print, from web/i18n/<lang>/site.json.
var (
	blockStringsOnce sync.Once
	blockStrings     map[string]map[string]string
)

func label(lang, key string) string {
	blockStringsOnce.Do(func() {
		m, err := loadStrings(content)
		if err != nil {
			m = map[string]map[string]string{}
		}
		blockStrings = m
	})
	if v, ok := blockStrings[lang][key]; ok {
		return v
	}
	return key
}

type blocksRenderer struct{ lang string }

func (r *blocksRenderer) RegisterFuncs(reg renderer.NodeRendererFuncRegisterer) {
	reg.Register(kindSpecialBlock, r.render)
}

func (r *blocksRenderer) render(w util.BufWriter, src []byte, n ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkContinue, nil
	}
	b := n.(*specialBlock)
	if b.Err != nil {
		fmt.Fprintf(w, `<div class="block-error">%s: %s</div>`+"\n", esc(b.Block), esc(b.Err.Error()))
		return ast.WalkSkipChildren, nil
	}
	switch b.Block {
	case "handshake":
		w.WriteString(renderDerivation(r.lang, b.Handshake.Key, b.Handshake.Accept, b.Handshake.Protocols, b.Handshake.Caption))
	case "frame":
		w.WriteString(renderFrames(r.lang, b.Frame.Bytes, b.Frame.Caption))
	case "transcript":
		w.WriteString(renderTranscript(r.lang, b.Transcript))
	case "output":
		fmt.Fprintf(w, "<figure class=\"output\"><figcaption>%s</figcaption><pre><samp>%s</samp></pre></figure>\n",
			esc(label(r.lang, "site.block.output")), esc(b.Output.Output))
	case "demo":
		w.WriteString(renderDemo(r.lang, b.Demo))
	case "measure":
		w.WriteString(renderMeasure(r.lang, b.Measure))
	}
	return ast.WalkSkipChildren, nil
}

func esc(s string) string { return html.EscapeString(s) }

// renderDerivation draws the Sec-WebSocket-Accept computation for key, step by step.
// expect, when not empty, is the value a lesson or a reader claims.
func renderDerivation(lang, key, expect, protocols, caption string) string {
	d := handshake.Derive(key)
	L := func(k string) string { return esc(label(lang, k)) }
	var b strings.Builder
	b.WriteString(`<figure class="derive">`)
	if caption != "" {
		fmt.Fprintf(&b, "<figcaption>%s</figcaption>", esc(caption))
	}
	b.WriteString(`<ol class="steps">`)
	// 1: the key
	fmt.Fprintf(&b, `<li><span class="step">%s</span><code class="v key">%s</code>`, L("site.derive.key"), esc(d.Key))
	if d.KeyBytes != nil {
		fmt.Fprintf(&b, `<span class="note">%s`, esc(fmt.Sprintf(label(lang, "site.derive.nonce"), len(d.KeyBytes))))
		if printable(d.KeyBytes) {
			sep := " " // no space after the full-width colon of Chinese text
			if lang == "zh" {
				sep = ""
			}
			fmt.Fprintf(&b, `%s“%s”`, sep, esc(string(d.KeyBytes)))
		} else {
			fmt.Fprintf(&b, ` <code>%s</code>`, esc(spacedHex(d.KeyBytes)))
		}
		b.WriteString(`</span>`)
		if err := handshake.CheckKey(key); err != nil {
			fmt.Fprintf(&b, `<span class="note bad">%s</span>`, esc(label(lang, "site.derive.badkey")))
		}
	} else {
		fmt.Fprintf(&b, `<span class="note bad">%s</span>`, esc(label(lang, "site.derive.notbase64")))
	}
	b.WriteString(`</li>`)
	// 2: + GUID
	fmt.Fprintf(&b, `<li><span class="step">%s</span><code class="v concat"><span class="key">%s</span><span class="guid">%s</span></code><span class="note">%s</span></li>`,
		L("site.derive.concat"), esc(d.Key), esc(d.GUID), L("site.derive.guidnote"))
	// 3: SHA-1
	fmt.Fprintf(&b, `<li><span class="step">%s</span><code class="v sha1">%s</code><span class="note">%s</span></li>`,
		L("site.derive.sha1"), hex.EncodeToString(d.SHA1[:]), L("site.derive.sha1note"))
	// 4: base64
	fmt.Fprintf(&b, `<li><span class="step">%s</span><code class="v accept">%s</code><span class="note">%s</span></li>`,
		L("site.derive.base64"), esc(d.Accept), L("site.derive.base64note"))
	b.WriteString(`</ol>`)
	if protocols != "" {
		fmt.Fprintf(&b, `<p class="note">%s <code>%s</code></p>`, L("site.derive.protocols"), esc(protocols))
	}
	if expect != "" {
		if expect == d.Accept {
			fmt.Fprintf(&b, `<p class="verdict ok">✔ %s <code>%s</code></p>`, L("site.derive.match"), esc(expect))
		} else {
			fmt.Fprintf(&b, `<p class="verdict bad">✘ %s <code>%s</code></p>`, L("site.derive.mismatch"), esc(expect))
			fmt.Fprintf(&b, `<p class="note">%s</p>`, L("lab.mistake."+mistakeName(key, expect)))
		}
	}
	b.WriteString("</figure>\n")
	return b.String()
}

// mistakeName names the common mistake (handshake.CommonMistakes) that turns key into
// the wrong Accept seen, or "unknown"; the name selects the reader's-language
// explanation ("lab.mistake.<name>" in the string catalogues).
func mistakeName(key, seen string) string {
	seen = strings.Trim(seen, " \t")
	for _, m := range handshake.CommonMistakes(key) {
		if m.Accept == seen {
			return m.Name
		}
	}
	return "unknown"
}

func printable(b []byte) bool {
	if !utf8.Valid(b) {
		return false
	}
	for _, r := range string(b) {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

func spacedHex(b []byte) string {
	var s strings.Builder
	for i, c := range b {
		if i > 0 {
			s.WriteByte(' ')
		}
		fmt.Fprintf(&s, "%02x", c)
	}
	return s.String()
}

// fieldClass maps a framing field name to a CSS class (colour).
func fieldClass(name string) string {
	switch name {
	case "fin":
		return "f-fin"
	case "rsv1", "rsv2", "rsv3":
		return "f-rsv"
	case "opcode":
		return "f-op"
	case "mask":
		return "f-mask"
	case "payload_length", "payload_length_ext_16", "payload_length_ext_64":
		return "f-len"
	case "masking_key":
		return "f-key"
	case "masked_payload", "payload":
		return "f-pay"
	case "close.status_code":
		return "f-code"
	case "close.reason":
		return "f-reason"
	}
	return "f-other"
}

// payloadCells caps how many payload bytes the grid draws; the field table still
// describes the rest.
const payloadCells = 48

// renderFrames draws each frame of b as a byte grid with its fields, on the server, so
// it reads with JavaScript off.
func renderFrames(lang string, raw []byte, caption string) string {
	a := framing.Annotate(raw)
	L := func(k string) string { return esc(label(lang, k)) }
	var b strings.Builder
	b.WriteString(`<figure class="frames">`)
	if caption != "" {
		fmt.Fprintf(&b, "<figcaption>%s</figcaption>", esc(caption))
	}
	frames := a.Frames
	if a.Partial != nil {
		frames = append(frames[:len(frames):len(frames)], *a.Partial)
	}
	for i, f := range frames {
		h := f.Header
		b.WriteString(`<div class="frame">`)
		// summary line
		var tags []string
		tags = append(tags, h.Opcode.String())
		if h.Fin {
			tags = append(tags, "FIN")
		}
		if h.Masked {
			tags = append(tags, L("site.frame.masked"))
		}
		tags = append(tags, fmt.Sprintf(label(lang, "site.frame.payloadlen"), h.PayloadLength))
		fmt.Fprintf(&b, `<p class="frame-title"><strong>%s %d</strong> · %s · <span class="mono">%s</span></p>`,
			L("site.frame.frame"), i+1, esc(strings.Join(tags, " · ")), esc(fmt.Sprintf(label(lang, "site.frame.bytesat"), f.Length, f.Offset)))

		// which field owns each bit of bytes 0 and 1, and each later byte
		owner := map[int]framing.Field{}
		bitOwner := map[[2]int]framing.Field{}
		for _, fd := range f.Fields {
			for o := fd.Offset; o < fd.Offset+fd.Length; o++ {
				if fd.Bits == 0xFF || fd.Bits == 0 || fd.Length > 1 {
					owner[o] = fd
				} else {
					for bit := 0; bit < 8; bit++ {
						if fd.Bits&(1<<bit) != 0 {
							bitOwner[[2]int{o, bit}] = fd
						}
					}
				}
			}
		}
		b.WriteString(`<div class="grid" role="list">`)
		payloadShown := 0
		end := f.Offset + f.Length
		if end > len(raw) {
			end = len(raw)
		}
		for o := f.Offset; o < end; o++ {
			v := raw[o]
			if fd, ok := owner[o]; ok && (fd.Name == "masked_payload" || fd.Name == "payload") {
				if payloadShown == payloadCells {
					fmt.Fprintf(&b, `<div class="cell more" role="listitem">%s</div>`, esc(fmt.Sprintf(label(lang, "site.frame.more"), end-o)))
					break
				}
				idx := o - fd.Offset
				fmt.Fprintf(&b, `<div class="cell %s" role="listitem" title="%s"><span class="hex">%02x</span>`, fieldClass(fd.Name), esc(fd.Name), v)
				if h.Masked {
					k := h.MaskingKey[idx%4]
					fmt.Fprintf(&b, `<span class="xor">⊕%02x</span><span class="hex plain">%02x</span>`, k, v^k)
					v ^= k
				}
				fmt.Fprintf(&b, `<span class="ch">%s</span></div>`, esc(charOf(v)))
				payloadShown++
				continue
			}
			if fd, ok := owner[o]; ok {
				fmt.Fprintf(&b, `<div class="cell %s" role="listitem" title="%s"><span class="hex">%02x</span><span class="lbl">%s</span></div>`,
					fieldClass(fd.Name), esc(fd.Name), v, esc(shortName(fd.Name)))
				continue
			}
			// a byte split into bit fields: draw its eight bits
			fmt.Fprintf(&b, `<div class="cell bits" role="listitem"><span class="hex">%02x</span><span class="bitrow">`, v)
			for bit := 7; bit >= 0; bit-- {
				fd := bitOwner[[2]int{o, bit}]
				fmt.Fprintf(&b, `<span class="bit %s" title="%s">%d</span>`, fieldClass(fd.Name), esc(fd.Name), (v>>bit)&1)
			}
			b.WriteString(`</span><span class="bitlbl">`)
			seen := map[string]bool{}
			for bit := 7; bit >= 0; bit-- {
				fd := bitOwner[[2]int{o, bit}]
				if !seen[fd.Name] {
					seen[fd.Name] = true
					fmt.Fprintf(&b, `<span class="%s">%s</span>`, fieldClass(fd.Name), esc(shortName(fd.Name)))
				}
			}
			b.WriteString(`</span></div>`)
		}
		b.WriteString(`</div>`)

		// field table
		fmt.Fprintf(&b, `<table class="fields"><thead><tr><th>%s</th><th>%s</th><th>%s</th><th>%s</th></tr></thead><tbody>`,
			L("site.frame.col.bytes"), L("site.frame.col.field"), L("site.frame.col.value"), L("site.frame.col.note"))
		for _, fd := range f.Fields {
			where := strconv.Itoa(fd.Offset)
			if fd.Length > 1 {
				where += "–" + strconv.Itoa(fd.Offset+fd.Length-1)
			}
			if fd.Bits != 0xFF && fd.Bits != 0 && fd.Length == 1 {
				where += fmt.Sprintf(" (%08b)", fd.Bits)
			}
			fmt.Fprintf(&b, `<tr><td class="mono">%s</td><td><span class="swatch %s"></span>%s</td><td class="mono">%s</td><td>%s</td></tr>`,
				where, fieldClass(fd.Name), esc(fd.Name), esc(fd.Value), esc(fd.Note))
		}
		b.WriteString(`</tbody></table>`)
		if f.IsText && f.Text != "" {
			fmt.Fprintf(&b, `<p class="frame-text">%s <q>%s</q></p>`, L("site.frame.text"), esc(f.Text))
		}
		for _, p := range f.Problems {
			fmt.Fprintf(&b, `<p class="verdict bad">✘ %s (%d %s)</p>`, esc(p.Reason), int(p.Code), esc(p.Code.String()))
		}
		b.WriteString(`</div>`)
	}
	if a.Err != nil {
		fmt.Fprintf(&b, `<p class="verdict bad">✘ %s</p>`, esc(a.Err.Error()))
	}
	b.WriteString("</figure>\n")
	return b.String()
}

func shortName(name string) string {
	switch name {
	case "payload_length", "payload_length_ext_16", "payload_length_ext_64":
		return "len"
	case "masking_key":
		return "key"
	case "close.status_code":
		return "code"
	case "close.reason":
		return "reason"
	case "opcode":
		return "op"
	}
	return name
}

func charOf(v byte) string {
	if v >= 0x20 && v < 0x7f {
		return string(rune(v))
	}
	return "·"
}

// renderTranscript draws an HTTP exchange, header names set apart from values.
func renderTranscript(lang string, t *transcriptSpec) string {
	var b strings.Builder
	b.WriteString(`<figure class="transcript">`)
	if t.Caption != "" {
		fmt.Fprintf(&b, "<figcaption>%s</figcaption>", esc(t.Caption))
	}
	side := func(cls, title, text string) {
		fmt.Fprintf(&b, `<div class="%s"><p class="side-title">%s</p><pre class="http">`, cls, esc(title))
		for i, line := range strings.Split(text, "\n") {
			name, value, ok := strings.Cut(line, ":")
			if i == 0 || !ok {
				fmt.Fprintf(&b, `<span class="start">%s</span>`+"\n", esc(line))
				continue
			}
			fmt.Fprintf(&b, `<span class="hname">%s</span>:%s`+"\n", esc(name), esc(value))
		}
		b.WriteString(`</pre></div>`)
	}
	b.WriteString(`<div class="exchange">`)
	side("req", label(lang, "site.transcript.request"), t.Request)
	side("resp", label(lang, "site.transcript.response"), t.Response)
	b.WriteString("</div></figure>\n")
	return b.String()
}

// renderDemo places a registered demo: an iframe of its page plus a link to open it whole.
func renderDemo(lang string, d *demoSpec) string {
	demo, ok := lookupDemo(d.Name)
	if !ok {
		return fmt.Sprintf(`<div class="block-error">demo %q: %s</div>`+"\n", esc(d.Name), esc(label(lang, "site.demo.missing")))
	}
	q := url.Values{}
	for k, v := range d.Query {
		q[k] = v
	}
	full := "/" + lang + "/" + demo.Path
	if len(q) > 0 {
		full += "?" + q.Encode()
	}
	q.Set("embed", "1")
	src := "/" + lang + "/" + demo.Path + "?" + q.Encode()
	size := demo.Size
	if size == "" {
		size = "m"
	}
	title := label(lang, demo.TitleKey)
	var b strings.Builder
	fmt.Fprintf(&b, `<figure class="demo demo-%s" data-demo="%s">`, esc(size), esc(d.Name))
	fmt.Fprintf(&b, `<div class="demo-bar"><span class="demo-title">%s</span><a href="%s" target="_blank" rel="noopener">%s ↗</a></div>`,
		esc(title), esc(full), esc(label(lang, "site.demo.open")))
	fmt.Fprintf(&b, `<iframe src="%s" title="%s" loading="lazy"></iframe>`, esc(src), esc(title))
	if d.Caption != "" {
		fmt.Fprintf(&b, `<figcaption>%s</figcaption>`, esc(d.Caption))
	}
	b.WriteString("</figure>\n")
	return b.String()
}

// ---------------------------------------------------------------------------
// measure blocks
//
// A measure block states figures of the real-time comparison (package realtime, the
// table `learnws compare` prints) that the lesson's text relies on:
//
//	```measure
//	scenario: default                  optional; or events=N clients=N rate=R interval=D timeout=D seed=N
//	caption: optional text
//	# a comment
//	short-polling.bytes_per_event ≈ 1300 ±20%
//	websocket.bytes_per_event < long-polling.bytes_per_event < short-polling.bytes_per_event
//	short-polling.latency_p50_ms ≈ interval / 2 ±50%
//	sse.requests = clients
//	long-polling.requests = events × clients
//	```
//
// Each other line is one claim: two or more expressions joined by relations
// (< ≤ > ≥ = ≈, or <= >= == ~=); a chain such as a < b < c means a < b and b < c.
// ≈ needs a tolerance at the end of the line: ±N% (of the right-hand side) or ±N.
// An expression is a product or quotient (* × /) of numbers, figures and scenario
// values. A figure is technique.field, with the names `learnws compare --json` prints
// (techniques short-polling, long-polling, iframe-streaming, sse, websocket; fields
// requests, connections, bytes_up, bytes_down, bytes_per_event, empty_responses,
// latency_p50_ms, …). Scenario values: events, clients, rate (per second),
// interval (short-polling interval, ms), timeout (long-poll timeout, ms).
//
// The page shows the claims as a table, as written: lessons are rendered once at
// start-up and nothing is measured then. lessons_test.go runs the scenario once (the
// default one of `learnws compare` unless the block says otherwise) and checks every
// claim against the measured figures.

// measureSpec is a parsed measure block.
type measureSpec struct {
	Scenario     realtime.Scenario // DefaultScenario with the block's changes
	ScenarioText string            // as written; "" or "default" for the default
	Caption      string
	Claims       []measureClaim
}

// measureClaim is one claim line.
type measureClaim struct {
	Line  int    // in the lesson file
	Text  string // as written
	Exprs []measureExpr
	Rels  []string // between consecutive Exprs: "<", "≤", ">", "≥", "=", "≈"
	Tol   float64  // tolerance of ≈ (absolute, or percent when TolPct)
	TolPc bool
}

// measureExpr is a product/quotient of factors: Factors[0] Ops[0] Factors[1] …
type measureExpr struct {
	Factors []measureFactor
	Ops     []string // "×" or "/"
}

// measureFactor is a number, a figure (Tech + Field) or a scenario value (Var).
type measureFactor struct {
	Text  string // as written
	Num   float64
	Tech  realtime.Technique
	Field string
	Var   string
}

// measureVars are the scenario values a claim may use.
var measureVars = []string{"events", "clients", "rate", "interval", "timeout"}

// measureExcluded are numeric Result fields a claim may not use: they are the whole
// process's (CPU, memory), so a test binary that measures the techniques side by side
// cannot reproduce what `learnws compare` prints for them.
var measureExcluded = map[string]string{
	"memory_bytes":       "memory is the whole process's",
	"cpu_seconds":        "CPU time is the whole process's",
	"client_cpu_seconds": "CPU time is the whole process's",
}

// measureFields lists the numeric fields of realtime.Result a claim may use, by their
// JSON names (as `learnws compare --json` prints them).
var measureFields = sync.OnceValue(func() []string {
	var out []string
	rt := reflect.TypeFor[realtime.Result]()
	for i := 0; i < rt.NumField(); i++ {
		f := rt.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		switch f.Type.Kind() {
		case reflect.Int, reflect.Int64, reflect.Float64:
			if _, no := measureExcluded[name]; !no {
				out = append(out, name)
			}
		}
	}
	return out
})

// measureValues is a technique's measured figures by JSON name.
func measureValues(r realtime.Result) map[string]float64 {
	b, _ := json.Marshal(r)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	out := map[string]float64{}
	for k, v := range m {
		if x, ok := v.(float64); ok {
			out[k] = x
		}
	}
	return out
}

// scenarioVar is a scenario value by name (interval and timeout in ms).
func scenarioVar(sc realtime.Scenario, name string) float64 {
	switch name {
	case "events":
		return float64(sc.Events)
	case "clients":
		return float64(sc.Clients)
	case "rate":
		return sc.Rate
	case "interval":
		return float64(sc.PollInterval) / float64(time.Millisecond)
	case "timeout":
		return float64(sc.LongPollTimeout) / float64(time.Millisecond)
	}
	return math.NaN()
}

// Key identifies the scenario: blocks with the same key share one measured run.
func (m *measureSpec) Key() string {
	sc := m.Scenario
	return fmt.Sprintf("events=%d clients=%d rate=%g interval=%v timeout=%v seed=%d",
		sc.Events, sc.Clients, sc.Rate, sc.PollInterval, sc.LongPollTimeout, sc.Seed)
}

// Techniques lists the techniques the claims name, in realtime.Techniques order.
func (m *measureSpec) Techniques() []realtime.Technique {
	seen := map[realtime.Technique]bool{}
	for _, c := range m.Claims {
		for _, e := range c.Exprs {
			for _, f := range e.Factors {
				if f.Tech != "" {
					seen[f.Tech] = true
				}
			}
		}
	}
	var out []realtime.Technique
	for _, t := range realtime.Techniques {
		if seen[t] {
			out = append(out, t)
		}
	}
	return out
}

func parseMeasure(lines []string, bodyLine int, fail func(i int, format string, args ...any)) *measureSpec {
	m := &measureSpec{Scenario: realtime.DefaultScenario}
	for i, l := range lines {
		t := strings.TrimSpace(l)
		switch {
		case t == "" || strings.HasPrefix(t, "#"):
		case strings.HasPrefix(t, "caption:"):
			m.Caption = strings.TrimSpace(strings.TrimPrefix(t, "caption:"))
		case strings.HasPrefix(t, "scenario:"):
			m.ScenarioText = strings.TrimSpace(strings.TrimPrefix(t, "scenario:"))
			if err := parseMeasureScenario(m.ScenarioText, &m.Scenario); err != nil {
				fail(i, "measure block: scenario: %v", err)
			}
		default:
			c, err := parseClaim(t)
			if err != nil {
				fail(i, "measure block: %v in %q", err, t)
				continue
			}
			c.Line = bodyLine + i
			m.Claims = append(m.Claims, c)
		}
	}
	if len(m.Claims) == 0 {
		fail(0, "measure block has no claims")
	}
	return m
}

// parseMeasureScenario applies "events=10 clients=10 rate=2 interval=250ms …" to sc.
func parseMeasureScenario(text string, sc *realtime.Scenario) error {
	if text == "" || text == "default" {
		return nil
	}
	kvs, err := parseKV(text)
	if err != nil {
		return err
	}
	for _, a := range kvs {
		var err error
		switch a.Key {
		case "events":
			sc.Events, err = strconv.Atoi(a.Value)
		case "clients":
			sc.Clients, err = strconv.Atoi(a.Value)
		case "seed":
			sc.Seed, err = strconv.ParseUint(a.Value, 10, 64)
		case "rate":
			sc.Rate, err = strconv.ParseFloat(a.Value, 64)
		case "interval":
			sc.PollInterval, err = time.ParseDuration(a.Value)
		case "timeout":
			sc.LongPollTimeout, err = time.ParseDuration(a.Value)
		default:
			return fmt.Errorf("unknown setting %q (events, clients, rate, interval, timeout, seed)", a.Key)
		}
		if err != nil {
			return fmt.Errorf("%s=%s: %v", a.Key, a.Value, err)
		}
	}
	if sc.Events < 1 || sc.Clients < 1 || sc.Rate <= 0 || sc.PollInterval <= 0 || sc.LongPollTimeout <= 0 {
		return fmt.Errorf("events, clients, rate, interval and timeout must be positive")
	}
	return nil
}

// claim tokens
type mtok struct {
	kind byte // 'n' number, 'i' name, 'r' relation, 'o' × or /, 't' tolerance
	text string
	num  float64
	pct  bool
}

func lexClaim(s string) ([]mtok, error) {
	var out []mtok
	isName := func(r rune) bool {
		return r == '_' || r == '-' || r == '.' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
	}
	number := func(s string) (string, float64, int, error) {
		n := 0
		for n < len(s) && (s[n] >= '0' && s[n] <= '9' || s[n] == '.' || s[n] == '_') {
			n++
		}
		text := s[:n]
		v, err := strconv.ParseFloat(strings.ReplaceAll(text, "_", ""), 64)
		if err != nil || n == 0 {
			return "", 0, 0, fmt.Errorf("bad number %q", text)
		}
		return text, v, n, nil
	}
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		rest := s[i:]
		switch {
		case r == ' ' || r == '\t':
			i += size
		case r >= '0' && r <= '9':
			text, v, n, err := number(rest)
			if err != nil {
				return nil, err
			}
			out = append(out, mtok{kind: 'n', text: text, num: v})
			i += n
		case r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z':
			n := 0
			for n < len(rest) && isName(rune(rest[n])) {
				n++
			}
			out = append(out, mtok{kind: 'i', text: rest[:n]})
			i += n
		case r == '±' || strings.HasPrefix(rest, "+-"):
			if r == '±' {
				i += size
			} else {
				i += 2
			}
			for i < len(s) && s[i] == ' ' {
				i++
			}
			text, v, n, err := number(s[i:])
			if err != nil {
				return nil, fmt.Errorf("± wants a number")
			}
			i += n
			tk := mtok{kind: 't', text: "±" + text, num: v}
			if i < len(s) && s[i] == '%' {
				tk.pct, tk.text = true, tk.text+"%"
				i++
			}
			out = append(out, tk)
		default:
			rel := map[string]string{"<=": "≤", ">=": "≥", "==": "=", "~=": "≈", "≤": "≤", "≥": "≥", "≈": "≈", "<": "<", ">": ">", "=": "=", "~": "≈"}
			op := map[string]string{"*": "×", "×": "×", "/": "/"}
			matched := false
			for _, w := range []string{"<=", ">=", "==", "~=", "≤", "≥", "≈", "<", ">", "=", "~"} {
				if strings.HasPrefix(rest, w) {
					out = append(out, mtok{kind: 'r', text: rel[w]})
					i += len(w)
					matched = true
					break
				}
			}
			if !matched {
				if o, ok := op[string(r)]; ok {
					out = append(out, mtok{kind: 'o', text: o})
					i += size
					matched = true
				}
			}
			if !matched {
				return nil, fmt.Errorf("unexpected %q", string(r))
			}
		}
	}
	return out, nil
}

// parseClaim reads one claim line.
func parseClaim(s string) (measureClaim, error) {
	c := measureClaim{Text: s}
	toks, err := lexClaim(s)
	if err != nil {
		return c, err
	}
	pos := 0
	factor := func() (measureFactor, error) {
		if pos >= len(toks) {
			return measureFactor{}, fmt.Errorf("the line ends where a number or a figure should be")
		}
		tk := toks[pos]
		pos++
		switch tk.kind {
		case 'n':
			return measureFactor{Text: tk.text, Num: tk.num}, nil
		case 'i':
			f := measureFactor{Text: tk.text}
			if tech, field, ok := strings.Cut(tk.text, "."); ok {
				t, known := realtime.ParseTechnique(tech)
				if !known {
					return f, fmt.Errorf("unknown technique %q (want one of %v)", tech, realtime.Techniques)
				}
				if why, no := measureExcluded[field]; no {
					return f, fmt.Errorf("%s cannot be claimed: %s", field, why)
				}
				if !slices.Contains(measureFields(), field) {
					return f, fmt.Errorf("unknown field %q (want one of %v)", field, measureFields())
				}
				f.Tech, f.Field = t, field
				return f, nil
			}
			if !slices.Contains(measureVars, tk.text) {
				return f, fmt.Errorf("unknown name %q: write technique.field or one of %v", tk.text, measureVars)
			}
			f.Var = tk.text
			return f, nil
		}
		return measureFactor{}, fmt.Errorf("unexpected %q where a number or a figure should be", tk.text)
	}
	expr := func() (measureExpr, error) {
		var e measureExpr
		f, err := factor()
		if err != nil {
			return e, err
		}
		e.Factors = append(e.Factors, f)
		for pos < len(toks) && toks[pos].kind == 'o' {
			e.Ops = append(e.Ops, toks[pos].text)
			pos++
			f, err := factor()
			if err != nil {
				return e, err
			}
			e.Factors = append(e.Factors, f)
		}
		return e, nil
	}
	e, err := expr()
	if err != nil {
		return c, err
	}
	c.Exprs = append(c.Exprs, e)
	for pos < len(toks) && toks[pos].kind == 'r' {
		c.Rels = append(c.Rels, toks[pos].text)
		pos++
		e, err := expr()
		if err != nil {
			return c, err
		}
		c.Exprs = append(c.Exprs, e)
	}
	if pos < len(toks) && toks[pos].kind == 't' {
		c.Tol, c.TolPc = toks[pos].num, toks[pos].pct
		pos++
		if len(c.Rels) != 1 || c.Rels[0] != "≈" {
			return c, fmt.Errorf("a tolerance (±) goes only with a single ≈")
		}
	}
	switch {
	case pos < len(toks):
		return c, fmt.Errorf("unexpected %q", toks[pos].text)
	case len(c.Rels) == 0:
		return c, fmt.Errorf("no relation (< ≤ > ≥ = ≈)")
	case slices.Contains(c.Rels, "≈") && (len(c.Rels) != 1 || c.Tol == 0):
		return c, fmt.Errorf("≈ needs a tolerance at the end of the line (±N%% or ±N) and no other relation")
	}
	for _, e := range c.Exprs {
		for _, f := range e.Factors {
			if f.Tech != "" {
				return c, nil
			}
		}
	}
	return c, fmt.Errorf("the claim names no measured figure (technique.field)")
}

// eval computes the expression from a technique's figures and the scenario.
func (e measureExpr) eval(get func(realtime.Technique, string) (float64, bool), sc realtime.Scenario) (float64, error) {
	val := func(f measureFactor) (float64, error) {
		switch {
		case f.Tech != "":
			v, ok := get(f.Tech, f.Field)
			if !ok {
				return 0, fmt.Errorf("%s was not measured", f.Text)
			}
			return v, nil
		case f.Var != "":
			return scenarioVar(sc, f.Var), nil
		}
		return f.Num, nil
	}
	x, err := val(e.Factors[0])
	if err != nil {
		return 0, err
	}
	for i, op := range e.Ops {
		y, err := val(e.Factors[i+1])
		if err != nil {
			return 0, err
		}
		if op == "/" {
			x /= y
		} else {
			x *= y
		}
	}
	return x, nil
}

func (e measureExpr) String() string {
	var b strings.Builder
	for i, f := range e.Factors {
		if i > 0 {
			fmt.Fprintf(&b, " %s ", e.Ops[i-1])
		}
		b.WriteString(f.Text)
	}
	return b.String()
}

// Check evaluates the claim; ok false says it does not hold. detail shows every
// measured figure the claim names and, for ≈, the allowed range.
func (c measureClaim) Check(get func(realtime.Technique, string) (float64, bool), sc realtime.Scenario) (ok bool, detail string, err error) {
	vals := make([]float64, len(c.Exprs))
	for i, e := range c.Exprs {
		if vals[i], err = e.eval(get, sc); err != nil {
			return false, "", err
		}
	}
	var parts []string
	seen := map[string]bool{}
	for _, e := range c.Exprs {
		for _, f := range e.Factors {
			if f.Tech != "" && !seen[f.Text] {
				seen[f.Text] = true
				v, _ := get(f.Tech, f.Field)
				parts = append(parts, fmt.Sprintf("%s = %s", f.Text, strconv.FormatFloat(v, 'f', -1, 64)))
			}
		}
		if len(e.Factors) > 1 {
			v, _ := e.eval(get, sc)
			parts = append(parts, fmt.Sprintf("%s = %s", e, strconv.FormatFloat(v, 'g', 6, 64)))
		}
	}
	ok = true
	for i, rel := range c.Rels {
		a, b := vals[i], vals[i+1]
		var holds bool
		switch rel {
		case "<":
			holds = a < b
		case "≤":
			holds = a <= b
		case ">":
			holds = a > b
		case "≥":
			holds = a >= b
		case "=":
			holds = a == b
		case "≈":
			tol := c.Tol
			if c.TolPc {
				tol = math.Abs(b) * c.Tol / 100
			}
			holds = math.Abs(a-b) <= tol
			parts = append(parts, fmt.Sprintf("allowed %s … %s", strconv.FormatFloat(b-tol, 'g', 6, 64), strconv.FormatFloat(b+tol, 'g', 6, 64)))
		}
		ok = ok && holds
	}
	return ok, strings.Join(parts, ", "), nil
}

// renderMeasure draws the claims as a table of figures, as written (nothing is
// measured when the site starts), with the scenario and where to see it live.
func renderMeasure(lang string, m *measureSpec) string {
	L := func(k string) string { return esc(label(lang, k)) }
	techName := func(t realtime.Technique) string { return label(lang, "realtime.js.short."+string(t)) }
	var b strings.Builder
	b.WriteString(`<figure class="measure">`)
	if m.Caption != "" {
		fmt.Fprintf(&b, "<figcaption>%s</figcaption>", esc(m.Caption))
	}
	fmt.Fprintf(&b, `<table class="fields"><thead><tr><th scope="col">%s</th><th scope="col">%s</th></tr></thead><tbody>`,
		L("measure.col.figure"), L("measure.col.claim"))
	for _, c := range m.Claims {
		// One figure named throughout (bytes per event of three techniques): it heads
		// the row, and the claim names only the techniques.
		fields := map[string]bool{}
		for _, e := range c.Exprs {
			for _, f := range e.Factors {
				if f.Tech != "" {
					fields[f.Field] = true
				}
			}
		}
		one := ""
		if len(fields) == 1 {
			for f := range fields {
				one = f
			}
		}
		var claim strings.Builder
		for i, e := range c.Exprs {
			if i > 0 {
				fmt.Fprintf(&claim, ` <span class="rel">%s</span> `, esc(c.Rels[i-1]))
			}
			for j, f := range e.Factors {
				if j > 0 {
					fmt.Fprintf(&claim, " %s ", esc(e.Ops[j-1]))
				}
				switch {
				case f.Tech != "" && one != "":
					fmt.Fprintf(&claim, `<strong>%s</strong>`, esc(techName(f.Tech)))
				case f.Tech != "":
					fmt.Fprintf(&claim, `<strong>%s</strong> %s`, esc(techName(f.Tech)), L("measure.field."+f.Field))
				case f.Var != "":
					fmt.Fprintf(&claim, `<em>%s</em>`, L("measure.var."+f.Var))
				default:
					claim.WriteString(esc(f.Text))
				}
			}
		}
		if c.Tol != 0 {
			tol := strconv.FormatFloat(c.Tol, 'f', -1, 64)
			if c.TolPc {
				tol += "%"
			}
			fmt.Fprintf(&claim, ` <span class="tol">(±%s)</span>`, esc(tol))
		}
		figure := "—"
		if one != "" {
			figure = L("measure.field." + one)
		}
		fmt.Fprintf(&b, `<tr data-claim="%s"><td>%s</td><td>%s</td></tr>`, esc(c.Text), figure, claim.String())
	}
	b.WriteString(`</tbody></table>`)
	sc := m.Scenario
	fmt.Fprintf(&b, `<p class="note">%s</p>`, esc(fmt.Sprintf(label(lang, "measure.scenario"),
		sc.Events, strconv.FormatFloat(sc.Rate, 'f', -1, 64), sc.Clients,
		strconv.FormatFloat(scenarioVar(sc, "interval"), 'f', -1, 64),
		strconv.FormatFloat(scenarioVar(sc, "timeout")/1000, 'f', -1, 64))))
	fmt.Fprintf(&b, `<p class="note">%s`, fmt.Sprintf(L("measure.checked"), "<code>go test</code>", "<code>learnws compare</code>"))
	if d, ok := lookupDemo("realtime-race"); ok {
		fmt.Fprintf(&b, ` <a href="%s">%s</a>`, esc("/"+lang+"/"+d.Path), L("measure.race"))
	}
	b.WriteString("</p></figure>\n")
	return b.String()
}

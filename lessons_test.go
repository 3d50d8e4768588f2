package learnws

// lessons_test.go checks every lesson against the real code. It parses each lesson with
// parseLesson, the function the site renders from, and runs one subtest per special
// block, named after the lesson file and the block's line:
//
//	go test -run 'TestLessons/lessons/en/02-opening-handshake.md:57' .
//
// A failure quotes what the lesson says beside what the code produced.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/yuin/goldmark/ast"

	"github.com/learnws/learnws/framing"
	"github.com/learnws/learnws/handshake"
	"github.com/learnws/learnws/internal/pastedhex"
	"github.com/learnws/learnws/realtime"
)

// newSiteServer builds the whole site (NewServer) behind a real listener.
func newSiteServer(t testing.TB) (*Server, *httptest.Server) {
	t.Helper()
	s, err := NewServer(Config{})
	if err != nil {
		t.Fatalf("NewServer: %v", err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return s, ts
}

// allLessons parses every lesson file with the site's own parser.
func allLessons(t *testing.T) []*lessonDoc {
	t.Helper()
	files, err := lessonFiles(content)
	if err != nil {
		t.Fatal(err)
	}
	var docs []*lessonDoc
	for _, lang := range languages {
		if len(files[lang]) == 0 {
			t.Errorf("no lessons in lessons/%s", lang)
		}
		for _, f := range files[lang] {
			src, err := fs.ReadFile(content, f)
			if err != nil {
				t.Fatal(err)
			}
			doc, err := parseLesson(f, src)
			if err != nil {
				t.Errorf("%v", err)
				continue
			}
			docs = append(docs, doc)
		}
	}
	return docs
}

func TestLessons(t *testing.T) {
	_, ts := newSiteServer(t)
	docs := allLessons(t)
	measured := startMeasurements(t, docs) // in the background, while the rest is checked
	runs := runGoSnippets(t, docs)

	for _, doc := range docs {
		t.Run(doc.File, func(t *testing.T) {
			// The lesson renders, and none of its blocks is malformed.
			html, err := doc.render()
			if err != nil {
				t.Fatalf("%s: render: %v", doc.File, err)
			}
			if bytes.Contains(html, []byte(`class="block-error"`)) {
				t.Errorf("%s: the rendered lesson shows a block error", doc.File)
			}
			checkHeadings(t, doc)
			for _, l := range doc.Links {
				checkLink(t, doc, l, ts.URL)
			}
		})
		// One subtest per verified block, named file:line.
		for _, b := range doc.Blocks {
			t.Run(fmt.Sprintf("%s:%d", doc.File, b.Line), func(t *testing.T) {
				if b.Err != nil {
					t.Fatalf("%s: %s block: %v", b.Where(), b.Block, b.Err)
				}
				switch b.Block {
				case "handshake":
					checkHandshake(t, b)
				case "frame":
					checkFrame(t, b)
				case "transcript":
					checkTranscript(t, b, ts.URL)
				case "output":
					checkOutput(t, b, runs)
				case "measure":
					t.Parallel() // waits for the measured run; everything else goes first
					checkMeasure(t, b, measured[b.Measure.Key()])
				case "demo":
					if _, ok := lookupDemo(b.Demo.Name); !ok {
						t.Errorf("%s: demo %q is not registered (RegisterDemo); registered: %v",
							b.Where(), b.Demo.Name, demoNames())
					}
				}
			})
		}
		// Go programs without an output block must at least build.
		for _, g := range goBlocks(doc) {
			if g.output || !g.isMain {
				continue
			}
			t.Run(fmt.Sprintf("%s:%d", doc.File, g.line), func(t *testing.T) {
				r := runs[g.key()]
				if r == nil || r.buildErr != "" {
					t.Errorf("%s:%d: the Go program does not build:\n%s", doc.File, g.line, r.buildErrOrMissing())
				}
			})
		}
	}
	t.Run("both-languages", func(t *testing.T) { checkLanguagePairs(t, docs) })
	t.Run("served", func(t *testing.T) {
		for _, doc := range docs {
			_, slug, _ := slugOf(doc.File)
			u := ts.URL + "/" + doc.Lang + "/lessons/" + slug
			code, body := get(t, u, nil)
			if code != http.StatusOK || !strings.Contains(body, "<h1>") {
				t.Errorf("%s: GET %s = %d", doc.File, u, code)
			}
		}
	})
}

// ---------------------------------------------------------------------------
// headings and links

func checkHeadings(t *testing.T, doc *lessonDoc) {
	t.Helper()
	seen := map[string]int{}
	_ = ast.Walk(doc.Root, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		h, ok := n.(*ast.Heading)
		if !ok || !entering || h.Level < 2 || h.Level > 3 {
			return ast.WalkContinue, nil
		}
		line := nodeLine(h, doc.Source)
		id, _ := h.AttributeString("id")
		idb, _ := id.([]byte)
		raw := sourceLine(doc.Source, line)
		if !strings.Contains(raw, "{#"+string(idb)+"}") {
			t.Errorf("%s:%d: heading %q has no explicit id: write `## Title {#some-id}` with the same id in every language",
				doc.File, line, strings.TrimSpace(raw))
		}
		if prev, dup := seen[string(idb)]; dup {
			t.Errorf("%s:%d: heading id %q already used on line %d", doc.File, line, idb, prev)
		}
		seen[string(idb)] = line
		return ast.WalkContinue, nil
	})
}

func sourceLine(src []byte, line int) string {
	lines := strings.Split(string(src), "\n")
	if line < 1 || line > len(lines) {
		return ""
	}
	return lines[line-1]
}

func headingIDs(doc *lessonDoc) []string {
	var ids []string
	for _, h := range doc.Headings {
		if h.ID != "" {
			ids = append(ids, h.ID)
		}
	}
	return ids
}

var lessonPath = regexp.MustCompile(`^/(en|zh)/lessons/([a-z0-9-]+)$`)

func checkLink(t *testing.T, doc *lessonDoc, l docLink, base string) {
	t.Helper()
	dest := l.Dest
	if strings.HasPrefix(dest, "http://") || strings.HasPrefix(dest, "https://") || strings.HasPrefix(dest, "mailto:") {
		return // outside the site: not checked (no network in tests)
	}
	where := fmt.Sprintf("%s:%d", doc.File, l.Line)
	p, frag, _ := strings.Cut(dest, "#")
	if p == "" { // an anchor in this lesson
		if !slices.Contains(headingIDs(doc), frag) {
			t.Errorf("%s: link %q: no heading with id %q in this lesson (ids: %v)", where, dest, frag, headingIDs(doc))
		}
		return
	}
	if !strings.HasPrefix(p, "/") {
		t.Errorf("%s: link %q: use a site path (/%s/lessons/slug), not a relative one", where, dest, doc.Lang)
		return
	}
	if m := lessonPath.FindStringSubmatch(p); m != nil {
		st, err := loadSite()
		if err != nil {
			t.Fatal(err)
		}
		target, ok := st.lessons.bySlug[m[1]][m[2]]
		if !ok {
			t.Errorf("%s: link %q: no lesson %q in %s", where, dest, m[2], m[1])
			return
		}
		if m[1] != doc.Lang {
			t.Errorf("%s: link %q points into the other language", where, dest)
		}
		if frag != "" && !slices.Contains(headingIDs(target.Doc), frag) {
			t.Errorf("%s: link %q: lesson %s has no heading with id %q", where, dest, target.File, frag)
		}
		return
	}
	if code, _ := get(t, base+p, nil); code != http.StatusOK {
		t.Errorf("%s: link %q: GET %s answered %d", where, dest, p, code)
	}
}

// ---------------------------------------------------------------------------
// handshake blocks

func checkHandshake(t *testing.T, b *specialBlock) {
	h := b.Handshake
	got := handshake.Accept(h.Key)
	if got != h.Accept {
		t.Errorf("%s: handshake block:\n  the lesson says Accept(%q) = %q\n  handshake.Accept gives        %q",
			b.Where(), h.Key, h.Accept, got)
	}
}

// ---------------------------------------------------------------------------
// frame blocks

// frameFacts lists what a decoded frame is, under the names frame blocks use.
func frameFacts(f framing.AnnotatedFrame) map[string]string {
	h := f.Header
	bit := func(v bool) string {
		if v {
			return "1"
		}
		return "0"
	}
	m := map[string]string{
		"fin": bit(h.Fin), "rsv1": bit(h.Rsv1), "rsv2": bit(h.Rsv2), "rsv3": bit(h.Rsv3),
		"opcode": h.Opcode.String(), "masked": bit(h.Masked),
		"len": strconv.FormatUint(h.PayloadLength, 10), "payload": string(f.Payload),
		"payload_hex": hex.EncodeToString(f.Payload), "key": "",
	}
	if h.Masked {
		m["key"] = hex.EncodeToString(h.MaskingKey[:])
	}
	if f.CloseCode != nil {
		m["close_code"] = strconv.Itoa(int(*f.CloseCode))
	}
	if f.CloseReason != nil {
		m["close_reason"] = *f.CloseReason
	}
	return m
}

func checkFrame(t *testing.T, b *specialBlock) {
	fs := b.Frame
	a := framing.Annotate(fs.Bytes)
	if len(a.Frames) != len(fs.Expect) {
		t.Errorf("%s: frame block: the lesson describes %d frame(s); the bytes %s decode to %d whole frame(s)",
			b.Where(), len(fs.Expect), fs.Hex, len(a.Frames))
	}
	for i, exp := range fs.Expect {
		if i >= len(a.Frames) {
			break
		}
		facts := frameFacts(a.Frames[i])
		for _, kv := range exp.Fields {
			got, known := facts[kv.Key]
			if !known {
				t.Errorf("%s:%d: frame %d: unknown field %q (known: %v)", b.File, exp.Line, i+1, kv.Key, sortedKeys(facts))
				continue
			}
			want := kv.Value
			if kv.Key == "key" || kv.Key == "payload_hex" {
				want = strings.ToLower(strings.ReplaceAll(want, " ", ""))
			}
			if got != want {
				t.Errorf("%s:%d: frame %d, field %s:\n  the lesson says %s=%q\n  framing.Annotate decodes  %s=%q",
					b.File, exp.Line, i+1, kv.Key, kv.Key, kv.Value, kv.Key, got)
			}
		}
	}
	gotRest := hex.EncodeToString(a.Rest)
	wantRest := ""
	if fs.Rest != "" {
		r, _ := pastedhex.Parse(fs.Rest)
		wantRest = hex.EncodeToString(r)
	}
	if gotRest != wantRest {
		t.Errorf("%s: frame block: trailing bytes: the lesson says rest=%q, framing.Annotate leaves %q", b.Where(), wantRest, gotRest)
	}
	if fs.Error && a.Err == nil {
		t.Errorf("%s: frame block says error=1, but framing.Annotate finds the bytes valid", b.Where())
	}
	if !fs.Error && a.Err != nil {
		t.Errorf("%s: frame block: framing.Annotate reports %v (write error=1 if the lesson means to show a broken frame)", b.Where(), a.Err)
	}
}

func sortedKeys(m map[string]string) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// ---------------------------------------------------------------------------
// transcript blocks

// transcriptResponse splits a lesson's response into head lines (without the status
// line), whether "..." allows further headers, and the body ("" = not stated).
func transcriptResponse(resp string) (status string, head []string, more bool, body string, hasBody bool) {
	headPart, bodyPart, hasBody := strings.Cut(resp, "\n\n")
	lines := strings.Split(headPart, "\n")
	status = lines[0]
	for _, l := range lines[1:] {
		if strings.TrimSpace(l) == "..." {
			more = true
			continue
		}
		head = append(head, l)
	}
	return status, head, more, bodyPart, hasBody
}

func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

func checkTranscript(t *testing.T, b *specialBlock, base string) {
	tr := b.Transcript
	rawReq := crlf(tr.Request) + "\r\n\r\n"
	var gotStatus string
	var gotHead []string
	var gotBody string
	source := "the server (NewServer) answered"

	if b.Arg != "" {
		// Run through a handshake.Policy configured by the block's arguments.
		source = "handshake.Policy.Respond produced"
		args, err := parseKV(b.Arg)
		if err != nil {
			t.Fatalf("%s: transcript arguments: %v", b.Where(), err)
		}
		var p handshake.Policy
		for _, a := range args {
			switch a.Key {
			case "subprotocols":
				p.Subprotocols = strings.Split(a.Value, ",")
			case "origins":
				p.Origins = strings.Split(a.Value, ",")
			default:
				t.Fatalf("%s: transcript argument %q: want subprotocols= or origins=", b.Where(), a.Key)
			}
		}
		req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(rawReq)))
		if err != nil {
			t.Fatalf("%s: the lesson's request does not parse: %v", b.Where(), err)
		}
		resp, err := p.Respond(req)
		if err != nil {
			t.Fatalf("%s: handshake.Policy.Respond refused the lesson's request: %v", b.Where(), err)
		}
		lines := strings.Split(strings.TrimSuffix(string(resp.AppendTo(nil)), "\r\n\r\n"), "\r\n")
		gotStatus, gotHead = lines[0], lines[1:]
	} else {
		var err error
		gotStatus, gotHead, gotBody, err = exchange(base, rawReq)
		if err != nil {
			t.Fatalf("%s: sending the lesson's request: %v", b.Where(), err)
		}
	}

	wantStatus, wantHead, more, wantBody, hasBody := transcriptResponse(tr.Response)
	var gotNoDate []string
	for _, l := range gotHead {
		if !strings.HasPrefix(strings.ToLower(l), "date:") { // Date is the one header that must vary
			gotNoDate = append(gotNoDate, l)
		}
	}
	var wantNoDate []string
	for _, l := range wantHead {
		if !strings.HasPrefix(strings.ToLower(l), "date:") {
			wantNoDate = append(wantNoDate, l)
		}
	}
	show := func() string {
		return fmt.Sprintf("\n  the lesson says:\n    %s\n    %s\n  %s:\n    %s\n    %s",
			wantStatus, strings.Join(wantHead, "\n    "), source, gotStatus, strings.Join(gotHead, "\n    "))
	}
	if gotStatus != wantStatus {
		t.Errorf("%s: transcript: status line differs%s", b.Where(), show())
		return
	}
	if more {
		for _, w := range wantNoDate {
			if !slices.Contains(gotNoDate, w) {
				t.Errorf("%s: transcript: the response has no line %q%s", b.Where(), w, show())
			}
		}
	} else if !slices.Equal(gotNoDate, wantNoDate) {
		t.Errorf("%s: transcript: header lines differ (write \"...\" as the last header line if the lesson leaves some out)%s", b.Where(), show())
	}
	if hasBody && strings.TrimRight(gotBody, "\r\n") != strings.TrimRight(wantBody, "\n") {
		t.Errorf("%s: transcript: body differs:\n  the lesson says: %q\n  %s: %q", b.Where(), wantBody, source, gotBody)
	}
}

// exchange sends raw to the server over TCP and reads the response head (and body, if
// it has a Content-Length), exactly as sent.
func exchange(base, raw string) (status string, head []string, body string, err error) {
	addr := strings.TrimPrefix(base, "http://")
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return "", nil, "", err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, raw); err != nil {
		return "", nil, "", err
	}
	br := bufio.NewReader(conn)
	length := -1
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return "", nil, "", fmt.Errorf("reading the response head: %w", err)
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			break
		}
		if status == "" {
			status = line
			continue
		}
		head = append(head, line)
		if n, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(n, "Content-Length") {
			length, _ = strconv.Atoi(strings.TrimSpace(v))
		}
	}
	if length > 0 {
		b := make([]byte, min(length, 1<<20))
		if _, err := io.ReadFull(br, b); err != nil {
			return status, head, "", fmt.Errorf("reading the body: %w", err)
		}
		body = string(b)
	}
	return status, head, body, nil
}

// ---------------------------------------------------------------------------
// Go programs and their output

type goBlock struct {
	file   string
	line   int
	code   string
	isMain bool
	output bool // followed by an output block
}

func (g goBlock) key() string { return fmt.Sprintf("%s:%d", g.file, g.line) }

var packageMain = regexp.MustCompile(`(?m)^package main\b`)

// goBlocks lists the lesson's ```go blocks.
func goBlocks(doc *lessonDoc) []goBlock {
	var out []goBlock
	for n := doc.Root.FirstChild(); n != nil; n = n.NextSibling() {
		fc, ok := n.(*ast.FencedCodeBlock)
		if !ok || string(fc.Language(doc.Source)) != "go" {
			continue
		}
		var code strings.Builder
		for i := 0; i < fc.Lines().Len(); i++ {
			seg := fc.Lines().At(i)
			code.Write(seg.Value(doc.Source))
		}
		g := goBlock{file: doc.File, code: code.String(), isMain: packageMain.MatchString(code.String())}
		if fc.Info != nil {
			g.line = lineAt(doc.Source, fc.Info.Segment.Start)
		}
		if next, ok := n.NextSibling().(*specialBlock); ok && next.Block == "output" {
			g.output = true
		}
		out = append(out, g)
	}
	return out
}

type goRun struct {
	buildErr string
	stdout   string
	runErr   string
}

func (r *goRun) buildErrOrMissing() string {
	if r == nil {
		return "(not built)"
	}
	return r.buildErr
}

// runGoSnippets builds every lesson's Go programs in one `go build` inside this module
// (so they may import handshake and framing), then runs them in parallel.
func runGoSnippets(t *testing.T, docs []*lessonDoc) map[string]*goRun {
	t.Helper()
	var blocks []goBlock
	for _, d := range docs {
		for _, g := range goBlocks(d) {
			if g.isMain {
				blocks = append(blocks, g)
			}
		}
	}
	runs := map[string]*goRun{}
	if len(blocks) == 0 {
		return runs
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to check the lessons' Go programs: %v", err)
	}
	if err := os.MkdirAll("testdata", 0o755); err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("testdata", "lessonrun-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		os.RemoveAll(dir)
		os.Remove("testdata") // only if empty: leave others' test data alone
	})
	bin := t.TempDir()
	var pkgs []string
	for i, g := range blocks {
		p := filepath.Join(dir, fmt.Sprintf("p%02d", i))
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(p, "main.go"), []byte(g.code), 0o644); err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, "./"+filepath.ToSlash(p))
		runs[g.key()] = &goRun{}
	}
	build := func(pkgs ...string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, goTool, append([]string{"build", "-o", bin + string(os.PathSeparator)}, pkgs...)...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := build(pkgs...); err != nil {
		// Build each alone to know which lesson block is broken.
		var wg sync.WaitGroup
		for i, g := range blocks {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if out, err := build(pkgs[i]); err != nil {
					runs[g.key()].buildErr = strings.ReplaceAll(out, pkgs[i][2:]+"/main.go", g.key()+" (block)")
				}
			}()
		}
		wg.Wait()
		_ = out
	}
	var wg sync.WaitGroup
	for i, g := range blocks {
		r := runs[g.key()]
		if r.buildErr != "" {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, filepath.Join(bin, fmt.Sprintf("p%02d", i)))
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				r.runErr = fmt.Sprintf("%v\n%s", err, stderr.String())
			}
			r.stdout = stdout.String()
		}()
	}
	wg.Wait()
	return runs
}

func checkOutput(t *testing.T, b *specialBlock, runs map[string]*goRun) {
	key := fmt.Sprintf("%s:%d", b.File, b.Output.Line)
	r := runs[key]
	switch {
	case r == nil:
		t.Fatalf("%s: output block: the Go block before it (line %d) is not a complete program (package main)", b.Where(), b.Output.Line)
	case r.buildErr != "":
		t.Fatalf("%s: the Go program does not build:\n%s", key, r.buildErr)
	case r.runErr != "":
		t.Fatalf("%s: the Go program failed: %s", key, r.runErr)
	}
	if r.stdout != b.Output.Output {
		t.Errorf("%s: output block:\n  the lesson says the program prints:\n%s\n  it really prints:\n%s",
			b.Where(), indent(b.Output.Output), indent(r.stdout))
	}
}

func indent(s string) string {
	return "    | " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n    | ")
}

// ---------------------------------------------------------------------------
// measure blocks: claims about the real-time comparison

// measurement is one measured run of a scenario, shared by every measure block that
// names it (the English and Chinese lessons state the same claims).
type measurement struct {
	done chan struct{} // closed when the run ended
	sc   realtime.Scenario
	res  map[realtime.Technique]realtime.Result
	errs []error
	took time.Duration
}

// startMeasurements starts one run per distinct scenario of the lessons' measure
// blocks and returns at once. A run measures the techniques the claims name, each on
// its own in-process server (realtime.Run with one technique), all at the same time:
// the wire figures and latencies do not depend on it, and a lesson check takes about
// as long as one technique (~5 s) instead of five. (Claims about process-wide CPU and
// memory are refused by the block syntax for this reason.)
func startMeasurements(t *testing.T, docs []*lessonDoc) map[string]*measurement {
	out := map[string]*measurement{}
	techs := map[string]map[realtime.Technique]bool{}
	for _, d := range docs {
		for _, b := range d.Blocks {
			if b.Block != "measure" || b.Err != nil {
				continue
			}
			k := b.Measure.Key()
			if out[k] == nil {
				out[k] = &measurement{done: make(chan struct{}), sc: b.Measure.Scenario, res: map[realtime.Technique]realtime.Result{}}
				techs[k] = map[realtime.Technique]bool{}
			}
			for _, tech := range b.Measure.Techniques() {
				techs[k][tech] = true
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	var all sync.WaitGroup
	for k, m := range out {
		all.Add(1)
		go func() {
			defer all.Done()
			defer close(m.done)
			start := time.Now()
			var mu sync.Mutex
			var wg sync.WaitGroup
			for _, tech := range realtime.Techniques {
				if !techs[k][tech] {
					continue
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					sc := m.sc
					sc.Techniques = []realtime.Technique{tech}
					rep, err := realtime.Run(ctx, sc)
					mu.Lock()
					defer mu.Unlock()
					if err != nil {
						m.errs = append(m.errs, err)
						return
					}
					m.res[tech] = rep.Get(tech)
				}()
			}
			wg.Wait()
			m.took = time.Since(start)
		}()
	}
	t.Cleanup(func() {
		cancel()
		all.Wait()
	})
	return out
}

func checkMeasure(t *testing.T, b *specialBlock, m *measurement) {
	if m == nil {
		t.Fatalf("%s: measure block: no run started for scenario %s", b.Where(), b.Measure.Key())
	}
	select {
	case <-m.done:
	case <-time.After(4 * time.Minute):
		t.Fatalf("%s: measure block: the measured run did not end", b.Where())
	}
	if len(m.errs) > 0 {
		t.Fatalf("%s: measure block: running the scenario (%s) failed: %v", b.Where(), b.Measure.Key(), errors.Join(m.errs...))
	}
	get := func(tech realtime.Technique, field string) (float64, bool) {
		r, ok := m.res[tech]
		if !ok {
			return 0, false
		}
		v, ok := measureValues(r)[field]
		return v, ok
	}
	var lines []string
	for _, tech := range realtime.Techniques {
		if r, ok := m.res[tech]; ok {
			lines = append(lines, fmt.Sprintf("%-16s requests=%d connections=%d bytes_per_event=%g empty_responses=%d latency_p50_ms=%g latency_p95_ms=%g",
				tech, r.Requests, r.Connections, r.BytesPerEvent, r.EmptyResponses, r.LatencyP50MS, r.LatencyP95MS))
		}
	}
	t.Logf("%s: measured in %v (%s):\n  %s", b.Where(), m.took.Round(time.Millisecond), b.Measure.Key(), strings.Join(lines, "\n  "))
	for _, c := range b.Measure.Claims {
		ok, detail, err := c.Check(get, m.sc)
		switch {
		case err != nil:
			t.Errorf("%s:%d: measure claim %q: %v", b.File, c.Line, c.Text, err)
		case !ok:
			t.Errorf("%s:%d: measure claim does not hold:\n  the lesson says:  %s\n  measured:         %s", b.File, c.Line, c.Text, detail)
		}
	}
}

// ---------------------------------------------------------------------------
// every lesson in both languages, with the same verified blocks

// fingerprint is what must be identical between translations of a block.
func fingerprint(b *specialBlock) string {
	switch b.Block {
	case "handshake":
		return "handshake " + b.Handshake.Key + " " + b.Handshake.Accept + " " + b.Handshake.Protocols
	case "frame":
		var exp []string
		for _, e := range b.Frame.Expect {
			exp = append(exp, e.Text)
		}
		return "frame " + hex.EncodeToString(b.Frame.Bytes) + " " + strings.Join(exp, " | ") + " rest=" + b.Frame.Rest
	case "transcript":
		return "transcript " + b.Arg + "\n" + b.Transcript.Request + "\n\n" + b.Transcript.Response
	case "output":
		return "output\n" + b.Output.Output
	case "demo":
		return "demo " + b.Demo.Name + " " + b.Demo.Query.Encode()
	case "measure":
		var claims []string
		for _, c := range b.Measure.Claims {
			claims = append(claims, c.Text)
		}
		return "measure " + b.Measure.Key() + "\n" + strings.Join(claims, "\n")
	}
	return b.Block
}

// onlyIn lists the lines of a that b lacks.
func onlyIn(a, b string) string {
	bl := strings.Split(b, "\n")
	var out []string
	for _, l := range strings.Split(a, "\n") {
		if !slices.Contains(bl, l) {
			out = append(out, l)
		}
	}
	return strings.Join(out, " | ")
}

func checkLanguagePairs(t *testing.T, docs []*lessonDoc) {
	bySlug := map[string]map[string]*lessonDoc{}
	for _, d := range docs {
		_, slug, err := slugOf(d.File)
		if err != nil {
			t.Error(err)
			continue
		}
		if bySlug[slug] == nil {
			bySlug[slug] = map[string]*lessonDoc{}
		}
		bySlug[slug][d.Lang] = d
	}
	for slug, m := range bySlug {
		for _, lang := range languages {
			if m[lang] == nil {
				t.Errorf("lesson %q has no %s version (lessons/%s/NN-%s.md)", slug, lang, lang, slug)
			}
		}
		en, zh := m["en"], m["zh"]
		if en == nil || zh == nil {
			continue
		}
		if path.Base(en.File)[:2] != path.Base(zh.File)[:2] {
			t.Errorf("%s and %s: the lesson number differs", en.File, zh.File)
		}
		if !slices.Equal(headingIDs(en), headingIDs(zh)) {
			t.Errorf("%s and %s: heading ids differ:\n  en: %v\n  zh: %v", en.File, zh.File, headingIDs(en), headingIDs(zh))
		}
		for i := 0; i < max(len(en.Blocks), len(zh.Blocks)); i++ {
			var a, b *specialBlock
			if i < len(en.Blocks) {
				a = en.Blocks[i]
			}
			if i < len(zh.Blocks) {
				b = zh.Blocks[i]
			}
			switch {
			case a == nil:
				t.Errorf("%s has an extra %s block with no counterpart in %s", b.Where(), b.Block, en.File)
			case b == nil:
				t.Errorf("%s has a %s block with no counterpart in %s", a.Where(), a.Block, zh.File)
			case fingerprint(a) != fingerprint(b):
				fa, fb := fingerprint(a), fingerprint(b)
				if a.Block == "measure" && b.Block == "measure" {
					fa, fb = onlyIn(fa, fb), onlyIn(fb, fa) // long blocks: the lines that differ
				}
				t.Errorf("verified block %d differs between languages:\n  %s: %s\n  %s: %s", i+1, a.Where(), fa, b.Where(), fb)
			}
		}
	}
}

// ---------------------------------------------------------------------------
// strings, headers, pages

func TestI18nKeysBothLanguages(t *testing.T) {
	st, err := loadStrings(content)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range languages {
		for _, b := range languages {
			if a == b {
				continue
			}
			for k := range st[a] {
				if _, ok := st[b][k]; !ok {
					t.Errorf("i18n key %q exists in web/i18n/%s but not in web/i18n/%s", k, a, b)
				}
			}
		}
		for k, v := range st[a] {
			if strings.TrimSpace(v) == "" {
				t.Errorf("i18n key %q is empty in web/i18n/%s", k, a)
			}
		}
	}
	// Every key a template or a Go file asks for exists.
	used := map[string]string{}
	tmplKey := regexp.MustCompile(`\{\{-?\s*(?:t|tf|thtml)\s+"([^"]+)"`)
	goKey := regexp.MustCompile(`(?:label\(lang,|\.t\(lang,|TitleKey:)\s*"([^"]+)"\s*[,)}]`)
	_ = fs.WalkDir(content, "web/templates", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := fs.ReadFile(content, p)
		for _, m := range tmplKey.FindAllStringSubmatch(string(b), -1) {
			used[m[1]] = p
		}
		return nil
	})
	goFiles, _ := filepath.Glob("*.go")
	for _, f := range goFiles {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, _ := os.ReadFile(f)
		for _, m := range goKey.FindAllStringSubmatch(string(b), -1) {
			used[m[1]] = f
		}
	}
	for _, d := range demosInOrder() {
		used[d.TitleKey] = "RegisterDemo(" + strconv.Quote(d.Name) + ")"
	}
	for k, where := range used {
		for _, lang := range languages {
			if _, ok := st[lang][k]; !ok {
				t.Errorf("%s uses i18n key %q, missing from web/i18n/%s", where, k, lang)
			}
		}
	}
}

// get fetches u and returns the status and body.
func get(t testing.TB, u string, hdr map[string]string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestSecurityHeadersOnEveryPage(t *testing.T) {
	s, ts := newSiteServer(t)
	st, _ := loadSite()
	css, _ := st.assetURL("site/site.css")
	paths := []string{"/", "/en/", "/zh/", "/en/lessons", "/zh/lessons", "/en/lessons/opening-handshake",
		"/zh/lessons/why-websocket", "/en/accept?key=abc", css, "/static/site/nope.js", "/no/such/page",
		"/healthz", "/ws/echo"}
	// Every page registered by any area (GET routes under /en/ and /zh/ without parameters).
	for _, r := range s.engine.Routes() {
		if r.Method == http.MethodGet && !strings.ContainsAny(r.Path, ":*") &&
			(strings.HasPrefix(r.Path, "/en/") || strings.HasPrefix(r.Path, "/zh/")) && !slices.Contains(paths, r.Path) {
			paths = append(paths, r.Path)
		}
	}
	t.Logf("checking %d paths: %v", len(paths), paths)
	host := strings.TrimPrefix(ts.URL, "http://")
	client := &http.Client{Timeout: 10 * time.Second}
	for _, p := range paths {
		resp, err := client.Get(ts.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		h := resp.Header
		csp := h.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'self'", "script-src 'self'", "style-src 'self'",
			"frame-ancestors 'self'", "img-src 'self' data:", "connect-src 'self' ws://" + host + " wss://" + host} {
			if !strings.Contains(csp, want) {
				t.Errorf("GET %s (%d): Content-Security-Policy %q lacks %q", p, resp.StatusCode, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") {
			t.Errorf("GET %s: the policy allows unsafe-inline", p)
		}
		for k, v := range map[string]string{"X-Content-Type-Options": "nosniff", "X-Frame-Options": "SAMEORIGIN", "Referrer-Policy": "same-origin"} {
			if h.Get(k) != v {
				t.Errorf("GET %s (%d): %s = %q, want %q", p, resp.StatusCode, k, h.Get(k), v)
			}
		}
	}
}

func TestNotFoundInReadersLanguage(t *testing.T) {
	_, ts := newSiteServer(t)
	st, _ := loadSite()
	cases := []struct {
		path, acceptLang, lang string
	}{
		{"/en/lessons/no-such-lesson", "", "en"},
		{"/zh/lessons/no-such-lesson", "", "zh"},
		{"/zh/nothing-here", "en", "zh"},
		{"/nothing-here", "zh-CN,zh;q=0.9,en;q=0.8", "zh"},
		{"/nothing-here", "en-GB,en;q=0.9", "en"},
		{"/static/site/none.css", "", "en"},
	}
	for _, c := range cases {
		code, body := get(t, ts.URL+c.path, map[string]string{"Accept-Language": c.acceptLang})
		if code != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", c.path, code)
		}
		want := st.t(c.lang, "site.404.heading")
		if !strings.Contains(body, want) {
			t.Errorf("GET %s (Accept-Language %q): the 404 page lacks %q", c.path, c.acceptLang, want)
		}
		if !strings.Contains(body, `data-lang="`+c.lang+`"`) {
			t.Errorf("GET %s: the 404 page is not in %s", c.path, c.lang)
		}
	}
}

func TestHomeFollowsAcceptLanguage(t *testing.T) {
	_, ts := newSiteServer(t)
	for al, lang := range map[string]string{"zh-CN,zh;q=0.9": "zh", "en-US": "en", "fr, zh;q=0.5": "zh", "": "en", "de": "en"} {
		_, body := get(t, ts.URL+"/", map[string]string{"Accept-Language": al})
		if !strings.Contains(body, `data-lang="`+lang+`"`) {
			t.Errorf("GET / with Accept-Language %q: not the %s home page", al, lang)
		}
	}
}

func TestErrorPageHidesInternals(t *testing.T) {
	s, ts := newSiteServer(t)
	s.engine.GET("/test-panic", func(c *gin.Context) { panic("secret internal detail") })
	s.engine.GET("/test-error", func(c *gin.Context) { s.renderError(c, fmt.Errorf("open /etc/secret: permission denied")) })
	for _, p := range []string{"/test-panic", "/test-error"} {
		code, body := get(t, ts.URL+p, map[string]string{"Accept-Language": "zh"})
		if code != http.StatusInternalServerError {
			t.Errorf("GET %s: %d, want 500", p, code)
		}
		if strings.Contains(body, "secret") || strings.Contains(body, "goroutine") {
			t.Errorf("GET %s: the error page leaks internals:\n%s", p, body)
		}
		st, _ := loadSite()
		if !strings.Contains(body, st.t("zh", "site.error.heading")) {
			t.Errorf("GET %s: not the readable error page in Chinese", p)
		}
	}
}

func TestStaticAssetsCached(t *testing.T) {
	_, ts := newSiteServer(t)
	st, _ := loadSite()
	u, err := st.assetURL("site/site.css")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(ts.URL + u)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") {
		t.Errorf("GET %s: Cache-Control %q, want a long immutable cache", u, cc)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/css") {
		t.Errorf("GET %s: Content-Type %q", u, ct)
	}
	etag := resp.Header.Get("ETag")
	req, _ := http.NewRequest(http.MethodGet, ts.URL+"/static/site/site.css", nil)
	req.Header.Set("If-None-Match", etag)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotModified {
		t.Errorf("GET with If-None-Match %s: %d, want 304", etag, resp.StatusCode)
	}
	if _, err := st.assetURL("site/missing.js"); err == nil {
		t.Error("asset of a missing file: no error")
	}
}

func TestLanguageSwitchKeepsLesson(t *testing.T) {
	_, ts := newSiteServer(t)
	_, body := get(t, ts.URL+"/en/lessons/opening-handshake", nil)
	if !strings.Contains(body, `class="lang-switch" href="/zh/lessons/opening-handshake"`) {
		t.Error("the English lesson's language switch does not lead to the same lesson in Chinese")
	}
}

// ---------------------------------------------------------------------------
// speed

// BenchmarkLessonVsStatic serves a rendered lesson and a static file of the same size
// through the same router, interleaved in rounds, and reports the ratio of their
// medians (target ≤ 1.5). "fs" is a same-size file from net/http's FileServer over an
// in-memory file system, for comparison.
//
//	go test -run '^$' -bench LessonVsStatic .
func BenchmarkLessonVsStatic(b *testing.B) {
	s, err := NewServer(Config{})
	if err != nil {
		b.Fatal(err)
	}
	st, _ := loadSite()
	l := st.lessons.bySlug["en"]["opening-handshake"]
	size := len(l.page)
	st.static["bench/same-size.html"] = newStaticFile("same-size.html", bytes.Repeat([]byte("x"), size))
	mfs := fstest.MapFS{"same-size.html": {Data: bytes.Repeat([]byte("x"), size)}}
	s.engine.GET("/bench-fs/*path", gin.WrapH(http.StripPrefix("/bench-fs", http.FileServerFS(mfs))))
	h := s.Handler()
	serve := func(u string) {
		req := httptest.NewRequest(http.MethodGet, u, nil)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK || w.Body.Len() != size {
			b.Fatalf("GET %s: %d, %d bytes (want %d)", u, w.Code, w.Body.Len(), size)
		}
	}
	urls := map[string]string{"lesson": "/en/lessons/opening-handshake", "static": "/static/bench/same-size.html", "fs": "/bench-fs/same-size.html"}
	const perRound = 200
	samples := map[string][]float64{}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, name := range []string{"lesson", "static", "fs"} {
			start := time.Now()
			for j := 0; j < perRound; j++ {
				serve(urls[name])
			}
			samples[name] = append(samples[name], float64(time.Since(start).Nanoseconds())/perRound)
		}
	}
	b.StopTimer()
	med := func(xs []float64) float64 {
		ys := slices.Clone(xs)
		slices.Sort(ys)
		return ys[len(ys)/2]
	}
	b.ReportMetric(med(samples["lesson"]), "lesson-ns/req")
	b.ReportMetric(med(samples["static"]), "static-ns/req")
	b.ReportMetric(med(samples["fs"]), "fileserver-ns/req")
	b.ReportMetric(med(samples["lesson"])/med(samples["static"]), "lesson/static")
	b.ReportMetric(med(samples["lesson"])/med(samples["fs"]), "lesson/fileserver")
	b.ReportMetric(float64(size), "bytes")
	b.ReportMetric(0, "ns/op")
}

// demoNames lists the registered demos, for messages.
func demoNames() []string {
	var out []string
	for _, d := range demosInOrder() {
		out = append(out, d.Name)
	}
	return out
}

// The measure block's syntax: what it accepts, what it refuses (with a reason), and
// that a claim can be false.
func TestMeasureClaims(t *testing.T) {
	figures := map[string]float64{
		"short-polling.bytes_per_event": 1400, "long-polling.bytes_per_event": 700, "websocket.bytes_per_event": 140,
		"short-polling.latency_p50_ms": 130, "sse.requests": 10, "short-polling.requests": 200, "short-polling.empty_responses": 100,
	}
	get := func(tech realtime.Technique, field string) (float64, bool) {
		v, ok := figures[string(tech)+"."+field]
		return v, ok
	}
	sc := realtime.DefaultScenario // 10 events, 10 clients, 250 ms
	for _, tc := range []struct {
		claim string
		holds bool
	}{
		{"short-polling.bytes_per_event ≈ 1300 ±20%", true},
		{"short-polling.bytes_per_event ≈ 1000 ±20%", false},
		{"short-polling.bytes_per_event ~= 1390 +- 10", true},
		{"short-polling.bytes_per_event ≈ 1380 ±10", false},
		{"websocket.bytes_per_event < long-polling.bytes_per_event < short-polling.bytes_per_event", true},
		{"websocket.bytes_per_event < short-polling.bytes_per_event < long-polling.bytes_per_event", false},
		{"short-polling.latency_p50_ms ≈ interval/2 ±50%", true},
		{"short-polling.latency_p50_ms ≈ interval / 10 ±50%", false},
		{"sse.requests = clients", true},
		{"sse.requests == events * clients", false},
		{"short-polling.empty_responses / short-polling.requests ≈ 0.5 ±0.1", true},
		{"short-polling.requests <= 2 × events × clients", true},
		{"short-polling.requests >= 2.5 × events × clients", false},
		{"websocket.bytes_per_event ≥ 140", true},
		{"websocket.bytes_per_event > 140", false},
	} {
		c, err := parseClaim(tc.claim)
		if err != nil {
			t.Errorf("parseClaim(%q): %v", tc.claim, err)
			continue
		}
		ok, detail, err := c.Check(get, sc)
		if err != nil || ok != tc.holds {
			t.Errorf("%q: holds=%v (%s, err %v), want %v", tc.claim, ok, detail, err, tc.holds)
		}
	}
	for claim, why := range map[string]string{
		"short-poling.requests = 1":                         "unknown technique",
		"sse.request = 1":                                   "unknown field",
		"sse.cpu_seconds < 1":                               "cannot be claimed",
		"sse.requests ≈ clients":                            "needs a tolerance",
		"sse.requests = clients ±10%":                       "only with a single ≈",
		"sse.requests < clients ≈ 10 ±1":                    "only with a single ≈",
		"sse.requests < clients ≈ 10":                       "no other relation",
		"sse.requests":                                      "no relation",
		"sse.requests = ":                                   "line ends",
		"sse.requests = users":                              "unknown name",
		"events = clients":                                  "names no measured figure",
		"sse.requests = clients + 1":                        "unexpected",
		"sse.requests = (clients)":                          "unexpected",
		"websocket.latency_p50_ms < 10 ms":                  "unexpected",
		"websocket.bytes_per_event ≈ 140 ±":                 "± wants a number",
		"websocket.bytes_per_event < sse.bytes_per_event <": "line ends",
	} {
		if _, err := parseClaim(claim); err == nil || !strings.Contains(err.Error(), why) {
			t.Errorf("parseClaim(%q): error %v, want one saying %q", claim, err, why)
		}
	}
	// A claim about a technique that was not measured is an error, not a pass.
	c, _ := parseClaim("iframe-streaming.requests = clients")
	if _, _, err := c.Check(get, sc); err == nil {
		t.Error("a claim about an unmeasured technique passed")
	}
	// Scenario lines.
	doc, err := parseLesson("lessons/en/99-test.md", []byte("---\ntitle: t\n---\n\n```measure\nscenario: events=4 clients=3 rate=5 interval=100ms\nsse.requests = clients\n```\n\n```measure\nscenario: events=4 users=3\nsse.requests = clients\n```\n"))
	if err != nil {
		t.Fatal(err)
	}
	if m := doc.Blocks[0].Measure; doc.Blocks[0].Err != nil || m.Scenario.Events != 4 || m.Scenario.Clients != 3 || m.Scenario.Rate != 5 ||
		m.Scenario.PollInterval != 100*time.Millisecond || m.Scenario.LongPollTimeout != realtime.DefaultScenario.LongPollTimeout {
		t.Errorf("scenario line: %+v, err %v", doc.Blocks[0].Measure.Scenario, doc.Blocks[0].Err)
	}
	if err := doc.Blocks[1].Err; err == nil || !strings.Contains(err.Error(), `unknown setting "users"`) || !strings.Contains(err.Error(), "line 11") {
		t.Errorf("bad scenario line: error %v, want unknown setting on line 11", err)
	}
}

// Every figure and scenario value a measure block can name has a label in both
// languages, and the rendered block shows the claims in the reader's language with
// the scenario and a link to the race.
func TestMeasureRendered(t *testing.T) {
	st, err := loadStrings(content)
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range languages {
		for _, f := range measureFields() {
			if _, ok := st[lang]["measure.field."+f]; !ok {
				t.Errorf("web/i18n/%s: no label measure.field.%s", lang, f)
			}
		}
		for _, v := range measureVars {
			if _, ok := st[lang]["measure.var."+v]; !ok {
				t.Errorf("web/i18n/%s: no label measure.var.%s", lang, v)
			}
		}
	}
	_, ts := newSiteServer(t)
	for lang, want := range map[string][]string{
		"en": {`<figure class="measure">`, "bytes per event", "<strong>WebSocket</strong>", "<strong>Long polling</strong>",
			"10 events at 2 per second", `<code>go test</code>`, `href="/en/realtime/race"`, `data-claim="sse.requests = clients"`},
		"zh": {`<figure class="measure">`, "每个事件的字节数", "<strong>长轮询</strong>", "<strong>服务器推送事件</strong>",
			"共 10 个事件，每秒 2 个", `href="/zh/realtime/race"`},
	} {
		_, body := get(t, ts.URL+"/"+lang+"/lessons/why-websocket", nil)
		for _, w := range want {
			if !strings.Contains(body, w) {
				t.Errorf("/%s/lessons/why-websocket: the measure block lacks %q", lang, w)
			}
		}
	}
}

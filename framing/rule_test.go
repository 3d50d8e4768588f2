package framing_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/learnws/learnws/framing"
	"github.com/learnws/learnws/internal/ruletest"
)

// verdict is what a reader concluded about a stream: the first rule broken
// (0 for none), the field at fault and the index of the frame.
type verdict struct {
	Rule  framing.Rule
	Field string
	Frame int
}

// annotationVerdict is the first problem of an annotation.
func annotationVerdict(a framing.Annotation) verdict {
	frames := a.Frames
	if a.Partial != nil {
		frames = append(frames, *a.Partial)
	}
	for i, f := range frames {
		if len(f.Problems) > 0 {
			return verdict{f.Problems[0].Rule, f.Problems[0].Field, i}
		}
	}
	return verdict{}
}

// connVerdict runs the stream through a Conn of role receiver, reading
// messages until the read side ends, and returns the rule it failed the
// connection for, with the index of the frame (the field is not compared:
// a Conn reports it only in the trace).
func connVerdict(t *testing.T, receiver framing.Role, in []byte) verdict {
	t.Helper()
	var mu sync.Mutex
	var v verdict
	frames := 0
	conn := framing.NewConn(&fakeConn{r: bytes.NewReader(in)}, nil, receiver, &framing.Options{Trace: func(e framing.TraceEvent) {
		mu.Lock()
		defer mu.Unlock()
		if e.Dir != framing.Read {
			return
		}
		var pe *framing.ProtocolError
		if errors.As(e.Err, &pe) && v.Rule == 0 {
			v = verdict{pe.Rule, pe.Field, frames}
		}
		frames++
	}})
	var err error
	for i := 0; err == nil; i++ {
		if i > len(in) {
			t.Fatal("more messages than bytes")
		}
		_, _, err = conn.ReadMessage()
	}
	var ce *framing.CloseError
	if !errors.As(err, &ce) {
		t.Fatalf("ReadMessage ended with %v, not a *CloseError", err)
	}
	mu.Lock()
	defer mu.Unlock()
	switch {
	case v.Rule == 0 && !ce.Remote:
		t.Fatalf("Conn failed the connection (%v) without a rule in the trace", ce)
	case v.Rule != 0 && (ce.Remote || ce.Code != v.Rule.Code()):
		t.Fatalf("Conn ended with %+v; the trace says %v (code %d)", ce, v.Rule, v.Rule.Code())
	}
	return verdict{v.Rule, "", v.Frame}
}

// TestRules has one row per rejection (internal/ruletest, shared with the
// lab's test): framing.Conn, AnnotateNext and Annotate reach the verdict the
// row states, with the rule's close code, section and field.
func TestRules(t *testing.T) {
	for _, st := range ruletest.Streams() {
		t.Run(st.Name, func(t *testing.T) {
			want := verdict{st.Rule, st.Field, st.Frame}
			if st.Rule == 0 {
				want = verdict{}
			}
			var s framing.MessageState
			a := framing.AnnotateNext(st.Bytes, st.Receiver, &s)
			if got := annotationVerdict(a); got != want {
				t.Errorf("AnnotateNext: %+v; want %+v", got, want)
			}
			if (a.Err == nil) != (st.Rule == 0) {
				t.Errorf("AnnotateNext Err = %v", a.Err)
			}
			var pe *framing.ProtocolError
			if st.Rule != 0 && (!errors.As(a.Err, &pe) || pe.Rule != st.Rule || pe.Code != st.Rule.Code() || pe.Reason == "") {
				t.Errorf("AnnotateNext Err = %v (%+v); want a *ProtocolError for %v", a.Err, pe, st.Rule)
			}
			// Annotate infers each sender from its mask bit: the masking
			// rules are the only ones it cannot see.
			wantAnnotate := want
			if st.Rule == framing.RuleClientFrameUnmasked || st.Rule == framing.RuleServerFrameMasked {
				wantAnnotate = verdict{}
			}
			if got := annotationVerdict(framing.Annotate(st.Bytes)); got != wantAnnotate {
				t.Errorf("Annotate: %+v; want %+v", got, wantAnnotate)
			}
			wantConn := verdict{want.Rule, "", want.Frame}
			if got := connVerdict(t, st.Receiver, st.Bytes); got != wantConn {
				t.Errorf("Conn (%v): %+v; want %+v", st.Receiver, got, wantConn)
			}
		})
	}
}

// TestRuleTable: every rule has a stable machine name, a section, the close
// code of its kind, and a reason whose {n} are the arguments it is given; and
// every rule decided by the bytes has a row in the shared table.
func TestRuleTable(t *testing.T) {
	name := regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	section := regexp.MustCompile(`^[0-9]+(\.[0-9]+)*$`)
	rows := map[framing.Rule]int{}
	for _, st := range ruletest.Streams() {
		rows[st.Rule]++
	}
	seen := map[string]bool{}
	for _, r := range framing.Rules() {
		if !name.MatchString(r.String()) || seen[r.String()] {
			t.Errorf("rule %d: name %q is not a unique kebab-case name", int(r), r)
		}
		seen[r.String()] = true
		if !section.MatchString(r.Section()) {
			t.Errorf("%v: section %q", r, r.Section())
		}
		switch r.Code() {
		case framing.CloseProtocolError, framing.CloseInvalidPayload, framing.CloseMessageTooBig:
		default:
			t.Errorf("%v: close code %v", r, r.Code())
		}
		if r.Template() == "" || strings.HasPrefix(r.Template(), "framing:") {
			t.Errorf("%v: template %q", r, r.Template())
		}
		if rows[r] == 0 && r != framing.RuleMessageTooBig {
			t.Errorf("%v has no row in internal/ruletest", r)
		}
	}
	// The code is the rule's, and Reason is the template with Args filled in.
	placeholder := regexp.MustCompile(`\{[0-9]\}`)
	for _, st := range ruletest.Streams() {
		for _, f := range framing.Annotate(st.Bytes).Frames {
			for _, p := range f.Problems {
				if p.Code != p.Rule.Code() {
					t.Errorf("%s: %v has code %d", st.Name, p.Rule, p.Code)
				}
				n := len(placeholder.FindAllString(p.Rule.Template(), -1))
				if len(p.Args) != n || placeholder.MatchString(p.Reason) {
					t.Errorf("%s: %q from %q with args %q", st.Name, p.Reason, p.Rule.Template(), p.Args)
				}
			}
		}
	}
	if framing.Rule(0).String() != "" || framing.Rule(1000).Section() != "" {
		t.Error("a value that is not a rule has a name or a section")
	}
}

// TestNoteKeys: every note Annotate writes has a key of NoteTemplates, and
// its English text is that template with the note's arguments.
func TestNoteKeys(t *testing.T) {
	templates := framing.NoteTemplates()
	placeholder := regexp.MustCompile(`\{[0-9]\}`)
	used := map[string]bool{}
	var inputs [][]byte
	for _, st := range ruletest.Streams() {
		inputs = append(inputs, st.Bytes)
	}
	for _, h := range []string{"81", "82 7e 01", "81 85 37 fa", "81 05 48 65", "82 7e 00 01 00", "82 7f 00 00 00 00 00 00 00 01 00",
		"81 01 41", "82 02 ff fe", "88 02 03 ed"} {
		b, err := hex.DecodeString(strings.ReplaceAll(h, " ", ""))
		if err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, b)
	}
	for _, in := range inputs {
		a := framing.Annotate(in)
		frames := a.Frames
		if a.Partial != nil {
			frames = append(frames, *a.Partial)
		}
		for _, r := range []framing.Role{framing.RoleServer, framing.RoleClient} {
			var s framing.MessageState
			frames = append(frames, framing.AnnotateNext(in, r, &s).Frames...)
		}
		for _, f := range frames {
			for _, fd := range f.Fields {
				if fd.NoteKey == "" {
					if fd.Note != "" || fd.NoteArgs != nil {
						t.Errorf("% x: field %s has a note %q without a key", in, fd.Name, fd.Note)
					}
					continue
				}
				used[fd.NoteKey] = true
				tmpl, ok := templates[fd.NoteKey]
				if !ok {
					t.Errorf("field %s: key %q is not in NoteTemplates", fd.Name, fd.NoteKey)
					continue
				}
				if n := len(placeholder.FindAllString(tmpl, -1)); n != len(fd.NoteArgs) || placeholder.MatchString(fd.Note) || fd.Note == "" {
					t.Errorf("field %s: note %q from %q with args %q", fd.Name, fd.Note, tmpl, fd.NoteArgs)
				}
			}
		}
	}
	for k := range templates {
		if !used[k] {
			t.Errorf("note key %q is never used by these inputs", k)
		}
	}
	if templates["length.one-byte"] != "payload is 1 byte" {
		t.Errorf("one byte: %q", templates["length.one-byte"])
	}
}

// FuzzMessageState: whatever the bytes, every reader following one
// MessageState reaches the same verdict: a Conn, AnnotateNext over the
// whole stream, and AnnotateNext given one frame at a time (as the lab and
// the proxy see a connection, through a Splitter); and a payload checked
// in two pieces is judged as when checked whole.
func FuzzMessageState(f *testing.F) {
	for _, st := range ruletest.Streams() {
		f.Add(st.Bytes, st.Receiver == framing.RoleClient, uint8(3))
	}
	f.Fuzz(func(t *testing.T, in []byte, toClient bool, cut uint8) {
		if len(in) > 4096 {
			return
		}
		receiver := framing.RoleServer
		if toClient {
			receiver = framing.RoleClient
		}
		var whole framing.MessageState
		all := annotationVerdict(framing.AnnotateNext(in, receiver, &whole))

		// One frame at a time.
		var s framing.MessageState
		var byFrame verdict
		frames := 0
		sp := framing.NewSplitter(len(in), func(sf framing.SplitFrame) {
			if sf.Kind == framing.FrameTooBig {
				return
			}
			if v := annotationVerdict(framing.AnnotateNext(sf.Raw, receiver, &s)); v.Rule != 0 && byFrame.Rule == 0 {
				byFrame = verdict{v.Rule, v.Field, frames}
			}
			frames++
		})
		sp.Write(in)
		sp.Close()
		if byFrame != all {
			t.Fatalf("frame by frame: %+v; the whole stream: %+v", byFrame, all)
		}

		// A Conn, unless its size limit decides first (Annotate has none).
		if conn := connVerdict(t, receiver, in); conn.Rule != framing.RuleMessageTooBig && conn != (verdict{all.Rule, "", all.Frame}) {
			t.Fatalf("Conn: %+v; AnnotateNext: %+v", conn, all)
		}

		// The payload in two pieces.
		a := framing.Annotate(in)
		var one, two framing.MessageState
		for _, fr := range a.Frames {
			one.StartFrame(fr.Header)
			two.StartFrame(fr.Header)
			at := int(cut) % (len(fr.Payload) + 1)
			e1 := one.Payload(fr.Payload)
			e2 := two.Payload(fr.Payload[:at])
			if e := two.Payload(fr.Payload[at:]); e2 == nil {
				e2 = e
			}
			if (e1 == nil) != (e2 == nil) || e1 != nil && e1.Rule != e2.Rule {
				t.Fatalf("payload % x whole: %v; cut at %d: %v", fr.Payload, e1, at, e2)
			}
			if e1, e2 := one.EndFrame(), two.EndFrame(); (e1 == nil) != (e2 == nil) {
				t.Fatalf("EndFrame: %v and %v", e1, e2)
			}
		}
	})
}

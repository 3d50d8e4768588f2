package lab

import (
	"encoding/json"
	"testing"

	"github.com/learnws/learnws/framing"
	"github.com/learnws/learnws/internal/ruletest"
)

// TestSameVerdictAsTheConn runs the shared table of streams
// (internal/ruletest, which framing's TestRules runs through framing.Conn
// and Annotate) through the lab: a client writes the bytes, the lab's server
// reads them with its framing.Conn, and the tap annotates each frame with
// its own MessageState. The first frame the lab marks must be the row's,
// with the row's rule and field, and the server must fail the connection
// with that rule's close code; a good stream must pass unmarked.
func TestSameVerdictAsTheConn(t *testing.T) {
	l := New(Options{})
	defer l.Close()
	bye := framing.AppendFrame(nil, framing.Header{Fin: true, Opcode: framing.OpClose, Masked: true},
		framing.AppendClosePayload(nil, framing.CloseNormal, ""))
	s, err := l.reg.open("192.0.2.7")
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range ruletest.Streams() {
		if st.Receiver != framing.RoleServer {
			continue // the lab's server reads only clients' frames
		}
		t.Run(st.Name, func(t *testing.T) {
			after := s.seqNow()
			send := st.Bytes
			if st.Rule == 0 {
				send = append(append([]byte(nil), send...), bye...) // so that the good stream ends
			}
			l.play(s, "test", Script{frames: func() [][]byte { return [][]byte{send} }})

			sub, events, lost, err := s.subscribe(after)
			if err != nil || lost > 0 {
				t.Fatalf("subscribe: %v (%d events lost)", err, lost)
			}
			s.unsubscribe(sub)
			var marked *Problem
			markedAt, frames := -1, 0
			var closed *CloseJSON
			for _, e := range events {
				var ev Event
				if err := json.Unmarshal(e.data, &ev); err != nil {
					t.Fatal(err)
				}
				switch {
				case ev.Kind == "frame" && ev.Dir == "in":
					if len(ev.Frame.Problems) > 0 && marked == nil {
						marked, markedAt = &ev.Frame.Problems[0], frames
					}
					frames++
				case ev.Kind == "closed":
					closed = ev.Close
				}
			}
			if closed == nil {
				t.Fatal("no closed event")
			}
			if st.Rule == 0 {
				if marked != nil {
					t.Errorf("the lab marks frame %d: %+v", markedAt, marked)
				}
				if !closed.Remote || closed.Code != int(framing.CloseNormal) {
					t.Errorf("closed %+v; want the client's 1000", closed)
				}
				return
			}
			if marked == nil || marked.Rule != st.Rule.String() || marked.Field != st.Field || markedAt != st.Frame ||
				marked.Section != st.Rule.Section() || marked.Code != int(st.Rule.Code()) {
				t.Errorf("the lab marks frame %d with %+v; want frame %d, rule %v, field %s", markedAt, marked, st.Frame, st.Rule, st.Field)
			}
			if closed.Remote || closed.Code != int(st.Rule.Code()) {
				t.Errorf("closed %+v; want the server to fail the connection with %d", closed, st.Rule.Code())
			}
		})
	}
}

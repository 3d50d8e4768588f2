package framing

import "fmt"

// An Annotator explains a capture one frame at a time, for captures too long
// to hold explained all at once: the memory it needs is that of one frame,
// whatever the number of frames. It carries a [MessageState] from each frame
// to the next (the fragmented message under way, §5.4, and its UTF-8 so far,
// §8.1), so its frames are exactly those of [Annotate](b), which is built on
// it.
//
//	a := framing.NewAnnotator(b)
//	for a.Next() {
//		f := a.Frame()
//		...
//	}
//	rest, partial, err := a.Rest(), a.Partial(), a.Err()
type Annotator struct {
	b        []byte
	off      int
	receiver *Role // nil: each frame's sender is inferred from its mask bit
	state    *MessageState
	frame    AnnotatedFrame
	partial  *AnnotatedFrame
	first    error // the first rule broken by a whole frame
	cut      error // what the frame the input ends inside lacks
}

// NewAnnotator returns an Annotator over b, one or more frames one after the
// other (a capture of one direction of a connection).
func NewAnnotator(b []byte) *Annotator { return &Annotator{b: b, state: new(MessageState)} }

// Next explains the next whole frame, which Frame then returns. It returns
// false when no whole frame is left: the input is used up, or it ends inside
// a frame (then Partial explains that frame's bytes and Rest holds them).
func (a *Annotator) Next() bool {
	if a.off >= len(a.b) || a.partial != nil {
		return false
	}
	f, missing := annotateFrame(a.b, a.off, a.receiver, a.state)
	if missing != "" {
		f.Length = len(a.b) - a.off
		a.partial = &f
		a.cut = fmt.Errorf("framing: frame at offset %d %s", a.off, missing)
		return false
	}
	if a.first == nil && len(f.Problems) > 0 {
		a.first = &frameError{f.Offset, f.Problems[0].Reason, f.Problems[0]}
	}
	a.frame = f
	a.off += f.Length
	return true
}

// Frame is the frame the last call to Next explained.
func (a *Annotator) Frame() AnnotatedFrame { return a.frame }

// Partial is the frame the input ends inside, once Next has returned false;
// nil if the input ends with a whole frame.
func (a *Annotator) Partial() *AnnotatedFrame { return a.partial }

// Rest is the bytes of the partial frame, once Next has returned false.
func (a *Annotator) Rest() []byte {
	if a.partial == nil {
		return nil
	}
	return a.b[a.off:]
}

// Err is Annotation.Err for the frames explained so far: nil while they are
// whole, valid frames; otherwise the first protocol violation (it wraps a
// *ProtocolError) or, if there is none, once Next has returned false, what
// the last frame lacks.
func (a *Annotator) Err() error {
	switch {
	case a.first != nil:
		return a.first
	case a.partial != nil && len(a.partial.Problems) > 0:
		p := a.partial.Problems[0]
		return &frameError{a.partial.Offset, p.Reason, p}
	}
	return a.cut
}

package framing

// MessageState is what a receiver must remember from one frame to the next
// to apply the rules that span frames: whether a fragmented message is under
// way (§5.4), of which type, and how far its text has been checked as UTF-8
// (§8.1: the check fails fast, so a character may be cut by a fragment
// boundary and the validator carries the half of it over).
//
// One value of it serves every reader of one direction of a connection:
// [Conn] reads frames with one, [Annotate] explains a capture with one,
// and the lab and the proxy follow a live connection with one
// ([AnnotateNext]). Each frame goes through the same steps:
//
//	errs := h.Check(receiver, &state) // the header rules, §5.4 included
//	state.StartFrame(h)
//	state.Payload(p)                  // unmasked, in as many pieces as it arrives
//	state.EndFrame()                  // the end of a text message: a whole last character?
//
// Control frames go through the same steps and leave the message alone:
// "Control frames … MAY be injected in the middle of a fragmented message"
// (§5.4).
//
// The zero value is the state at the start of a connection: no message
// under way, no extension negotiated. Two features to come fit into it as
// it is:
//
//   - Extensions (permessage-deflate, RFC 7692) give meaning to RSV bits.
//     The field rsvDefined holds the RSV bits negotiated extensions define
//     (none today), and [Header.Check] already asks it before reporting a
//     bit; permessage-deflate will set RSV1 there and add its own placement
//     rule to Check: RSV1 on the first frame of a data message only, never
//     on a continuation or a control frame (RFC 7692 §6).
//   - A capture that begins mid-stream: decode will start from a third
//     phase besides betweenMessages and inMessage, "unknown", in which a
//     leading continuation frame continues an earlier message whose type is
//     not known (its text unchecked, as after bytes that went by unseen:
//     see utf8Off), and which the first whole message ends.
type MessageState struct {
	phase messagePhase
	op    Opcode        // OpText or OpBinary while a message is under way
	utf8  UTF8Validator // the text of the message so far, if op is OpText
	// utf8Off stops the UTF-8 check until the message ends: its text was
	// already found invalid (reported once), or some of it went by unseen.
	utf8Off bool
	// rsvDefined holds the RSV bits (0x40 RSV1, 0x20 RSV2, 0x10 RSV3) that
	// negotiated extensions define. No extension is supported yet: always 0.
	rsvDefined byte

	frame Header // the frame between StartFrame and EndFrame
}

// messagePhase says where a receiver stands between messages.
type messagePhase uint8

const (
	betweenMessages messagePhase = iota // the next data frame must start a message (text or binary)
	inMessage                           // a fragmented message is under way: the next data frame must continue it
)

// Message reports the type of the message under way (OpText or OpBinary)
// and whether there is one: true between the first and the last frame of a
// fragmented message, and during the last one, up to EndFrame.
func (s *MessageState) Message() (Opcode, bool) {
	return s.op, s.phase == inMessage
}

// StartFrame begins frame h, whose header [Header.Check] has judged. A text
// or binary frame starts a message (a new one, even if it broke §5.4 by
// interrupting another: the reader follows what the sender did); a
// continuation frame carries on the message under way, if there is one; a
// control frame (or one with a reserved opcode) leaves the message alone.
func (s *MessageState) StartFrame(h Header) {
	s.frame = h
	if h.Opcode.IsData() {
		s.phase, s.op = inMessage, h.Opcode
		s.utf8.Reset()
		s.utf8Off = false
	}
}

// Payload checks the next payload bytes p of the frame begun by StartFrame,
// unmasked, in order; a payload may be given in any number of pieces. For
// a text message it is "fail fast" (§8.1): it returns a *ProtocolError
// ([RuleInvalidUTF8]) for the piece in which the text stops being UTF-8,
// without waiting for the end of the message. Once the text is found
// invalid, the rest of the message is not checked again.
func (s *MessageState) Payload(p []byte) *ProtocolError {
	if !s.checksText() {
		return nil
	}
	// §8.1: "When an endpoint is to interpret a byte stream as UTF-8 but
	// finds that the byte stream is not, in fact, a valid UTF-8 stream, that
	// endpoint MUST _Fail the WebSocket Connection_."
	if !s.utf8.Write(p) {
		s.utf8Off = true
		return violation(RuleInvalidUTF8, payloadField(s.frame))
	}
	return nil
}

// EndFrame ends the frame begun by StartFrame. The last frame of a message
// (FIN set) ends the message; for text, the last character must be whole
// ([RuleUTF8Incomplete]).
func (s *MessageState) EndFrame() *ProtocolError {
	h := s.frame
	if !partOfMessage(h.Opcode) || !h.Fin || s.phase != inMessage {
		return nil
	}
	var err *ProtocolError
	// §8.1 again: a message whose bytes stop in the middle of a character
	// is not "a valid UTF-8 stream".
	if s.checksText() && !s.utf8.Complete() {
		err = violation(RuleUTF8Incomplete, payloadField(h))
	}
	s.phase, s.op, s.utf8Off = betweenMessages, 0, false
	s.utf8.Reset()
	return err
}

// skip records that the rest of the current frame's payload went by unseen
// (a tool kept only its first bytes): its text can no longer be checked.
func (s *MessageState) skip() {
	if s.checksText() {
		s.utf8Off = true
	}
}

// checksText reports whether the current frame's payload is text still to
// be checked: a text frame, or a continuation of a text message.
func (s *MessageState) checksText() bool {
	return s.isText() && !s.utf8Off
}

// isText reports whether the current frame carries text.
func (s *MessageState) isText() bool {
	return partOfMessage(s.frame.Opcode) && s.phase == inMessage && s.op == OpText
}

// partOfMessage reports whether a frame with opcode o carries a piece of a
// message: text, binary or continuation (not control, not reserved).
func partOfMessage(o Opcode) bool { return o == OpContinuation || o.IsData() }

// payloadField names the field that holds h's payload on the wire.
func payloadField(h Header) string {
	if h.Masked {
		return "masked_payload"
	}
	return "payload"
}

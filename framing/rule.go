package framing

import "strings"

// Rule is one rule of RFC 6455 that a receiver enforces on the frames it
// reads. Each rule knows the section that states it, the close code a
// receiver that must "_Fail the WebSocket Connection_" (§7.1.7) sends for
// it, and a stable machine name: pages and tools recognise a violation by
// its Rule, never by its English text, and translate it by its name.
//
// The rules are listed in [Rules]; the sentence of the RFC that each one
// enforces stands in the code, on the line above the test that enforces
// it ([Header.Check], [MessageState], [ParseClosePayload], [Conn]).
type Rule int

// The rules, in the order [Header.Check] and [MessageState] apply them.
const (
	_ Rule = iota
	// RuleReservedBit: RSV1, RSV2 or RSV3 is set, and no negotiated
	// extension defines it (§5.2).
	RuleReservedBit
	// RuleReservedOpcode: the opcode is one of those §5.2 reserves.
	RuleReservedOpcode
	// RuleControlFragmented: a control frame has FIN clear (§5.5).
	RuleControlFragmented
	// RuleControlTooLong: a control frame declares more than 125 payload
	// bytes (§5.5).
	RuleControlTooLong
	// RuleClientFrameUnmasked: a server received a frame without the mask
	// bit (§5.1).
	RuleClientFrameUnmasked
	// RuleServerFrameMasked: a client received a masked frame (§5.1).
	RuleServerFrameMasked
	// RuleLengthMSB: a 64-bit payload length has its most significant bit
	// set (§5.2).
	RuleLengthMSB
	// RuleContinuationWithoutMessage: a continuation frame arrived when no
	// fragmented message was under way (§5.4).
	RuleContinuationWithoutMessage
	// RuleMessageInterleaved: a text or binary frame arrived while a
	// fragmented message was still under way (§5.4).
	RuleMessageInterleaved
	// RuleInvalidUTF8: the payload of a text message is not UTF-8 (§8.1),
	// found as soon as the first byte that cannot belong to UTF-8 arrives.
	RuleInvalidUTF8
	// RuleUTF8Incomplete: a text message ends inside a UTF-8 sequence
	// (§8.1).
	RuleUTF8Incomplete
	// RuleCloseOneByte: a close frame has a 1-byte payload (§5.5.1).
	RuleCloseOneByte
	// RuleCloseCodeNotAllowed: a close frame carries a status code that
	// may not be sent on the wire (§7.4).
	RuleCloseCodeNotAllowed
	// RuleCloseReasonUTF8: a close frame's reason is not UTF-8 (§5.5.1,
	// §8.1).
	RuleCloseReasonUTF8
	// RuleMessageTooBig: a message is bigger than the receiver accepts
	// (§10.4; close code 1009, §7.4.1).
	RuleMessageTooBig

	ruleEnd // one past the last rule
)

// ruleTable is what each Rule knows. reason is the English text of a
// violation, with {0}, {1} … standing for [ProtocolError.Args] (the syntax of
// the site's string catalogues, so a page can translate the rule by its name
// and fill in the same arguments).
var ruleTable = [ruleEnd]struct {
	name, section string
	code          CloseCode
	reason        string
}{
	RuleReservedBit:                {"reserved-bit", "5.2", CloseProtocolError, "{0} is set but no extension defines it"},
	RuleReservedOpcode:             {"reserved-opcode", "5.2", CloseProtocolError, "opcode {0} is reserved"},
	RuleControlFragmented:          {"control-fragmented", "5.5", CloseProtocolError, "control frame ({0}) has FIN=0; control frames must not be fragmented"},
	RuleControlTooLong:             {"control-too-long", "5.5", CloseProtocolError, "control frame ({0}) declares {1} payload bytes; the limit is 125"},
	RuleClientFrameUnmasked:        {"client-frame-unmasked", "5.1", CloseProtocolError, "frame from a client is not masked; a client must mask every frame"},
	RuleServerFrameMasked:          {"server-frame-masked", "5.1", CloseProtocolError, "frame from a server is masked; a server must not mask frames"},
	RuleLengthMSB:                  {"length-msb-set", "5.2", CloseProtocolError, "64-bit payload length has its most significant bit set"},
	RuleContinuationWithoutMessage: {"continuation-without-message", "5.4", CloseProtocolError, "continuation frame with no fragmented message to continue"},
	RuleMessageInterleaved:         {"message-interleaved", "5.4", CloseProtocolError, "{0} frame while a fragmented {1} message is unfinished; expected a continuation frame"},
	RuleInvalidUTF8:                {"invalid-utf8", "8.1", CloseInvalidPayload, "text message is not valid UTF-8"},
	RuleUTF8Incomplete:             {"utf8-incomplete", "8.1", CloseInvalidPayload, "text message ends inside a UTF-8 sequence"},
	RuleCloseOneByte:               {"close-one-byte", "5.5.1", CloseProtocolError, "close payload is 1 byte; it must be empty or hold a 2-byte status code"},
	RuleCloseCodeNotAllowed:        {"close-code-not-allowed", "7.4", CloseProtocolError, "close status code {0} must not be sent in a close frame"},
	RuleCloseReasonUTF8:            {"close-reason-utf8", "5.5.1", CloseInvalidPayload, "close reason is not valid UTF-8"},
	RuleMessageTooBig:              {"message-too-big", "10.4", CloseMessageTooBig, "message of at least {0} bytes is over the limit of {1} bytes"},
}

// Rules returns every Rule, in order.
func Rules() []Rule {
	rs := make([]Rule, 0, ruleEnd-1)
	for r := Rule(1); r < ruleEnd; r++ {
		rs = append(rs, r)
	}
	return rs
}

func (r Rule) valid() bool { return r > 0 && r < ruleEnd }

// String returns the rule's stable machine name, for example
// "continuation-without-message", or "" for a value that is not a rule.
func (r Rule) String() string {
	if !r.valid() {
		return ""
	}
	return ruleTable[r].name
}

// Section returns the section of RFC 6455 that states the rule, for example
// "5.4".
func (r Rule) Section() string {
	if !r.valid() {
		return ""
	}
	return ruleTable[r].section
}

// Code returns the close code a receiver sends when the rule is broken:
// 1002 (protocol error), 1007 (invalid payload data) or 1009 (message too
// big).
func (r Rule) Code() CloseCode {
	if !r.valid() {
		return CloseProtocolError
	}
	return ruleTable[r].code
}

// Template returns the English text of a violation of the rule, with {0},
// {1} … where [ProtocolError.Args] go.
func (r Rule) Template() string {
	if !r.valid() {
		return ""
	}
	return ruleTable[r].reason
}

// ProtocolError is one rule of RFC 6455 that a frame breaks, with the
// status code the receiver puts in its close frame when it must "_Fail the
// WebSocket Connection_" (§7.1.7): usually 1002 (protocol error), 1007 for
// invalid UTF-8, 1009 for a message too big.
type ProtocolError struct {
	// Rule is the rule broken: what to recognise and translate the error by.
	Rule Rule
	// Code is Rule.Code().
	Code CloseCode
	// Reason is the English sentence: Rule.Template() with Args filled in.
	Reason string
	// Args are the values of the sentence's {0}, {1} …: opcodes, lengths,
	// codes, written out as Reason shows them.
	Args []string
	// Field is the name of the wire field at fault, as in [Field.Name]
	// ("rsv1", "opcode", "mask", ...), or "" if no single field is.
	Field string
}

// Error returns "framing: " followed by the reason.
func (e *ProtocolError) Error() string { return "framing: " + e.Reason }

// violation returns the *ProtocolError for rule r at field, with args.
func violation(r Rule, field string, args ...string) *ProtocolError {
	return &ProtocolError{Rule: r, Code: r.Code(), Reason: fill(r.Template(), args), Args: args, Field: field}
}

// fill puts args into template in place of {0}, {1} …, as the pages'
// string catalogues do.
func fill(template string, args []string) string {
	if len(args) == 0 {
		return template
	}
	var b strings.Builder
	for {
		i := strings.IndexByte(template, '{')
		if i < 0 || i+2 >= len(template) || template[i+2] != '}' || template[i+1] < '0' || int(template[i+1]-'0') >= len(args) {
			if i < 0 {
				b.WriteString(template)
				return b.String()
			}
			b.WriteString(template[:i+1])
			template = template[i+1:]
			continue
		}
		b.WriteString(template[:i])
		b.WriteString(args[template[i+1]-'0'])
		template = template[i+3:]
	}
}

package framing

import "maps"

// noteTable holds every note [Annotate] can attach to a [Field]: the key
// (Field.NoteKey) and the English text, with {0}, {1} … standing for
// Field.NoteArgs, the syntax of the site's string catalogues. It is the one
// list of keys a translation must cover ([NoteTemplates]).
var noteTable = map[string]string{
	// fin
	"fin.final":         "final fragment of the message",
	"fin.more":          "more fragments follow",
	"fin.control":       "control frames are never fragmented",
	"fin.control-unset": "must be 1: control frames are never fragmented",
	// rsv1, rsv2, rsv3
	"rsv.clear": "reserved for extensions",
	"rsv.set":   "set, but no extension is negotiated",
	"rsv1.set":  "set, but no extension is negotiated (permessage-deflate uses it)",
	// opcode
	"opcode.data":         "data frame",
	"opcode.control":      "control frame",
	"opcode.continuation": "continues a fragmented message",
	"opcode.reserved":     "no meaning defined: the receiver must fail the connection",
	// mask: from the mask bit alone, or knowing who sent the frame
	"mask.server":          "not masked: server to client",
	"mask.client":          "masked: client to server, a masking key follows",
	"mask.client-unmasked": "not masked, but a client must mask every frame",
	"mask.server-masked":   "masked, but a server must not mask its frames",
	// payload_length, payload_length_ext_16, payload_length_ext_64
	"length.one-byte":    "payload is 1 byte",
	"length.bytes":       "payload is {0} bytes",
	"length.ext16":       "126: the length is in the next 2 bytes",
	"length.ext64":       "127: the length is in the next 8 bytes",
	"length.value":       "payload length in bytes",
	"length.not-minimal": "not minimal: a shorter length form fits (the sender broke a MUST of §5.2)",
	"length.msb":         "most significant bit set: not allowed",
	// masking_key
	"key.xor": "payload byte i is XORed with key byte i mod 4",
	// a header field the input cuts off
	"partial": "{0} of {1} bytes present",
	// payload, masked_payload, close.reason
	"payload.truncated": "truncated: {0} of {1} bytes present",
	"payload.masked":    "on the wire (masked): {0}",
	"payload.utf8":      "UTF-8: {0}",
	// close.status_code
	"close.code-not-allowed":        "not allowed in a close frame",
	"close.code-not-allowed-masked": "on the wire (masked): {0}; not allowed in a close frame",
}

// NoteTemplates returns every key a [Field.NoteKey] can hold, each with its
// English text ({0}, {1} … stand for Field.NoteArgs), so that a test can
// check that a translation covers them all. The map is a copy.
func NoteTemplates() map[string]string { return maps.Clone(noteTable) }

// note sets f's note: its key, its arguments and the English text.
func (f *Field) note(key string, args ...string) {
	f.NoteKey, f.NoteArgs, f.Note = key, args, fill(noteTable[key], args)
}

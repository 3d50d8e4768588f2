// Package framing reads, writes, checks and explains WebSocket frames as
// RFC 6455 defines them, using only the standard library.
//
// After the opening handshake, both endpoints exchange frames. Each frame
// starts with a header of 2 to 14 bytes, drawn in RFC 6455 §5.2 like this
// (bits numbered from the most significant bit of the first byte):
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-------+-+-------------+-------------------------------+
//	|F|R|R|R| opcode|M| Payload len |    Extended payload length    |
//	|I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
//	|N|V|V|V|       |S|             |   (if payload len==126/127)   |
//	| |1|2|3|       |K|             |                               |
//	+-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
//	|     Extended payload length continued, if payload len == 127  |
//	+ - - - - - - - - - - - - - - - +-------------------------------+
//	|                               |Masking-key, if MASK set to 1  |
//	+-------------------------------+-------------------------------+
//	| Masking-key (continued)       |          Payload Data         |
//	+-------------------------------- - - - - - - - - - - - - - - - +
//	:                     Payload Data continued ...                :
//	+ - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - +
//	|                     Payload Data continued ...                |
//	+---------------------------------------------------------------+
//
// The package follows one habit throughout: parse, then check, then act.
// [ParseHeader] and [ReadHeader] decode whatever is on the wire and never
// fail on policy; [Header.Check] then lists every rule the header breaks,
// each as a [*ProtocolError] naming its [Rule] and carrying the close code
// the RFC asks for; the connection ([Conn]) turns the first violation into
// a close frame. The rules that span frames (fragmentation, UTF-8 across
// fragments) live in one place, [MessageState], which the connection, the
// annotator and every tool that follows a connection share. [Annotate]
// uses the same pieces to explain every bit of a capture.
//
// One file per RFC concept:
//
//	opcode.go   §5.2 opcodes, §5.5 control frames
//	header.go   §5.2 the base framing protocol: FIN, RSV, opcode, MASK, lengths
//	mask.go     §5.3 client-to-server masking
//	rule.go     the rules a receiver enforces, each with its section and close code
//	check.go    §5.1–§5.5 the MUST rules of a frame's header
//	message.go  §5.4 fragmentation and §8.1 UTF-8, across the frames of a message
//	frame.go    §5.2 a whole frame: header plus payload
//	close.go    §5.5.1 close frames, §7.4 status codes
//	utf8.go     §5.6 / §8.1 text must be valid UTF-8
//	annotate.go every byte of a capture explained as fields
//	note.go     the notes of those fields, by key, for translation
//	split.go    a byte stream cut into frames as it arrives, in bounded memory
//	conn.go     §5.5.2–3 ping and pong, §7 closing: a message-level
//	            connection for either role
//	trace.go    every frame read or written, as it was on the wire
package framing

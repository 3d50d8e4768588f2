// Package conformance is a protocol conformance suite for WebSocket servers,
// modelled on the Autobahn TestSuite's "fuzzingclient" (the de facto
// conformance test of RFC 6455). It plays a client that sends exactly the
// bytes a case prescribes — legal or deliberately broken — and reads the
// server's frames itself, byte by byte, to see exactly what the server does.
//
// # Cases
//
// [Cases] returns the table. Case IDs follow Autobahn's numbering, so a
// result can be compared with an Autobahn report:
//
//	1   framing: text and binary messages of every length form (RFC 6455 §5.2)
//	2   pings and pongs (§5.5.2, §5.5.3)
//	3   reserved bits (§5.2: RSV1-3 "MUST be 0")
//	4   reserved opcodes (§5.2: "If an unknown opcode is received ... MUST _Fail_")
//	5   fragmentation (§5.4)
//	6   UTF-8 handling (§5.6, §8.1), including the fail-fast cases 6.4.x and
//	    the table of valid and invalid byte sequences from Markus Kuhn's
//	    UTF-8-test.txt (6.5 to 6.23)
//	7   the closing handshake and close codes (§5.5.1, §7.1, §7.4)
//	9   large messages, lightly (Autobahn's "limits/performance")
//	10  miscellaneous, plus a few rules Autobahn does not test (10.2, 10.3)
//
// Sections 12 and 13 of Autobahn (permessage-deflate) are left out: learnws
// negotiates no extension.
//
// Against a running server:
//
//	rep := conformance.Run(ctx, "ws://127.0.0.1:8080/ws/echo", conformance.Options{})
//	fmt.Print(rep) // per-section counts, then every case that is not OK, and why
//
// # Outcomes
//
// Each case ends in one of the Autobahn grades ([Status]):
//
//   - OK: the server did what the RFC asks, in its strictest reading.
//   - NON-STRICT: acceptable but not the strictest behaviour: a connection
//     failed only after a whole invalid message rather than at the first bad
//     byte, a connection dropped without a close frame (Autobahn accepts
//     this as OK: we are stricter), or a client that had to close the TCP
//     connection because the server did not (§7.1.1: the server "SHOULD"
//     close it first).
//   - FAILED: the wrong thing: a wrong echo, a wrong close code, invalid data
//     accepted, a frame that breaks the protocol, no answer in time.
//   - INFORMATIONAL: behaviour the RFC leaves open; recorded, never failed
//     (unless the server breaks the protocol on the wire).
//
// # How a case runs, without sleeping
//
// Autobahn waits a fixed time ("wait 1 s, then ...") to learn whether a
// server has reacted. This suite waits for evidence instead. To prove that
// the server has processed every byte sent so far, the runner sends a
// "barrier" ping and waits for its pong: a server handles frames in order,
// so once the pong is back every earlier frame has been acted on. Only one
// wait is timed: a fail-fast checkpoint (6.4.x), where the runner gives the
// server [Options.FailFastWait] to fail the connection before sending the
// rest of the message. A strict server fails at once, so that wait costs
// nothing when the server passes.
package conformance

// Package lab is the live byte lab: a learner's browser opens a WebSocket to
// our from-scratch server (handshake/ and framing/, never gorilla), and every
// byte that crosses that TCP connection — the upgrade request exactly as it
// was received, the 101 response, every frame in both directions — is cut
// into frames, annotated field by field, and shown in the page as it happens.
//
// # Where the bytes come from
//
// The upgrade request was read by net/http before our handler ran, so its raw
// bytes come from the recording listener (package wire): the server's
// listener keeps the first bytes of each connection, and the handler finds its
// connection through the request context. After the hijack, the lab wraps the
// connection in a tap (tap.go) that sees every Read and Write the framing.Conn
// makes on the TCP connection and cuts the two byte streams into frames with
// framing.ParseHeader. What the page shows is therefore what was read from
// and written to the socket, not a re-encoding of what the framer understood:
// a frame the framer rejects is still shown, byte for byte.
//
// # How annotations reach the page, and why Server-Sent Events
//
// Annotations travel on a separate, one-way Server-Sent Events stream
// (GET /api/lab/events/{id}), not on the lab WebSocket itself and not on a
// second WebSocket:
//
//   - The lab socket must carry only the learner's traffic. If annotations
//     rode on it, each annotation would itself be a frame to annotate
//     (forever), and the learner's "Hello" would drown among our JSON.
//   - Annotations only flow server → page. SSE is exactly that, over plain
//     HTTP, with no framing of its own to confuse with the frames we teach.
//   - EventSource reconnects by itself and sends Last-Event-ID; the session
//     keeps a bounded trace, so a reconnecting page (or a spectator that was
//     too slow and got cut off) resumes where it stopped, for free.
//   - Spectators use the very same stream. Read-only is then a property of
//     the transport — an event stream has no upstream — not a check we
//     could forget.
//
// A second WebSocket would work too, but it would need its own upgrade per
// spectator, its own ping/close handling, and its own frames would muddy a
// course about frames.
//
// # Limits
//
// Sessions expire when idle; each address may own only a few sessions and
// open only so many streams; a lab message is capped (big enough to force the
// 64-bit length form); each session's trace is a ring bounded in events and
// bytes; each frame shown is cut to its first bytes; every subscriber has a
// bounded queue and is disconnected — never waited for — when it falls
// behind, so a hundred slow spectators cannot slow the owner.
package lab

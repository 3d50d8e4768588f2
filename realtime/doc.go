// Package realtime delivers one event feed five ways — short polling, long
// polling (Comet), HTTP streaming into a hidden iframe (the "forever frame"),
// Server-Sent Events and WebSocket — and measures each on the wire.
//
// The feed (Feed) is a ticker with chat: events at random, seeded intervals
// (Generator), plus messages that clients post. Handler serves the five
// transports over plain net/http, counting for every technique the HTTP
// requests, the TCP connections, the bytes each way (from the connection
// itself, package wire: headers, chunked framing and WebSocket frame headers
// included) and the empty responses.
//
// Run runs a whole scenario headless: an in-process server, Go clients for
// each technique in turn, the same events, and a Result per technique with
// the wire figures, the delivery latency (p50, p95) and the server's
// goroutines, memory and CPU. The lessons quote these figures, and their
// tests check them with Run.
//
// Waiting never holds a subscription: a waiter asks the feed for the events
// after the last one it has and, if there are none, for a channel that the
// next Publish closes. A handler whose client went away simply returns; there
// is nothing to unregister, so nothing can leak.
package realtime

// Package wire counts, and optionally records, the bytes that really cross a
// TCP connection.
//
// A Listener wraps a net.Listener; every connection it accepts is a *Conn
// that counts bytes read (in) and written (out) with atomics, and may keep
// the first RecordLimit bytes of each direction, chunk by chunk, with the
// time each chunk crossed and its direction. Because HTTP request and
// response headers, chunked-encoding framing and WebSocket frame headers all
// pass through the same Read and Write calls, the counts include them: they
// are what the network carried above TCP, not an estimate.
//
// Use ConnContext as http.Server.ConnContext and FromContext in a handler to
// find the connection a request arrived on. After an HTTP upgrade the
// net.Conn returned by Hijack is that same *Conn, so a WebSocket keeps being
// counted.
//
// Counters aggregate many connections: every Listener has its own, Global
// sums all listeners of the process, and Conn.Attribute lets a handler
// charge a connection's bytes to a Counters of its choosing (one per
// real-time technique, say), so one server can measure several things at
// once over keep-alive connections.
package wire

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Direction tells which way bytes went, seen from the side that owns the Conn.
type Direction uint8

const (
	In  Direction = iota // read from the peer
	Out                  // written to the peer
)

func (d Direction) String() string {
	if d == In {
		return "in"
	}
	return "out"
}

// Options configure a Listener (and the connections it accepts) or Wrap.
type Options struct {
	// RecordLimit is how many bytes of each direction a connection keeps
	// (0 = none). Conn.SetRecordLimit changes it per connection.
	RecordLimit int
	// Counters, if not nil, also receives the totals of every connection
	// (in addition to the Listener's own counters and Global).
	Counters *Counters
}

// Global sums every connection accepted by any Listener in this process.
// Connections made with Wrap are not counted here.
var Global Counters

// Counters aggregates connections. The zero value is ready to use; all
// methods are safe for concurrent use.
type Counters struct {
	opened, closed    atomic.Int64
	bytesIn, bytesOut atomic.Int64
}

// Totals is a snapshot of Counters.
type Totals struct {
	Opened   int64 `json:"opened"`    // connections opened (or first attributed)
	Closed   int64 `json:"closed"`    // connections closed
	BytesIn  int64 `json:"bytes_in"`  // bytes read from peers
	BytesOut int64 `json:"bytes_out"` // bytes written to peers
}

// Active is the number of connections open at the time of the snapshot.
func (t Totals) Active() int64 { return t.Opened - t.Closed }

// Sub returns t - u, field by field: what happened between two snapshots.
func (t Totals) Sub(u Totals) Totals {
	return Totals{t.Opened - u.Opened, t.Closed - u.Closed, t.BytesIn - u.BytesIn, t.BytesOut - u.BytesOut}
}

// Snapshot reads the counters. Fields are read one by one, so a snapshot
// taken while traffic flows is consistent per field, not across fields.
func (c *Counters) Snapshot() Totals {
	return Totals{
		Opened: c.opened.Load(), Closed: c.closed.Load(),
		BytesIn: c.bytesIn.Load(), BytesOut: c.bytesOut.Load(),
	}
}

// Listener is a net.Listener whose connections are *Conn.
type Listener struct {
	net.Listener
	opt      Options
	counters Counters
}

var nextID atomic.Uint64

// NewListener wraps ln.
func NewListener(ln net.Listener, opt Options) *Listener {
	return &Listener{Listener: ln, opt: opt}
}

// Accept waits for the next connection and returns it wrapped as a *Conn.
func (l *Listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	sinks := []*Counters{&Global, &l.counters}
	if l.opt.Counters != nil {
		sinks = append(sinks, l.opt.Counters)
	}
	return newConn(c, l.opt.RecordLimit, sinks), nil
}

// Counters returns the listener's own aggregate counters.
func (l *Listener) Counters() *Counters { return &l.counters }

// Totals is l.Counters().Snapshot().
func (l *Listener) Totals() Totals { return l.counters.Snapshot() }

// Wrap counts a connection that did not come from a Listener (a dialed
// client connection, for example). Its bytes go to opt.Counters if set, not
// to Global.
func Wrap(c net.Conn, opt Options) *Conn {
	var sinks []*Counters
	if opt.Counters != nil {
		sinks = []*Counters{opt.Counters}
	}
	return newConn(c, opt.RecordLimit, sinks)
}

// Chunk is one Read or Write as recorded: its direction, when it happened,
// where it starts in that direction's byte stream, and (a copy of) the bytes,
// cut at the record limit.
type Chunk struct {
	Dir    Direction `json:"dir"`
	Time   time.Time `json:"time"`
	Offset int64     `json:"offset"`
	Data   []byte    `json:"data"`
}

// Stats is a snapshot of one connection.
type Stats struct {
	ID         uint64    `json:"id"`
	LocalAddr  string    `json:"local_addr"`
	RemoteAddr string    `json:"remote_addr"`
	Opened     time.Time `json:"opened"`
	Closed     bool      `json:"closed"`
	BytesIn    int64     `json:"bytes_in"`
	BytesOut   int64     `json:"bytes_out"`
	Reads      int64     `json:"reads"`
	Writes     int64     `json:"writes"`
}

// Conn is a net.Conn that counts (and may record) its bytes.
type Conn struct {
	net.Conn
	id     uint64
	opened time.Time
	base   []*Counters // fixed at creation: Global, listener, Options.Counters

	bytesIn, bytesOut atomic.Int64
	reads, writes     atomic.Int64
	// readSinceWrite is the number of bytes read since the last Write: on an
	// HTTP/1.1 connection without pipelining, the request being handled.
	readSinceWrite atomic.Int64
	closed         atomic.Bool
	recLimit       atomic.Int64
	sink           atomic.Pointer[Counters]

	mu       sync.Mutex
	chunks   []Chunk
	recIn    int64 // bytes recorded so far per direction
	recOut   int64
	attrSeen []*Counters // distinct counters this conn was attributed to
}

func newConn(c net.Conn, limit int, base []*Counters) *Conn {
	wc := &Conn{Conn: c, id: nextID.Add(1), opened: time.Now(), base: base}
	wc.recLimit.Store(int64(limit))
	for _, s := range base {
		s.opened.Add(1)
	}
	return wc
}

// ID is unique among the connections of this process.
func (c *Conn) ID() uint64 { return c.id }

// Read reads from the underlying connection and counts what it got.
func (c *Conn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		off := c.bytesIn.Add(int64(n)) - int64(n)
		c.reads.Add(1)
		c.readSinceWrite.Add(int64(n))
		for _, s := range c.base {
			s.bytesIn.Add(int64(n))
		}
		if s := c.sink.Load(); s != nil {
			s.bytesIn.Add(int64(n))
		}
		if c.recLimit.Load() > 0 {
			c.record(In, off, p[:n])
		}
	}
	return n, err
}

// Write writes to the underlying connection and counts what was written.
func (c *Conn) Write(p []byte) (int, error) {
	// Reset before the write: once the peer has our reply it may answer
	// (the next request) before Write returns here.
	c.readSinceWrite.Store(0)
	n, err := c.Conn.Write(p)
	if n > 0 {
		off := c.bytesOut.Add(int64(n)) - int64(n)
		c.writes.Add(1)
		for _, s := range c.base {
			s.bytesOut.Add(int64(n))
		}
		if s := c.sink.Load(); s != nil {
			s.bytesOut.Add(int64(n))
		}
		if c.recLimit.Load() > 0 {
			c.record(Out, off, p[:n])
		}
	}
	return n, err
}

// Close closes the connection; the first call counts it as closed.
func (c *Conn) Close() error {
	err := c.Conn.Close()
	if c.closed.CompareAndSwap(false, true) {
		for _, s := range c.base {
			s.closed.Add(1)
		}
		c.mu.Lock()
		for _, s := range c.attrSeen {
			s.closed.Add(1)
		}
		c.mu.Unlock()
	}
	return err
}

// Attribute charges this connection's traffic, from now on, also to s
// (nil stops). The bytes read since the last Write — on an HTTP/1.1
// keep-alive connection, the request now being handled, headers included —
// move from the previous target to s, so a handler that calls Attribute
// first gets its whole exchange. s.Opened counts each connection once, the
// first time it is attributed to s; s.Closed counts it when it closes.
func (c *Conn) Attribute(s *Counters) {
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.sink.Swap(s)
	if old == s {
		return
	}
	pending := c.readSinceWrite.Load()
	if old != nil {
		old.bytesIn.Add(-pending)
	}
	if s == nil {
		return
	}
	s.bytesIn.Add(pending)
	for _, seen := range c.attrSeen {
		if seen == s {
			return
		}
	}
	c.attrSeen = append(c.attrSeen, s)
	s.opened.Add(1)
	if c.closed.Load() {
		s.closed.Add(1)
	}
}

func (c *Conn) record(d Direction, off int64, p []byte) {
	limit := c.recLimit.Load()
	c.mu.Lock()
	defer c.mu.Unlock()
	have := &c.recIn
	if d == Out {
		have = &c.recOut
	}
	room := limit - *have
	if room <= 0 {
		return
	}
	if int64(len(p)) > room {
		p = p[:room]
	}
	*have += int64(len(p))
	c.chunks = append(c.chunks, Chunk{Dir: d, Time: time.Now(), Offset: off, Data: append([]byte(nil), p...)})
}

// SetRecordLimit changes how many bytes per direction this connection keeps
// from now on (0 stops recording; what was recorded stays).
func (c *Conn) SetRecordLimit(n int) { c.recLimit.Store(int64(n)) }

// Recorded returns the recorded bytes of each direction, concatenated.
func (c *Conn) Recorded() (in, out []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, ch := range c.chunks {
		if ch.Dir == In {
			in = append(in, ch.Data...)
		} else {
			out = append(out, ch.Data...)
		}
	}
	return in, out
}

// Chunks returns a copy of the recorded chunks in the order they crossed the
// wire (the order of the Read and Write calls that returned them).
func (c *Conn) Chunks() []Chunk {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Chunk(nil), c.chunks...)
}

// Stats returns the connection's counters.
func (c *Conn) Stats() Stats {
	st := Stats{
		ID: c.id, Opened: c.opened, Closed: c.closed.Load(),
		BytesIn: c.bytesIn.Load(), BytesOut: c.bytesOut.Load(),
		Reads: c.reads.Load(), Writes: c.writes.Load(),
	}
	if a := c.LocalAddr(); a != nil {
		st.LocalAddr = a.String()
	}
	if a := c.RemoteAddr(); a != nil {
		st.RemoteAddr = a.String()
	}
	return st
}

// NetConn returns the wrapped connection.
func (c *Conn) NetConn() net.Conn { return c.Conn }

type ctxKey struct{}

// ConnContext is meant for http.Server.ConnContext: it stores c in ctx if
// it is a *Conn.
func ConnContext(ctx context.Context, c net.Conn) context.Context {
	if wc, ok := c.(*Conn); ok {
		return context.WithValue(ctx, ctxKey{}, wc)
	}
	return ctx
}

// FromContext returns the *Conn stored by ConnContext, or nil.
func FromContext(ctx context.Context) *Conn {
	wc, _ := ctx.Value(ctxKey{}).(*Conn)
	return wc
}

func (l *Listener) wrapForBench(c net.Conn) *Conn {
	return newConn(c, l.opt.RecordLimit, []*Counters{&l.counters})
}

package realtime

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/learnws/learnws/framing"
	"github.com/learnws/learnws/wire"
)

// Technique names one way of delivering the feed. The names are the ones
// `learnws compare --json` prints.
type Technique string

const (
	ShortPolling    Technique = "short-polling"
	LongPolling     Technique = "long-polling"
	IframeStreaming Technique = "iframe-streaming"
	SSE             Technique = "sse"
	WebSocket       Technique = "websocket"
)

// Techniques lists the five in historical order.
var Techniques = []Technique{ShortPolling, LongPolling, IframeStreaming, SSE, WebSocket}

// ParseTechnique accepts a technique's name.
func ParseTechnique(s string) (Technique, bool) {
	for _, t := range Techniques {
		if string(t) == s {
			return t, true
		}
	}
	return "", false
}

// Path is the route of each technique, relative to where the Handler is
// mounted.
func (t Technique) Path() string {
	switch t {
	case ShortPolling:
		return "/poll"
	case LongPolling:
		return "/long"
	case IframeStreaming:
		return "/iframe"
	case SSE:
		return "/sse"
	case WebSocket:
		return "/ws"
	}
	return ""
}

// Config configures a Handler. Zero values take the defaults shown.
type Config struct {
	// LongPollTimeout is how long a long poll waits for an event before it
	// answers empty (20 s). A client may ask for less with ?timeout=MS.
	LongPollTimeout time.Duration
	// Heartbeat is how often an idle stream (iframe, SSE, WebSocket ping)
	// sends something, so intermediaries keep it and dead peers show (15 s).
	Heartbeat time.Duration
	// StreamMax ends a stream after this long; the client reconnects and
	// resumes from its last event (5 min). Forever frames grow the iframe's
	// document with every event, so they must be recycled (RFC 6202 §3.2).
	StreamMax time.Duration
	// WriteTimeout bounds the write of each WebSocket frame (10 s): a client
	// that stops reading is dropped.
	WriteTimeout time.Duration
	// Rate is the event rate of a new session, events per second (1).
	Rate float64
	// Seed seeds new sessions' generators (1). Session n gets Seed+n.
	Seed uint64
	// MaxSessions bounds the live sessions (128); SessionIdle expires a
	// session nobody asked about for that long (2 min).
	MaxSessions int
	SessionIdle time.Duration
	// MaxSessionsPerAddr bounds the sessions one client address owns at once
	// (8: a page is one session, so a learner with a few tabs open). When an
	// address is at its limit, its own least recently seen session with
	// nothing open makes room; if there is none, the request is refused with
	// 429. So one client opening streams with fresh session ids cannot fill
	// MaxSessions and lock everyone else out.
	MaxSessionsPerAddr int
	// Feed, when set, makes the Handler serve this one feed to every client
	// (no generator, no sessions): used by Run.
	Feed *Feed
	// Track, when set, registers every upgraded WebSocket for graceful
	// shutdown (learnws.Server.TrackConn).
	Track func(*framing.Conn) (untrack func())
	// Logger receives failures (nil: discard).
	Logger *slog.Logger
}

func (c *Config) defaults() {
	if c.LongPollTimeout <= 0 {
		c.LongPollTimeout = 20 * time.Second
	}
	if c.Heartbeat <= 0 {
		c.Heartbeat = 15 * time.Second
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = 10 * time.Second
	}
	if c.StreamMax <= 0 {
		c.StreamMax = 5 * time.Minute
	}
	if c.Rate == 0 {
		c.Rate = 1
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
	if c.MaxSessions <= 0 {
		c.MaxSessions = 128
	}
	if c.SessionIdle <= 0 {
		c.SessionIdle = 2 * time.Minute
	}
	if c.MaxSessionsPerAddr <= 0 {
		c.MaxSessionsPerAddr = 8
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Handler serves the feed five ways, plus sending, stats and rate control:
//
//	GET  /poll?sid=S&after=N            short poll: answers at once, maybe empty
//	GET  /long?sid=S&after=N&timeout=MS long poll: answers when there is an event or at the timeout
//	GET  /iframe?sid=S&after=N          forever frame: an HTML document of <script> chunks
//	GET  /sse?sid=S                     Server-Sent Events (text/event-stream; Last-Event-ID resumes)
//	GET  /ws?sid=S&after=N              WebSocket (our own handshake and framing)
//	POST /send?sid=S&via=TECHNIQUE      a chat message (body, text) into the feed
//	GET  /stats?sid=S                   the session's figures per technique (JSON)
//	POST /rate?sid=S&rate=R             the session's event rate
//
// Mount it under a prefix with http.StripPrefix. A session (sid, 8–64 of
// [A-Za-z0-9_-], chosen by the page) has its own feed and generator, so one
// learner's figures are not mixed with another's. after is the last event ID
// the client has; without it, a client starts from now.
type Handler struct {
	cfg  Config
	mux  *http.ServeMux
	done chan struct{}
	once sync.Once
	wg   sync.WaitGroup // janitor

	mu       sync.Mutex
	sessions map[string]*session
	byAddr   map[string]int // sessions owned per client address
	shared   *session
	nextSeed uint64
}

type session struct {
	id       string
	addr     string // the client address that created it
	feed     *Feed
	gen      *Generator // nil for a shared feed
	tech     map[Technique]*counters
	lastSeen atomic.Int64 // unix nanos
	active   atomic.Int64
}

type counters struct {
	wire      wire.Counters
	requests  atomic.Int64
	empty     atomic.Int64
	delivered atomic.Int64
	sent      atomic.Int64
	active    atomic.Int64
}

// Stats are one technique's figures, measured by the server.
type Stats struct {
	Technique      Technique `json:"technique"`
	Requests       int64     `json:"requests"`        // HTTP requests (a WebSocket's handshake is one)
	Connections    int64     `json:"connections"`     // TCP connections that carried them
	BytesUp        int64     `json:"bytes_up"`        // client → server, headers and framing included
	BytesDown      int64     `json:"bytes_down"`      // server → client
	EmptyResponses int64     `json:"empty_responses"` // answers that carried no event
	Delivered      int64     `json:"delivered"`       // events sent to clients
	Sent           int64     `json:"sent"`            // chat messages received from clients
	Active         int64     `json:"active"`          // requests or streams open now
}

// SessionStats is what GET /stats returns.
type SessionStats struct {
	Rate       float64 `json:"rate"`
	Last       int64   `json:"last"`
	ServerTime float64 `json:"server_time"` // Unix ms, for the page's clock offset
	Techniques []Stats `json:"techniques"`
}

// NewHandler returns a Handler; Close releases it.
func NewHandler(cfg Config) *Handler {
	cfg.defaults()
	h := &Handler{cfg: cfg, mux: http.NewServeMux(), done: make(chan struct{}),
		sessions: make(map[string]*session), byAddr: make(map[string]int)}
	if cfg.Feed != nil {
		h.shared = newSession("shared", cfg.Feed, nil)
	} else {
		h.wg.Add(1)
		go h.janitor()
	}
	h.mux.HandleFunc("GET /poll", h.serveShort)
	h.mux.HandleFunc("GET /long", h.serveLong)
	h.mux.HandleFunc("GET /iframe", h.serveIframe)
	h.mux.HandleFunc("GET /sse", h.serveSSE)
	h.mux.HandleFunc("GET /ws", h.serveWS)
	h.mux.HandleFunc("POST /send", h.serveSend)
	h.mux.HandleFunc("GET /stats", h.serveStats)
	h.mux.HandleFunc("POST /rate", h.serveRate)
	return h
}

func newSession(id string, feed *Feed, gen *Generator) *session {
	s := &session{id: id, feed: feed, gen: gen, tech: make(map[Technique]*counters)}
	for _, t := range Techniques {
		s.tech[t] = new(counters)
	}
	s.lastSeen.Store(time.Now().UnixNano())
	return s
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mux.ServeHTTP(w, r)
}

// Close ends every wait and stream (they answer or close), stops the
// generators and the janitor. Call it when the server shuts down.
func (h *Handler) Close() {
	h.once.Do(func() { close(h.done) })
	h.wg.Wait()
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, s := range h.sessions {
		s.gen.Stop()
		h.dropLocked(s)
	}
}

// dropLocked forgets session s; the caller holds h.mu and stops its generator.
func (h *Handler) dropLocked(s *session) {
	delete(h.sessions, s.id)
	if h.byAddr[s.addr]--; h.byAddr[s.addr] <= 0 {
		delete(h.byAddr, s.addr)
	}
}

func (h *Handler) janitor() {
	defer h.wg.Done()
	t := time.NewTicker(h.cfg.SessionIdle / 4)
	defer t.Stop()
	for {
		select {
		case <-h.done:
			return
		case <-t.C:
			h.sweep(time.Now().Add(-h.cfg.SessionIdle))
		}
	}
}

// sweep removes sessions idle since before cutoff with nothing open.
func (h *Handler) sweep(cutoff time.Time) {
	h.mu.Lock()
	var stop []*Generator
	for _, s := range h.sessions {
		if s.active.Load() == 0 && s.lastSeen.Load() < cutoff.UnixNano() {
			stop = append(stop, s.gen)
			h.dropLocked(s)
		}
	}
	h.mu.Unlock()
	for _, g := range stop {
		g.Stop()
	}
}

// Sessions is the number of live sessions.
func (h *Handler) Sessions() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.sessions)
}

var sidRE = regexp.MustCompile(`^[A-Za-z0-9_-]{8,64}$`)

// session finds or creates the request's session, or answers an error.
func (h *Handler) session(w http.ResponseWriter, r *http.Request) *session {
	if h.shared != nil {
		return h.shared
	}
	sid := r.URL.Query().Get("sid")
	if !sidRE.MatchString(sid) {
		http.Error(w, "realtime: sid must be 8 to 64 of A-Z a-z 0-9 _ -", http.StatusBadRequest)
		return nil
	}
	select {
	case <-h.done:
		http.Error(w, "realtime: server shutting down", http.StatusServiceUnavailable)
		return nil
	default:
	}
	h.mu.Lock()
	s := h.sessions[sid]
	if s == nil {
		addr := clientAddr(r)
		if h.byAddr[addr] >= h.cfg.MaxSessionsPerAddr && !h.evictLocked(addr) {
			h.mu.Unlock()
			w.Header().Set("Retry-After", "60")
			http.Error(w, fmt.Sprintf("realtime: your address is at its limit of sessions (%d); close a tab, or try again in a minute", h.cfg.MaxSessionsPerAddr), http.StatusTooManyRequests)
			return nil
		}
		if len(h.sessions) >= h.cfg.MaxSessions && !h.evictLocked("") {
			h.mu.Unlock()
			w.Header().Set("Retry-After", "60")
			http.Error(w, "realtime: too many sessions, try again in a minute", http.StatusServiceUnavailable)
			return nil
		}
		h.nextSeed++
		feed := NewFeed(0)
		s = newSession(sid, feed, NewGenerator(feed, h.cfg.Rate, h.cfg.Seed+h.nextSeed))
		s.addr = addr
		h.sessions[sid] = s
		h.byAddr[addr]++
	}
	h.mu.Unlock()
	s.lastSeen.Store(time.Now().UnixNano())
	return s
}

// evictLocked drops the least recently seen session with nothing open, of
// client address addr ("": of any address).
func (h *Handler) evictLocked(addr string) bool {
	var victim *session
	for _, s := range h.sessions {
		if addr != "" && s.addr != addr {
			continue
		}
		if s.active.Load() == 0 && (victim == nil || s.lastSeen.Load() < victim.lastSeen.Load()) {
			victim = s
		}
	}
	if victim == nil {
		return false
	}
	h.dropLocked(victim)
	go victim.gen.Stop()
	return true
}

// clientAddr is the client's IP address: the TCP peer (no proxy is trusted).
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// begin charges this request (and its connection) to technique t of the
// session; end must be called when the exchange is over.
func (h *Handler) begin(w http.ResponseWriter, r *http.Request, t Technique) (s *session, c *counters, end func()) {
	s = h.session(w, r)
	if s == nil {
		return nil, nil, nil
	}
	c = s.tech[t]
	if wc := wire.FromContext(r.Context()); wc != nil {
		wc.Attribute(&c.wire)
	}
	c.requests.Add(1)
	c.active.Add(1)
	s.active.Add(1)
	return s, c, func() {
		c.active.Add(-1)
		s.active.Add(-1)
		s.lastSeen.Store(time.Now().UnixNano())
	}
}

// detach stops charging the connection to any technique (stats, rate).
func detach(r *http.Request) {
	if wc := wire.FromContext(r.Context()); wc != nil {
		wc.Attribute(nil)
	}
}

// after is the last event the client has: Last-Event-ID (an EventSource
// reconnecting sends it, with the URL it first used), else ?after=, else the
// newest event (start from now).
func after(r *http.Request, feed *Feed) int64 {
	v := r.Header.Get("Last-Event-ID")
	if v == "" {
		v = r.URL.Query().Get("after")
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= 0 {
		return n
	}
	return feed.Last()
}

// batch is the body of a poll's answer.
type batch struct {
	Last   int64   `json:"last"`
	Events []Event `json:"events"`
}

func noStore(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
}

func writeBatch(w http.ResponseWriter, last int64, evs []Event) {
	if evs == nil {
		evs = []Event{}
	}
	b, _ := json.Marshal(batch{last, evs})
	noStore(w)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.Write(b)
}

// maxBatch bounds the events in one answer.
const maxBatch = 100

func (h *Handler) serveShort(w http.ResponseWriter, r *http.Request) {
	s, c, end := h.begin(w, r, ShortPolling)
	if s == nil {
		return
	}
	defer end()
	evs, cur, _ := s.feed.Since(after(r, s.feed), maxBatch)
	if len(evs) == 0 {
		c.empty.Add(1)
	}
	c.delivered.Add(int64(len(evs)))
	writeBatch(w, cur, evs)
}

func (h *Handler) serveLong(w http.ResponseWriter, r *http.Request) {
	s, c, end := h.begin(w, r, LongPolling)
	if s == nil {
		return
	}
	defer end()
	timeout := h.cfg.LongPollTimeout
	if ms, err := strconv.Atoi(r.URL.Query().Get("timeout")); err == nil && ms >= 50 {
		timeout = min(timeout, time.Duration(ms)*time.Millisecond)
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	pos := after(r, s.feed)
	for {
		evs, cur, changed := s.feed.Since(pos, maxBatch)
		if len(evs) > 0 {
			c.delivered.Add(int64(len(evs)))
			writeBatch(w, cur, evs)
			return
		}
		pos = cur
		select {
		case <-changed:
		case <-timer.C:
			c.empty.Add(1)
			writeBatch(w, cur, nil)
			return
		case <-h.done:
			c.empty.Add(1)
			writeBatch(w, cur, nil)
			return
		case <-r.Context().Done():
			return // the client went away: nothing was registered, nothing to release
		}
	}
}

// stream runs the loop shared by the three streaming techniques: wait for
// events, hand them to emit, send heartbeats, stop at StreamMax, at Close, or
// when the client goes away (gone).
func (h *Handler) stream(gone <-chan struct{}, s *session, c *counters, pos int64, emit func([]Event) error, heartbeat func() error) {
	hb := time.NewTicker(h.cfg.Heartbeat)
	defer hb.Stop()
	maxT := time.NewTimer(h.cfg.StreamMax)
	defer maxT.Stop()
	for {
		evs, cur, changed := s.feed.Since(pos, maxBatch)
		pos = cur
		if len(evs) > 0 {
			if emit(evs) != nil {
				return
			}
			c.delivered.Add(int64(len(evs)))
			continue
		}
		select {
		case <-changed:
		case <-hb.C:
			if heartbeat() != nil {
				return
			}
		case <-maxT.C:
			return
		case <-h.done:
			return
		case <-gone:
			return
		}
	}
}

func newNonce() string {
	var b [16]byte
	rand.Read(b[:])
	return base64.StdEncoding.EncodeToString(b[:])
}

// serveIframe is the forever frame: one HTML document that never ends, one
// <script> per event, each calling the parent page as it arrives. The site's
// Content-Security-Policy forbids inline script, so this response carries its
// own policy that allows exactly the scripts carrying this response's nonce.
func (h *Handler) serveIframe(w http.ResponseWriter, r *http.Request) {
	s, c, end := h.begin(w, r, IframeStreaming)
	if s == nil {
		return
	}
	defer end()
	rc := http.NewResponseController(w)
	nonce := newNonce()
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Content-Security-Policy", "default-src 'none'; script-src 'nonce-"+nonce+"'; base-uri 'none'; form-action 'none'; frame-ancestors 'self'")
	hd.Set("X-Frame-Options", "SAMEORIGIN")
	noStore(w)
	w.WriteHeader(http.StatusOK)
	fmt.Fprintf(w, "<!doctype html><meta charset=utf-8><title>forever frame</title>\n")
	if rc.Flush() != nil {
		return
	}
	open := `<script nonce="` + nonce + `">parent.postMessage({"learnws":"iframe","event":`
	closeTag := "},location.origin)</script>\n"
	emit := func(evs []Event) error {
		for _, e := range evs {
			b, _ := json.Marshal(e) // escapes <, > and &: no "</script>" can appear
			io.WriteString(w, open)
			w.Write(b)
			io.WriteString(w, closeTag)
		}
		return rc.Flush()
	}
	h.stream(r.Context().Done(), s, c, after(r, s.feed), emit, func() error {
		io.WriteString(w, "<!-- -->\n")
		return rc.Flush()
	})
}

func (h *Handler) serveSSE(w http.ResponseWriter, r *http.Request) {
	s, c, end := h.begin(w, r, SSE)
	if s == nil {
		return
	}
	defer end()
	rc := http.NewResponseController(w)
	hd := w.Header()
	hd.Set("Content-Type", "text/event-stream")
	hd.Set("X-Accel-Buffering", "no")
	noStore(w)
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, "retry: 1000\n\n")
	if rc.Flush() != nil {
		return
	}
	emit := func(evs []Event) error {
		for _, e := range evs {
			b, _ := json.Marshal(e)
			fmt.Fprintf(w, "id: %d\ndata: %s\n\n", e.ID, b)
		}
		return rc.Flush()
	}
	h.stream(r.Context().Done(), s, c, after(r, s.feed), emit, func() error {
		io.WriteString(w, ": \n\n")
		return rc.Flush()
	})
}

func (h *Handler) serveSend(w http.ResponseWriter, r *http.Request) {
	t, ok := ParseTechnique(r.URL.Query().Get("via"))
	if !ok || t == WebSocket {
		http.Error(w, "realtime: via must name an HTTP technique", http.StatusBadRequest)
		return
	}
	s, c, end := h.begin(w, r, t)
	if s == nil {
		return
	}
	defer end()
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 4*MaxChat))
	if err != nil {
		http.Error(w, "realtime: message too long", http.StatusRequestEntityTooLarge)
		return
	}
	text, ok := CleanChat(string(body))
	if !ok {
		http.Error(w, "realtime: empty message", http.StatusBadRequest)
		return
	}
	s.feed.Publish("chat", text)
	c.sent.Add(1)
	noStore(w)
	w.WriteHeader(http.StatusNoContent)
}

func (h *Handler) serveStats(w http.ResponseWriter, r *http.Request) {
	detach(r)
	s := h.session(w, r)
	if s == nil {
		return
	}
	b, _ := json.Marshal(s.stats())
	noStore(w)
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
}

func (h *Handler) serveRate(w http.ResponseWriter, r *http.Request) {
	detach(r)
	s := h.session(w, r)
	if s == nil {
		return
	}
	rate, err := strconv.ParseFloat(r.URL.Query().Get("rate"), 64)
	if err != nil || s.gen == nil {
		http.Error(w, "realtime: rate must be a number of events per second", http.StatusBadRequest)
		return
	}
	s.gen.SetRate(rate)
	b, _ := json.Marshal(s.stats())
	noStore(w)
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
}

func (s *session) stats() SessionStats {
	st := SessionStats{Last: s.feed.Last(), ServerTime: float64(time.Now().UnixMicro()) / 1000}
	if s.gen != nil {
		st.Rate = s.gen.Rate()
	}
	for _, t := range Techniques {
		st.Techniques = append(st.Techniques, s.tech[t].stats(t))
	}
	return st
}

func (c *counters) stats(t Technique) Stats {
	wt := c.wire.Snapshot()
	return Stats{
		Technique: t, Requests: c.requests.Load(), Connections: wt.Opened,
		BytesUp: wt.BytesIn, BytesDown: wt.BytesOut, EmptyResponses: c.empty.Load(),
		Delivered: c.delivered.Load(), Sent: c.sent.Load(), Active: c.active.Load(),
	}
}

// TechniqueStats returns the figures of technique t summed over the shared
// feed's session (Config.Feed) — what Run reads after a scenario.
func (h *Handler) TechniqueStats(t Technique) Stats {
	if h.shared == nil {
		return Stats{Technique: t}
	}
	return h.shared.tech[t].stats(t)
}

package lab

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Limits keep a lab that is open to a classroom, or to the internet, up.
// The zero value of a field means its default (see DefaultLimits).
type Limits struct {
	IdleTimeout        time.Duration // a session with no traffic for this long is closed, then forgotten
	MaxSessions        int           // sessions kept at once, all addresses together
	MaxSessionsPerAddr int           // lab sockets one address may have open at once
	MaxStreamsPerAddr  int           // event streams (owner page + spectators) one address may hold
	MaxSpectators      int           // event streams per session
	MaxMessage         int64         // largest lab message, in bytes (must exceed 65535 to show the 64-bit length)
	TraceEvents        int           // events a session keeps for late joiners and reconnects
	TraceBytes         int           // and at most this many bytes of them (encoded)
	FrameShow          int           // bytes of each frame kept and shown; the rest is counted, not kept
	QueueLen           int           // events queued per subscriber before it is cut off
	MessageRate        float64       // messages per second a lab socket may send, sustained (bursts of MessageRate/2 more)
	WriteTimeout       time.Duration // one write to a subscriber, or one frame to the lab socket, may take this long
}

// DefaultLimits are sized for a 2-core laptop serving a class of about 100.
var DefaultLimits = Limits{
	IdleTimeout:        10 * time.Minute,
	MaxSessions:        200,
	MaxSessionsPerAddr: 4,
	MaxStreamsPerAddr:  150,
	MaxSpectators:      300,
	MaxMessage:         256 << 10,
	TraceEvents:        1000,
	TraceBytes:         2 << 20,
	FrameShow:          2048,
	QueueLen:           256,
	MessageRate:        100,
	WriteTimeout:       10 * time.Second,
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	if l.IdleTimeout > 0 {
		d.IdleTimeout = l.IdleTimeout
	}
	if l.MaxSessions > 0 {
		d.MaxSessions = l.MaxSessions
	}
	if l.MaxSessionsPerAddr > 0 {
		d.MaxSessionsPerAddr = l.MaxSessionsPerAddr
	}
	if l.MaxStreamsPerAddr > 0 {
		d.MaxStreamsPerAddr = l.MaxStreamsPerAddr
	}
	if l.MaxSpectators > 0 {
		d.MaxSpectators = l.MaxSpectators
	}
	if l.MaxMessage > 0 {
		d.MaxMessage = l.MaxMessage
	}
	if l.TraceEvents > 0 {
		d.TraceEvents = l.TraceEvents
	}
	if l.TraceBytes > 0 {
		d.TraceBytes = l.TraceBytes
	}
	if l.FrameShow > 0 {
		d.FrameShow = l.FrameShow
	}
	if l.QueueLen > 0 {
		d.QueueLen = l.QueueLen
	}
	if l.MessageRate > 0 {
		d.MessageRate = l.MessageRate
	}
	if l.WriteTimeout > 0 {
		d.WriteTimeout = l.WriteTimeout
	}
	return d
}

// Errors returned when a limit refuses something.
var (
	ErrTooManySessions   = errors.New("lab: too many lab sessions on this server; try again later")
	ErrAddrSessions      = errors.New("lab: too many lab sessions from your address; close one first")
	ErrTooManyStreams    = errors.New("lab: too many event streams from your address")
	ErrTooManySpectators = errors.New("lab: this session has as many spectators as it can take")
	ErrNoSession         = errors.New("lab: no such session (it may have expired)")
)

// Registry holds the live sessions, enforces the limits and expires idle
// sessions. Close it when the server stops.
type Registry struct {
	lim Limits

	mu        sync.Mutex
	sessions  map[string]*Session
	liveAddr  map[string]int // open lab sockets per address
	streamsBy map[string]int // open event streams per address
	closed    bool

	stop chan struct{}
	wg   sync.WaitGroup
	now  func() time.Time
}

// NewRegistry starts a registry and its janitor.
func NewRegistry(lim Limits) *Registry {
	r := &Registry{
		lim:       lim.withDefaults(),
		sessions:  map[string]*Session{},
		liveAddr:  map[string]int{},
		streamsBy: map[string]int{},
		stop:      make(chan struct{}),
		now:       time.Now,
	}
	every := r.lim.IdleTimeout / 4
	if every > 30*time.Second {
		every = 30 * time.Second
	}
	if every < 10*time.Millisecond {
		every = 10 * time.Millisecond
	}
	r.wg.Add(1)
	go r.janitor(every)
	return r
}

// Limits returns the limits in force (defaults filled in).
func (r *Registry) Limits() Limits { return r.lim }

func (r *Registry) janitor(every time.Duration) {
	defer r.wg.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-r.stop:
			return
		case <-t.C:
			r.expire()
		}
	}
}

// expire closes the sockets of sessions idle for too long, and forgets
// sessions whose socket is closed and that have been idle for too long.
func (r *Registry) expire() {
	now := r.now()
	var closeSock []*Session
	var forget []*Session
	r.mu.Lock()
	for id, s := range r.sessions {
		s.mu.Lock()
		idle := now.Sub(s.lastActive) > r.lim.IdleTimeout
		live := s.live
		s.mu.Unlock()
		switch {
		case idle && live:
			closeSock = append(closeSock, s)
		case idle:
			delete(r.sessions, id)
			forget = append(forget, s)
		}
	}
	r.mu.Unlock()
	for _, s := range closeSock {
		s.expireSocket()
	}
	for _, s := range forget {
		s.end()
	}
}

// Close ends every session and stream and stops the janitor.
func (r *Registry) Close() {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	r.closed = true
	all := make([]*Session, 0, len(r.sessions))
	for _, s := range r.sessions {
		all = append(all, s)
	}
	r.sessions = map[string]*Session{}
	r.mu.Unlock()
	close(r.stop)
	r.wg.Wait()
	for _, s := range all {
		s.end()
	}
}

// open creates a session owned by a lab socket from addr.
func (r *Registry) open(addr string) (*Session, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, ErrTooManySessions
	}
	// At the cap, make room by forgetting the oldest session whose socket is closed.
	if len(r.sessions) >= r.lim.MaxSessions && !r.evictOneLocked() {
		return nil, ErrTooManySessions
	}
	if r.liveAddr[addr] >= r.lim.MaxSessionsPerAddr {
		return nil, ErrAddrSessions
	}
	s := &Session{
		ID:         newID(),
		reg:        r,
		addr:       addr,
		start:      r.now(),
		lastActive: r.now(),
		live:       true,
		subs:       map[*subscriber]struct{}{},
		done:       make(chan struct{}),
	}
	r.sessions[s.ID] = s
	r.liveAddr[addr]++
	return s, nil
}

func (r *Registry) evictOneLocked() bool {
	var oldest *Session
	var oldestLast time.Time
	for _, s := range r.sessions {
		s.mu.Lock()
		live, last := s.live, s.lastActive
		s.mu.Unlock()
		if !live && (oldest == nil || last.Before(oldestLast)) {
			oldest, oldestLast = s, last
		}
	}
	if oldest == nil {
		return false
	}
	delete(r.sessions, oldest.ID)
	go oldest.end()
	return true
}

// forget drops a session at once (its socket never opened).
func (r *Registry) forget(s *Session) {
	r.mu.Lock()
	delete(r.sessions, s.ID)
	r.mu.Unlock()
	s.end()
}

// Get finds a session by id.
func (r *Registry) Get(id string) *Session {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.sessions[id]
}

// Len is the number of sessions kept.
func (r *Registry) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.sessions)
}

func (r *Registry) socketClosed(s *Session) {
	r.mu.Lock()
	if r.liveAddr[s.addr]--; r.liveAddr[s.addr] <= 0 {
		delete(r.liveAddr, s.addr)
	}
	r.mu.Unlock()
}

func (r *Registry) addStream(addr string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.streamsBy[addr] >= r.lim.MaxStreamsPerAddr {
		return false
	}
	r.streamsBy[addr]++
	return true
}

func (r *Registry) dropStream(addr string) {
	r.mu.Lock()
	if r.streamsBy[addr]--; r.streamsBy[addr] <= 0 {
		delete(r.streamsBy, addr)
	}
	r.mu.Unlock()
}

func newID() string {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// Session is one lab socket and everything that was seen on it: a bounded
// trace of encoded events and the subscribers following it live.
type Session struct {
	ID    string
	reg   *Registry
	addr  string
	start time.Time

	mu         sync.Mutex
	seq        uint64
	ring       []stored // oldest first
	ringBytes  int
	lastActive time.Time
	live       bool
	closeSock  func(reason string) // set while the socket is open: starts its closing handshake (1001)
	subs       map[*subscriber]struct{}
	ended      bool
	done       chan struct{}
	dropped    uint64 // subscribers cut off for being slow

	scriptBusy atomic.Bool // a scripted bad client is running (one at a time)
}

type stored struct {
	seq   uint64
	data  []byte // one encoded event (JSON)
	event string // "" for a trace event; "watchers" for the transient count of streams
}

type subscriber struct {
	ch   chan stored
	gone chan struct{} // closed when the subscriber is cut off or the session ends
	once sync.Once
}

func (sub *subscriber) cut() { sub.once.Do(func() { close(sub.gone) }) }

// Start is when the session began.
func (s *Session) Start() time.Time { return s.start }

// Publish stamps ev with the next sequence number and the time since the
// session started, keeps it in the trace and offers it to every subscriber.
// It never waits for a subscriber: one whose queue is full is cut off (its
// EventSource reconnects and catches up from the trace).
func (s *Session) Publish(ev *Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return
	}
	s.seq++
	ev.Seq = s.seq
	if ev.Time.IsZero() {
		ev.Time = s.reg.now()
	}
	ev.MS = float64(ev.Time.Sub(s.start).Microseconds()) / 1000
	data, err := json.Marshal(ev)
	if err != nil {
		return
	}
	st := stored{seq: ev.Seq, data: data}
	s.ring = append(s.ring, st)
	s.ringBytes += len(data)
	lim := s.reg.lim
	for len(s.ring) > 1 && (len(s.ring) > lim.TraceEvents || s.ringBytes > lim.TraceBytes) {
		s.ringBytes -= len(s.ring[0].data)
		s.ring[0] = stored{}
		s.ring = s.ring[1:]
	}
	s.lastActive = ev.Time
	for sub := range s.subs {
		select {
		case sub.ch <- st:
		default:
			delete(s.subs, sub)
			s.dropped++
			sub.cut()
		}
	}
}

// subscribe registers a subscriber and returns, atomically with that, the
// kept events after seq `after`, and how many events after `after` are no
// longer kept.
func (s *Session) subscribe(after uint64) (*subscriber, []stored, uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return nil, nil, 0, ErrNoSession
	}
	if len(s.subs) >= s.reg.lim.MaxSpectators {
		return nil, nil, 0, ErrTooManySpectators
	}
	sub := &subscriber{ch: make(chan stored, s.reg.lim.QueueLen), gone: make(chan struct{})}
	s.subs[sub] = struct{}{}
	s.announceLocked()
	var backlog []stored
	var lost uint64
	for _, st := range s.ring {
		if st.seq > after {
			backlog = append(backlog, st)
		}
	}
	if len(s.ring) > 0 && s.ring[0].seq > after+1 {
		lost = s.ring[0].seq - after - 1
	}
	return sub, backlog, lost, nil
}

func (s *Session) unsubscribe(sub *subscriber) {
	s.mu.Lock()
	if _, ok := s.subs[sub]; ok {
		delete(s.subs, sub)
		s.announceLocked()
	}
	s.mu.Unlock()
	sub.cut()
}

// announceLocked tells every stream how many streams follow the session. It
// is not part of the trace, and a full queue simply misses it.
func (s *Session) announceLocked() {
	st := stored{event: "watchers", data: []byte(strconv.Itoa(len(s.subs)))}
	for sub := range s.subs {
		select {
		case sub.ch <- st:
		default:
		}
	}
}

// Subscribers is the number of streams following the session now.
func (s *Session) Subscribers() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.subs)
}

// Dropped is how many subscribers were cut off for falling behind.
func (s *Session) Dropped() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dropped
}

// Live reports whether the session's socket is open.
func (s *Session) Live() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.live
}

func (s *Session) touch() {
	s.mu.Lock()
	s.lastActive = s.reg.now()
	s.mu.Unlock()
}

func (s *Session) setCloser(f func(reason string)) {
	s.mu.Lock()
	s.closeSock = f
	s.mu.Unlock()
}

// socketDone marks the socket closed; the trace stays for late viewers until
// the session has been idle for the idle timeout.
func (s *Session) socketDone() {
	s.mu.Lock()
	was := s.live
	s.live = false
	s.closeSock = nil
	s.lastActive = s.reg.now()
	s.mu.Unlock()
	if was {
		s.reg.socketClosed(s)
	}
}

func (s *Session) expireSocket() {
	s.mu.Lock()
	f := s.closeSock
	s.mu.Unlock()
	if f != nil {
		f(idleReason)
	}
}

// The reasons of the lab socket's close 1001: its session expired, or the lab is
// closing because the server is shutting down (the same words as the server's own
// goodbye to every other WebSocket).
const (
	idleReason     = "idle for too long"
	shutdownReason = "server shutting down"
)

// end cuts every subscriber off and closes the socket if still open. A session
// still live when it ends is ended by Registry.Close: the server is shutting down.
func (s *Session) end() {
	s.mu.Lock()
	if s.ended {
		s.mu.Unlock()
		return
	}
	s.ended = true
	f := s.closeSock
	for sub := range s.subs {
		sub.cut()
	}
	s.subs = nil
	close(s.done)
	s.mu.Unlock()
	if f != nil {
		f(shutdownReason)
	}
}

func (s *Session) seqNow() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seq
}

// pacer slows a lab socket that sends faster than Limits.MessageRate: every
// message is fanned out to all spectators, so one script flooding its
// socket would otherwise cost the server the flood times the class. It is a
// token bucket; wait blocks the owner's own read loop, nobody else's.
type pacer struct {
	rate, burst float64
	tokens      float64
	last        time.Time
}

func newPacer(rate float64) *pacer {
	b := rate / 2
	if b < 1 {
		b = 1
	}
	return &pacer{rate: rate, burst: b, tokens: b, last: time.Now()}
}

func (p *pacer) wait() {
	now := time.Now()
	p.tokens += now.Sub(p.last).Seconds() * p.rate
	if p.tokens > p.burst {
		p.tokens = p.burst
	}
	p.last = now
	if p.tokens >= 1 {
		p.tokens--
		return
	}
	d := time.Duration((1 - p.tokens) / p.rate * float64(time.Second))
	time.Sleep(d)
	p.last = time.Now()
	p.tokens = 0
}

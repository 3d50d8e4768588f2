package realtime

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"time"
	"unicode/utf8"
)

// Event is one item of the feed, as every technique sends it (JSON).
type Event struct {
	ID   int64   `json:"id"`   // 1, 2, 3, … in publishing order
	T    float64 `json:"t"`    // when it was published: Unix time in milliseconds (fraction = µs)
	Kind string  `json:"kind"` // "tick" (generated) or "chat" (posted by a client)
	Text string  `json:"text"`
}

// Time is e.T as a time.Time.
func (e Event) Time() time.Time {
	return time.UnixMicro(int64(e.T * 1000))
}

// MaxChat is the longest chat message accepted, in bytes.
const MaxChat = 280

// Feed keeps the most recent events and wakes waiters when one is published.
// It is safe for concurrent use.
type Feed struct {
	mu      sync.Mutex
	ring    []Event // the last len(ring) events; ring[id%len]
	last    int64   // ID of the newest event (0: none yet)
	changed chan struct{}
}

// NewFeed returns a feed that remembers the last keep events (default 256).
func NewFeed(keep int) *Feed {
	if keep <= 0 {
		keep = 256
	}
	return &Feed{ring: make([]Event, keep), changed: make(chan struct{})}
}

// Publish appends an event stamped with the current time and wakes every
// waiter.
func (f *Feed) Publish(kind, text string) Event {
	now := time.Now()
	f.mu.Lock()
	f.last++
	e := Event{ID: f.last, T: float64(now.UnixMicro()) / 1000, Kind: kind, Text: text}
	f.ring[e.ID%int64(len(f.ring))] = e
	ch := f.changed
	f.changed = make(chan struct{})
	f.mu.Unlock()
	close(ch)
	return e
}

// Last is the ID of the newest event (0 if none).
func (f *Feed) Last() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.last
}

// Since returns the events after ID after that the feed still holds (at most
// max, 0 = all); the cursor to ask with next time (the last event returned,
// or the feed's newest ID when none is: a client that is ahead, after a
// restart, is brought back); and a channel that is closed when a newer event
// is published. When no events are returned, wait on the channel; nothing
// has to be released if you stop waiting.
func (f *Feed) Since(after int64, max int) (events []Event, cursor int64, changed <-chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	first := after + 1
	if oldest := f.last - int64(len(f.ring)) + 1; first < oldest {
		first = oldest
	}
	if first < 1 {
		first = 1
	}
	for id := first; id <= f.last; id++ {
		if max > 0 && len(events) == max {
			break
		}
		events = append(events, f.ring[id%int64(len(f.ring))])
	}
	cursor = f.last
	if len(events) > 0 {
		cursor = events[len(events)-1].ID
	}
	return events, cursor, f.changed
}

// CleanChat trims a posted message to MaxChat bytes of valid UTF-8 without
// control characters; ok is false if nothing is left.
func CleanChat(s string) (string, bool) {
	out := make([]rune, 0, len(s))
	n := 0
	for _, r := range s {
		if r == utf8.RuneError || r < 0x20 || r == 0x7f {
			r = ' '
		}
		if n+utf8.RuneLen(r) > MaxChat {
			break
		}
		n += utf8.RuneLen(r)
		out = append(out, r)
	}
	t := string(out)
	for len(t) > 0 && t[0] == ' ' {
		t = t[1:]
	}
	for len(t) > 0 && t[len(t)-1] == ' ' {
		t = t[:len(t)-1]
	}
	return t, t != ""
}

// Ticker makes the text of generated events: a few made-up stock symbols
// taking a random walk, deterministic for a seed.
type Ticker struct {
	rng    *rand.Rand
	prices []float64
}

var symbols = []string{"ACME", "GLOBX", "INITECH", "UMBRA"}

// NewTicker returns a ticker seeded with seed.
func NewTicker(seed uint64) *Ticker {
	t := &Ticker{rng: rand.New(rand.NewPCG(seed, 0x6c6561726e7773))}
	for range symbols {
		t.prices = append(t.prices, 50+float64(t.rng.IntN(100)))
	}
	return t
}

// Next returns the next quote, like "ACME 101.25 +0.25".
func (t *Ticker) Next() string {
	i := t.rng.IntN(len(symbols))
	d := float64(t.rng.IntN(41)-20) / 20
	if t.prices[i]+d < 1 {
		d = -d
	}
	t.prices[i] += d
	return fmt.Sprintf("%s %.2f %+.2f", symbols[i], t.prices[i], d)
}

// Schedule yields the gaps between generated events: uniformly random in
// [0.5, 1.5] times the mean gap 1/rate, deterministic for a seed. The gaps are
// bounded (never more than 1.5/rate), so "events are rarer than the long-poll
// timeout" has a crisp meaning.
type Schedule struct{ rng *rand.Rand }

// NewSchedule returns a schedule seeded with seed.
func NewSchedule(seed uint64) *Schedule {
	return &Schedule{rng: rand.New(rand.NewPCG(seed, 0x73636865647565))}
}

// Gap returns the wait before the next event at rate events per second.
func (s *Schedule) Gap(rate float64) time.Duration {
	mean := float64(time.Second) / rate
	return time.Duration(mean * (0.5 + s.rng.Float64()))
}

// Generator publishes ticker events into a feed at a rate that can change
// while it runs. Stop releases its goroutine and timer.
type Generator struct {
	feed *Feed
	rate chan float64
	stop chan struct{}
	done chan struct{}
	once sync.Once
	mu   sync.Mutex
	cur  float64
}

// MaxRate is the highest rate a Generator accepts, events per second.
const MaxRate = 50

// NewGenerator starts publishing into feed at rate events per second
// (0 = paused).
func NewGenerator(feed *Feed, rate float64, seed uint64) *Generator {
	g := &Generator{feed: feed, rate: make(chan float64), stop: make(chan struct{}), done: make(chan struct{}), cur: clampRate(rate)}
	go g.run(seed)
	return g
}

func clampRate(r float64) float64 {
	if r != r || r < 0 { // NaN or negative
		return 0
	}
	return min(r, MaxRate)
}

func (g *Generator) run(seed uint64) {
	defer close(g.done)
	sched, tick := NewSchedule(seed), NewTicker(seed)
	rate := g.Rate()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	arm := func() {
		timer.Stop()
		if rate > 0 {
			timer.Reset(sched.Gap(rate))
		}
	}
	arm()
	for {
		select {
		case <-timer.C:
			g.feed.Publish("tick", tick.Next())
			arm()
		case rate = <-g.rate:
			arm()
		case <-g.stop:
			return
		}
	}
}

// Rate is the current rate, events per second.
func (g *Generator) Rate() float64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.cur
}

// SetRate changes the rate (clamped to [0, MaxRate]); the next event comes
// after a gap drawn at the new rate.
func (g *Generator) SetRate(r float64) {
	r = clampRate(r)
	g.mu.Lock()
	g.cur = r
	g.mu.Unlock()
	select {
	case g.rate <- r:
	case <-g.done:
	}
}

// Stop ends the generator and waits for its goroutine.
func (g *Generator) Stop() {
	g.once.Do(func() { close(g.stop) })
	<-g.done
}

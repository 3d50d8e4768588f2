package realtime

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"net"
	"net/http"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/learnws/learnws/wire"
)

// Scenario is one headless comparison. Zero fields take the defaults shown.
type Scenario struct {
	Events          int           // events published (10)
	Rate            float64       // events per second (2); gaps uniform in [0.5, 1.5]/Rate
	Clients         int           // clients per technique (10)
	PollInterval    time.Duration // short-polling interval (250 ms)
	LongPollTimeout time.Duration // long-polling timeout (20 s)
	Seed            uint64        // event gaps, ticker text and poll phases (1)
	Techniques      []Technique   // which, in this order (all five)
	Header          http.Header   // request header fields of every client (BrowserHeaders)
	// Runner runs the clients (RunClients, in this process). learnws
	// compare runs them in a child process so that the server's CPU and
	// memory are measured alone.
	Runner ClientRunner
	// Timeout bounds each technique's run (Events/Rate + 30 s).
	Timeout time.Duration
}

// DefaultScenario is what `learnws compare` runs without flags.
var DefaultScenario = Scenario{Events: 10, Rate: 2, Clients: 10, PollInterval: 250 * time.Millisecond,
	LongPollTimeout: 20 * time.Second, Seed: 1}

func (sc *Scenario) defaults() {
	d := DefaultScenario
	if sc.Events <= 0 {
		sc.Events = d.Events
	}
	if sc.Rate <= 0 {
		sc.Rate = d.Rate
	}
	if sc.Clients <= 0 {
		sc.Clients = d.Clients
	}
	if sc.PollInterval <= 0 {
		sc.PollInterval = d.PollInterval
	}
	if sc.LongPollTimeout <= 0 {
		sc.LongPollTimeout = d.LongPollTimeout
	}
	if sc.Seed == 0 {
		sc.Seed = d.Seed
	}
	if len(sc.Techniques) == 0 {
		sc.Techniques = Techniques
	}
	if sc.Header == nil {
		sc.Header = BrowserHeaders
	}
	if sc.Runner == nil {
		sc.Runner = RunClients
	}
	if sc.Timeout <= 0 {
		sc.Timeout = time.Duration(float64(sc.Events)/sc.Rate*1.5*float64(time.Second)) + 30*time.Second
	}
}

// Result is one technique's measured figures. Wire figures come from the
// server's side of the TCP connections (package wire); latencies from the
// clients' receipt times.
type Result struct {
	Technique      Technique `json:"technique"`
	Events         int       `json:"events"`          // events published
	Clients        int       `json:"clients"`         // clients
	Delivered      int64     `json:"delivered"`       // events received, all clients (= events × clients when all got all)
	Requests       int64     `json:"requests"`        // HTTP requests (WebSocket: the handshake)
	Connections    int64     `json:"connections"`     // TCP connections opened
	BytesUp        int64     `json:"bytes_up"`        // client → server, every byte above TCP
	BytesDown      int64     `json:"bytes_down"`      // server → client
	BytesPerEvent  float64   `json:"bytes_per_event"` // (up + down) / delivered
	EmptyResponses int64     `json:"empty_responses"` // answers without an event
	LatencyP50MS   float64   `json:"latency_p50_ms"`  // event published → received
	LatencyP95MS   float64   `json:"latency_p95_ms"`
	LatencyMaxMS   float64   `json:"latency_max_ms"`
	// Server resources. Goroutines are counted by pprof label, so they are
	// the server's alone even with clients in this process; memory and CPU
	// are the process's, so they include the clients unless those ran in
	// another process (ClientsInProcess false).
	Goroutines       int     `json:"goroutines"`         // server goroutines at the peak
	GoroutinesAfter  int     `json:"goroutines_after"`   // server goroutines once clients left (should be the idle baseline)
	MemoryBytes      int64   `json:"memory_bytes"`       // heap objects + goroutine stacks at the peak, above the idle baseline
	CPUSeconds       float64 `json:"cpu_seconds"`        // user + system, during the run
	ClientsInProcess bool    `json:"clients_in_process"` // memory and CPU include the clients
	ClientCPUSeconds float64 `json:"client_cpu_seconds,omitempty"`
	DurationSeconds  float64 `json:"duration_seconds"`
	ClientErrors     int64   `json:"client_errors"`
	Released         bool    `json:"released"` // every connection, request and stream ended after the clients left
}

// Report is the whole comparison; `learnws compare --json` prints it.
type Report struct {
	Scenario   ScenarioInfo `json:"scenario"`
	Techniques []Result     `json:"techniques"`
}

// ScenarioInfo echoes the scenario in a report.
type ScenarioInfo struct {
	Events            int     `json:"events"`
	Rate              float64 `json:"rate"`
	Clients           int     `json:"clients"`
	PollIntervalMS    float64 `json:"poll_interval_ms"`
	LongPollTimeoutMS float64 `json:"long_poll_timeout_ms"`
	Seed              uint64  `json:"seed"`
	GOMAXPROCS        int     `json:"gomaxprocs"`
}

// Get returns the result of technique t (zero Result if it did not run).
func (r *Report) Get(t Technique) Result {
	for _, x := range r.Techniques {
		if x.Technique == t {
			return x
		}
	}
	return Result{}
}

// Run runs the scenario: for each technique in turn, an in-process server on
// a loopback port, Clients clients, the same Events events at the same
// seeded times.
func Run(ctx context.Context, sc Scenario) (*Report, error) {
	sc.defaults()
	rep := &Report{Scenario: ScenarioInfo{Events: sc.Events, Rate: sc.Rate, Clients: sc.Clients,
		PollIntervalMS: ms(sc.PollInterval), LongPollTimeoutMS: ms(sc.LongPollTimeout), Seed: sc.Seed,
		GOMAXPROCS: runtime.GOMAXPROCS(0)}}
	for _, t := range sc.Techniques {
		res, err := runOne(ctx, sc, t)
		if err != nil {
			return rep, fmt.Errorf("realtime: %s: %w", t, err)
		}
		rep.Techniques = append(rep.Techniques, res)
	}
	return rep, nil
}

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// serverLabel marks the goroutines of the in-process server; goroutines
// inherit labels, so every connection and handler goroutine carries it.
const serverLabel = "learnws-realtime-server"

func runOne(ctx context.Context, sc Scenario, t Technique) (Result, error) {
	ctx, cancel := context.WithTimeout(ctx, sc.Timeout)
	defer cancel()
	res := Result{Technique: t, Events: sc.Events, Clients: sc.Clients}

	feed := NewFeed(sc.Events + 64)
	h := NewHandler(Config{Feed: feed, LongPollTimeout: sc.LongPollTimeout, Heartbeat: time.Minute, StreamMax: time.Hour})
	defer h.Close()
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return res, err
	}
	ln := wire.NewListener(tcp, wire.Options{})
	srv := &http.Server{Handler: h, ConnContext: wire.ConnContext, ReadHeaderTimeout: 10 * time.Second}
	serveLabel := fmt.Sprintf("%s-%s-%d", serverLabel, t, time.Now().UnixNano())
	var served sync.WaitGroup
	served.Add(1)
	go pprof.Do(context.Background(), pprof.Labels(serverLabel, serveLabel), func(context.Context) {
		defer served.Done()
		srv.Serve(ln)
	})
	defer func() {
		srv.Close()
		served.Wait()
	}()

	runtime.GC()
	baseG := countLabeled(serverLabel, serveLabel)
	baseMem := liveMemory()
	cpu0 := cpuSeconds()
	start := time.Now()

	spec := ClientSpec{Technique: t, BaseURL: "http://" + tcp.Addr().String(), Clients: sc.Clients,
		Events: int64(sc.Events), PollInterval: sc.PollInterval, Header: sc.Header, Seed: sc.Seed}
	type out struct {
		r   ClientResult
		err error
	}
	clientsDone := make(chan out, 1)
	go func() {
		r, err := sc.Runner(ctx, spec)
		clientsDone <- out{r, err}
	}()

	// Peak sampling while the clients run.
	var peakG int
	var peakMem int64
	sample := func() {
		peakG = max(peakG, countLabeled(serverLabel, serveLabel))
		peakMem = max(peakMem, liveMemory())
	}

	// Wait until every client is in place: a request or stream open each
	// (short polling: has polled once).
	ready := func() bool {
		st := h.TechniqueStats(t)
		if t == ShortPolling {
			return st.Requests >= int64(sc.Clients)
		}
		return st.Active >= int64(sc.Clients)
	}
	for !ready() {
		select {
		case o := <-clientsDone:
			return res, fmt.Errorf("clients ended before the events started: %v %s", o.err, o.r.FirstError)
		case <-ctx.Done():
			return res, fmt.Errorf("clients not connected in time (%d of %d)", h.TechniqueStats(t).Active, sc.Clients)
		case <-time.After(5 * time.Millisecond):
		}
	}
	sample()

	// Publish the events on the seeded schedule.
	sched, tick := NewSchedule(sc.Seed), NewTicker(sc.Seed)
	sampleT := time.NewTicker(200 * time.Millisecond)
	defer sampleT.Stop()
	next := time.Now().Add(sched.Gap(sc.Rate))
	for i := 0; i < sc.Events; i++ {
		timer := time.NewTimer(time.Until(next))
	wait:
		for {
			select {
			case <-timer.C:
				break wait
			case <-sampleT.C:
				sample()
			case <-ctx.Done():
				timer.Stop()
				return res, ctx.Err()
			}
		}
		feed.Publish("tick", tick.Next())
		next = next.Add(sched.Gap(sc.Rate))
	}
	sample()

	var o out
	select {
	case o = <-clientsDone:
	case <-ctx.Done():
		o = <-clientsDone
	}
	if o.err != nil {
		return res, o.err
	}
	res.DurationSeconds = round3(time.Since(start).Seconds())
	res.CPUSeconds = round3(cpuSeconds() - cpu0)
	res.ClientCPUSeconds = round3(o.r.CPUSeconds)
	res.ClientsInProcess = o.r.CPUSeconds == 0

	// The clients are gone; the server must let go of everything.
	released := func() bool {
		st := h.TechniqueStats(t)
		return st.Active == 0 && ln.Totals().Active() == 0 && countLabeled(serverLabel, serveLabel) <= baseG
	}
	deadline := time.Now().Add(5 * time.Second)
	for !released() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	res.Released = released()
	res.GoroutinesAfter = countLabeled(serverLabel, serveLabel)

	wt := ln.Totals()
	st := h.TechniqueStats(t)
	res.Delivered = o.r.Received
	res.Requests = st.Requests
	res.Connections = wt.Opened
	res.BytesUp, res.BytesDown = wt.BytesIn, wt.BytesOut
	if res.Delivered > 0 {
		res.BytesPerEvent = math.Round(float64(wt.BytesIn+wt.BytesOut)/float64(res.Delivered)*10) / 10
	}
	res.EmptyResponses = st.EmptyResponses
	res.LatencyP50MS = Percentile(o.r.LatenciesMS, 50)
	res.LatencyP95MS = Percentile(o.r.LatenciesMS, 95)
	res.LatencyMaxMS = Percentile(o.r.LatenciesMS, 100)
	res.Goroutines = peakG
	res.MemoryBytes = max(0, peakMem-baseMem)
	res.ClientErrors = o.r.Errors
	if o.r.Complete < sc.Clients {
		return res, fmt.Errorf("%d of %d clients received every event (first error: %s)", o.r.Complete, sc.Clients, o.r.FirstError)
	}
	return res, nil
}

// Percentile is the nearest-rank p-th percentile of xs (0 if empty),
// rounded to 0.1.
func Percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	k := int(math.Ceil(p/100*float64(len(s)))) - 1
	k = min(max(k, 0), len(s)-1)
	return math.Round(s[k]*10) / 10
}

// countLabeled counts the goroutines whose pprof label key has value v.
func countLabeled(key, v string) int {
	var buf bytes.Buffer
	pprof.Lookup("goroutine").WriteTo(&buf, 1)
	want := fmt.Sprintf("%q:%q", key, v)
	n, count := 0, 0
	for line := range strings.Lines(buf.String()) {
		if i := strings.Index(line, " @ "); i > 0 && line[0] >= '0' && line[0] <= '9' {
			fmt.Sscanf(line[:i], "%d", &count)
			continue
		}
		if strings.HasPrefix(line, "# labels: ") && strings.Contains(line, want) {
			n += count
		}
	}
	return n
}

var memSamples = []metrics.Sample{
	{Name: "/memory/classes/heap/objects:bytes"},
	{Name: "/memory/classes/heap/stacks:bytes"},
}

// liveMemory is the bytes of live-or-not-yet-swept heap objects plus
// goroutine stacks.
func liveMemory() int64 {
	s := slices.Clone(memSamples)
	metrics.Read(s)
	var n int64
	for _, x := range s {
		if x.Value.Kind() == metrics.KindUint64 {
			n += int64(x.Value.Uint64())
		}
	}
	return n
}

package realtime

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/learnws/learnws/framing"
	"github.com/learnws/learnws/handshake"
)

// BrowserHeaders are the request header fields a desktop Chromium sends with
// a same-origin fetch() (no cookies): the headless clients send them too, so
// that per-request overhead is a browser's, not Go's much shorter default.
var BrowserHeaders = http.Header{
	"User-Agent":         {"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36"},
	"Accept":             {"*/*"},
	"Accept-Language":    {"en-US,en;q=0.9"},
	"Accept-Encoding":    {"gzip, deflate, br, zstd"},
	"Referer":            {"http://127.0.0.1:8080/en/realtime/race"},
	"Sec-Ch-Ua":          {`"Chromium";v="130", "Not?A_Brand";v="99"`},
	"Sec-Ch-Ua-Mobile":   {"?0"},
	"Sec-Ch-Ua-Platform": {`"Linux"`},
	"Sec-Fetch-Dest":     {"empty"},
	"Sec-Fetch-Mode":     {"cors"},
	"Sec-Fetch-Site":     {"same-origin"},
}

// ClientSpec tells a client runner what to do. It is plain data (JSON), so
// the clients can run in another process.
type ClientSpec struct {
	Technique    Technique     `json:"technique"`
	BaseURL      string        `json:"base_url"` // http://host:port where the Handler is mounted
	Clients      int           `json:"clients"`
	Events       int64         `json:"events"`        // a client is done once it has event IDs 1..Events
	PollInterval time.Duration `json:"poll_interval"` // short polling
	Header       http.Header   `json:"header"`        // sent with every request
	Seed         uint64        `json:"seed"`          // poll phases
}

// ClientResult is what the clients saw.
type ClientResult struct {
	LatenciesMS []float64 `json:"latencies_ms"` // receipt time − event time, one per event per client
	Received    int64     `json:"received"`     // events received, all clients
	Complete    int       `json:"complete"`     // clients that received every event
	Errors      int64     `json:"errors"`
	FirstError  string    `json:"first_error,omitempty"`
	CPUSeconds  float64   `json:"cpu_seconds,omitempty"` // set by an out-of-process runner
}

// ClientRunner runs the clients of a spec until each has every event or ctx
// ends, then closes their connections and returns.
type ClientRunner func(ctx context.Context, spec ClientSpec) (ClientResult, error)

// RunClients is the in-process ClientRunner.
func RunClients(ctx context.Context, spec ClientSpec) (ClientResult, error) {
	if _, ok := ParseTechnique(string(spec.Technique)); !ok {
		return ClientResult{}, fmt.Errorf("realtime: unknown technique %q", spec.Technique)
	}
	var (
		mu  sync.Mutex
		res ClientResult
		wg  sync.WaitGroup
	)
	res.LatenciesMS = make([]float64, 0, int64(spec.Clients)*spec.Events)
	// Short-polling clients spread their polls evenly over the interval
	// (client i starts at (i+u)/Clients of it, u random): like many
	// browsers, but without the few-clients clumping that would make the
	// median latency a matter of luck.
	rng := rand.New(rand.NewPCG(spec.Seed, 0x636c69656e7473))
	u := rng.Float64()
	for i := 0; i < spec.Clients; i++ {
		cl := &client{spec: spec, lat: make([]float64, 0, spec.Events),
			phase: time.Duration((float64(i) + u) / float64(spec.Clients) * float64(spec.PollInterval))}
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := cl.run(ctx)
			mu.Lock()
			defer mu.Unlock()
			res.LatenciesMS = append(res.LatenciesMS, cl.lat...)
			res.Received += int64(len(cl.lat))
			res.Errors += cl.errs.Load()
			if cl.cursor >= spec.Events {
				res.Complete++
			} else if err != nil && res.FirstError == "" {
				res.FirstError = err.Error()
			}
		}()
	}
	wg.Wait()
	return res, nil
}

type client struct {
	spec   ClientSpec
	phase  time.Duration
	cursor int64
	lat    []float64
	errs   atomic.Int64
	http   *http.Client
}

func (cl *client) done() bool { return cl.cursor >= cl.spec.Events }

func (cl *client) got(e Event, at time.Time) {
	if e.ID <= cl.cursor {
		return
	}
	cl.cursor = e.ID
	cl.lat = append(cl.lat, float64(at.Sub(e.Time()).Microseconds())/1000)
}

func (cl *client) run(ctx context.Context) error {
	// One keep-alive connection per client, like a browser tab.
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 1,
		DisableCompression:  true,
	}
	defer tr.CloseIdleConnections()
	cl.http = &http.Client{Transport: tr}
	for !cl.done() && ctx.Err() == nil {
		var err error
		switch cl.spec.Technique {
		case ShortPolling:
			err = cl.shortPoll(ctx)
		case LongPolling:
			err = cl.longPoll(ctx)
		case IframeStreaming:
			err = cl.stream(ctx, "/iframe", parseIframeLine)
		case SSE:
			err = cl.stream(ctx, "/sse", parseSSELine)
		case WebSocket:
			err = cl.websocket(ctx)
		}
		if err != nil && ctx.Err() == nil && !cl.done() {
			cl.errs.Add(1)
			select { // back off a little, like a browser's reconnect
			case <-time.After(50 * time.Millisecond):
			case <-ctx.Done():
			}
		}
		if err != nil && ctx.Err() != nil {
			return err
		}
	}
	return ctx.Err()
}

func (cl *client) get(ctx context.Context, path string) (*http.Response, error) {
	u := cl.spec.BaseURL + path
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	for k, v := range cl.spec.Header {
		req.Header[k] = v
	}
	resp, err := cl.http.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	return resp, nil
}

func (cl *client) poll(ctx context.Context, path string) error {
	resp, err := cl.get(ctx, fmt.Sprintf("%s?after=%d", path, cl.cursor))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	at := time.Now()
	if err != nil {
		return err
	}
	var b batch
	if err := json.Unmarshal(body, &b); err != nil {
		return err
	}
	for _, e := range b.Events {
		cl.got(e, at)
	}
	return nil
}

// shortPoll asks every PollInterval (setInterval-like, at a random phase).
func (cl *client) shortPoll(ctx context.Context) error {
	select {
	case <-time.After(cl.phase):
	case <-ctx.Done():
		return ctx.Err()
	}
	t := time.NewTicker(cl.spec.PollInterval)
	defer t.Stop()
	for !cl.done() {
		if err := cl.poll(ctx, "/poll"); err != nil {
			return err
		}
		select {
		case <-t.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// longPoll asks again as soon as an answer arrives.
func (cl *client) longPoll(ctx context.Context) error {
	for !cl.done() {
		if err := cl.poll(ctx, "/long"); err != nil {
			return err
		}
	}
	return nil
}

// stream reads one long response line by line; parse returns the event a
// line carries, if any.
func (cl *client) stream(ctx context.Context, path string, parse func([]byte) (Event, bool)) error {
	resp, err := cl.get(ctx, fmt.Sprintf("%s?after=%d", path, cl.cursor))
	if err != nil {
		return err
	}
	defer resp.Body.Close() // before EOF: the transport closes the connection
	sc := bufio.NewScanner(resp.Body)
	for !cl.done() && sc.Scan() {
		if e, ok := parse(sc.Bytes()); ok {
			cl.got(e, time.Now())
		}
	}
	if cl.done() {
		return nil
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return io.ErrUnexpectedEOF
}

var (
	iframeOpen  = []byte(`"event":`)
	iframeClose = []byte(`},location.origin)</script>`)
)

// parseIframeLine takes the event out of one forever-frame chunk:
// <script nonce="…">parent.postMessage({"learnws":"iframe","event":{…}},location.origin)</script>
func parseIframeLine(line []byte) (Event, bool) {
	i := bytes.Index(line, iframeOpen)
	j := bytes.LastIndex(line, iframeClose)
	if i < 0 || j < i {
		return Event{}, false
	}
	var e Event
	err := json.Unmarshal(line[i+len(iframeOpen):j], &e)
	return e, err == nil
}

// parseSSELine reads a "data: {…}" line of an event stream (our events are
// one line each).
func parseSSELine(line []byte) (Event, bool) {
	p, ok := bytes.CutPrefix(line, []byte("data:"))
	if !ok {
		return Event{}, false
	}
	var e Event
	err := json.Unmarshal(bytes.TrimPrefix(p, []byte(" ")), &e)
	return e, err == nil
}

func (cl *client) websocket(ctx context.Context) error {
	u := "ws" + strings.TrimPrefix(cl.spec.BaseURL, "http") + fmt.Sprintf("/ws?after=%d", cl.cursor)
	hctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	cc, err := handshake.Dial(hctx, u, &handshake.DialOptions{Header: wsHeader(cl.spec.Header), Origin: cl.spec.BaseURL})
	cancel()
	if err != nil {
		return err
	}
	ws := framing.NewConn(cc.Conn, cc.Reader, framing.RoleClient, nil)
	stop := context.AfterFunc(ctx, func() { cc.Conn.Close() })
	defer stop()
	for !cl.done() {
		_, p, err := ws.ReadMessage()
		if err != nil {
			cc.Conn.Close()
			return err
		}
		var e Event
		if json.Unmarshal(p, &e) == nil {
			cl.got(e, time.Now())
		}
	}
	return ws.Close(framing.CloseNormal, "")
}

// wsHeader keeps the browser fields that a WebSocket handshake carries too.
func wsHeader(h http.Header) http.Header {
	out := http.Header{}
	for k, v := range h {
		switch k {
		case "Accept", "Sec-Fetch-Dest", "Sec-Fetch-Mode", "Sec-Ch-Ua", "Sec-Ch-Ua-Mobile", "Sec-Ch-Ua-Platform", "Referer":
			continue // a browser's handshake does not send these
		}
		out[k] = v
	}
	out.Set("Cache-Control", "no-cache")
	out.Set("Pragma", "no-cache")
	out.Set("Sec-Fetch-Dest", "websocket")
	out.Set("Sec-Fetch-Mode", "websocket")
	return out
}

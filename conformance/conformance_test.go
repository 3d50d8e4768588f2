package conformance_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	learnws "github.com/learnws/learnws"
	"github.com/learnws/learnws/conformance"
	"github.com/learnws/learnws/framing"
)

// startServer runs the real learnws server on a loopback port and returns
// its ws:// base URL. The server is shut down when the test ends.
func startServer(t *testing.T) string {
	t.Helper()
	// Section 9 sends messages of up to 16 MiB: more than the public echo's
	// default limit (1 MiB), which is a setting, not a rule of the protocol.
	s, err := learnws.NewServer(learnws.Config{EchoMaxMessage: 16 << 20})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- s.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("serve: %v", err)
		}
	})
	return "ws://" + ln.Addr().String()
}

// raceEnabled is set by race_test.go when the race detector is on: it
// makes the large cases of section 9 ten times slower.
var raceEnabled bool

// options are the run options of the tests: cases in parallel, to keep the
// whole run short; LEARNWS_CONFORMANCE=6.4,7 runs only some sections. With
// the race detector or -short, messages above 1 MiB are left out, and a
// case may take longer on a loaded machine.
func options() conformance.Options {
	o := conformance.Options{Parallel: 4}
	if raceEnabled || testing.Short() {
		o.MaxSize = 1 << 20
		o.CaseTimeout = 30 * time.Second
	}
	if only := os.Getenv("LEARNWS_CONFORMANCE"); only != "" {
		o.Only = strings.Split(only, ",")
	}
	return o
}

// ours runs the suite once against our own /ws/echo, for TestEcho and
// TestGorillaEcho together (on a server of the first caller's).
var ours struct {
	once sync.Once
	rep  conformance.Report
}

func ourReport(t *testing.T) conformance.Report {
	ours.once.Do(func() {
		base := startServer(t)
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		ours.rep = conformance.Run(ctx, base+"/ws/echo", options())
	})
	return ours.rep
}

// TestEcho requires every case to be OK (or INFORMATIONAL) against our own
// /ws/echo: the server is strict.
func TestEcho(t *testing.T) {
	t.Parallel()
	rep := ourReport(t)
	t.Logf("\n%s", rep)
	logTable(t, rep)
	for _, r := range rep.NotOK() {
		t.Errorf("case %s %s: %s\n\t%s", r.ID, r.Status, r.Description, r.Detail)
	}
	if len(rep.Results) == 0 {
		t.Fatal("no case ran")
	}
}

// gorillaDeviation is how gorilla/websocket (the version go.mod pins, behind
// /ws/gorilla/echo) grades in a case where it is known to differ from our
// server: its status and close code (0: no close frame at all).
type gorillaDeviation struct {
	status conformance.Status
	code   framing.CloseCode
	why    string
}

// gorillaDeviations lists every case in which gorilla's echo and ours are
// known to grade differently, and why. Every other case must come out the
// same for both; a listed case must still come out as listed (if gorilla
// changes, the list must too).
var gorillaDeviations = map[string]gorillaDeviation{
	"6.4.1": {conformance.NonStrict, framing.CloseInvalidPayload, notFailFast},
	"6.4.2": {conformance.NonStrict, framing.CloseInvalidPayload, notFailFast},
	"6.4.3": {conformance.NonStrict, framing.CloseInvalidPayload, notFailFast},
	"6.4.4": {conformance.NonStrict, framing.CloseInvalidPayload, notFailFast},
	"7.3.2": {conformance.NonStrict, framing.CloseNoStatus, "a close frame with a 1-byte payload breaks §5.5.1; gorilla takes it " +
		"for a close without a status code and answers with an empty close frame, where we fail the connection with 1002"},
	"7.5.1": {conformance.OK, framing.CloseProtocolError, "a close reason that is not UTF-8: gorilla fails the connection with 1002 " +
		"(protocol error), we with 1007 (invalid payload data, §7.4.1, as for any text that is not UTF-8, §8.1); the case accepts both"},
	"10.3.1": {conformance.NonStrict, 0, "a 64-bit length with its most significant bit set: gorilla reads it as a negative length, " +
		"returns ErrReadLimit and drops the TCP connection without a close frame; we fail the connection with 1002 (§5.2)"},
}

const notFailFast = "gorilla does not check UTF-8 (echo.go checks each text message once it is whole), so it fails the " +
	"connection only after the rest of the message, not at the first invalid byte as §8.1 and Autobahn's strict grade ask"

// outcome is what two runs are compared on: the grade and the server's
// close code (0 when it sent no close frame).
func outcome(r conformance.Result) (conformance.Status, framing.CloseCode) {
	if r.Close == nil {
		return r.Status, 0
	}
	return r.Status, r.Close.Code
}

// TestGorillaEcho runs the same cases against /ws/gorilla/echo and compares
// each with our /ws/echo: gorilla/websocket is the production reference, and
// where it behaves otherwise, the difference is either listed in
// gorillaDeviations, with the reason, or a failure.
func TestGorillaEcho(t *testing.T) {
	t.Parallel()
	base := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	rep := conformance.Run(ctx, base+"/ws/gorilla/echo", options())
	t.Logf("\n%s", rep)
	logTable(t, rep)
	ourResults := map[string]conformance.Result{}
	for _, r := range ourReport(t).Results {
		ourResults[r.ID] = r
	}
	if len(rep.Results) == 0 || len(rep.Results) != len(ourResults) {
		t.Fatalf("gorilla ran %d cases, ours %d", len(rep.Results), len(ourResults))
	}
	for _, g := range rep.Results {
		o, ok := ourResults[g.ID]
		if !ok {
			t.Errorf("case %s ran against gorilla only", g.ID)
			continue
		}
		gs, gc := outcome(g)
		os, oc := outcome(o)
		if d, known := gorillaDeviations[g.ID]; known {
			if gs != d.status || gc != d.code {
				t.Errorf("case %s: gorilla %v, close %d; listed as %v, close %d (%s)\n\t%s", g.ID, gs, gc, d.status, d.code, d.why, g.Detail)
			}
			continue
		}
		if gs != os || gc != oc {
			t.Errorf("case %s (%s): gorilla %v, close %d; ours %v, close %d\n\tgorilla: %s\n\tours: %s",
				g.ID, g.Description, gs, gc, os, oc, g.Detail, o.Detail)
		}
	}
}

// logTable logs every case's result with go test -v.
func logTable(t *testing.T, rep conformance.Report) {
	if testing.Verbose() {
		var b strings.Builder
		rep.WriteTable(&b)
		t.Logf("\n%s", b.String())
	}
}

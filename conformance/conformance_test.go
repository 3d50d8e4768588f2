package conformance_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	learnws "github.com/learnws/learnws"
	"github.com/learnws/learnws/conformance"
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

// TestEcho requires every case to be OK (or INFORMATIONAL) against our own
// /ws/echo: the server is strict.
func TestEcho(t *testing.T) {
	t.Parallel()
	base := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	rep := conformance.Run(ctx, base+"/ws/echo", options())
	t.Logf("\n%s", rep)
	logTable(t, rep)
	for _, r := range rep.NotOK() {
		t.Errorf("case %s %s: %s\n\t%s", r.ID, r.Status, r.Description, r.Detail)
	}
	if len(rep.Results) == 0 {
		t.Fatal("no case ran")
	}
}

// TestGorillaEcho runs the same cases against /ws/gorilla/echo and only
// logs: gorilla/websocket is the production reference, not the subject, and
// it is NON-STRICT in places (it validates UTF-8 only once a message is
// complete, for example).
func TestGorillaEcho(t *testing.T) {
	t.Parallel()
	base := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	rep := conformance.Run(ctx, base+"/ws/gorilla/echo", options())
	t.Logf("\n%s", rep)
	logTable(t, rep)
	if rep.Count(conformance.Failed) > 0 {
		// Not an error (gorilla is not ours), but worth seeing in a
		// plain go test run.
		t.Logf("gorilla: %d FAILED cases", rep.Count(conformance.Failed))
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

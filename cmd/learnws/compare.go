package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/learnws/learnws/realtime"
)

// runCompare is "learnws compare": the five real-time techniques measured
// headless — an in-process server, Go clients, the same seeded events — and
// printed as one table (or --json, as DESIGN.md names the fields).
//
// The clients run in a child process (this same binary, "compare
// --clients-driver") so that the CPU and memory columns are the server's
// alone; --in-process keeps them in this process (then CPU and memory
// include the clients).
func runCompare(args []string, stdout, stderr io.Writer) int {
	e := newEnv("compare", nil, stdout, stderr)
	fs := flag.NewFlagSet("compare", flag.ContinueOnError)
	d := realtime.DefaultScenario
	asJSON := fs.Bool("json", false, `print {"scenario":{…},"techniques":[{technique, events, requests, connections, bytes_up, bytes_down, bytes_per_event, empty_responses, latency_p50_ms, latency_p95_ms, …}]}`)
	events := fs.Int("events", d.Events, "events to publish")
	clients := fs.Int("clients", d.Clients, "clients per technique")
	rate := fs.Float64("rate", d.Rate, "events per second (gaps random in [0.5, 1.5]/rate, seeded)")
	interval := fs.Duration("interval", d.PollInterval, "short-polling interval")
	longTimeout := fs.Duration("long-timeout", d.LongPollTimeout, "long-polling timeout")
	seed := fs.Uint64("seed", d.Seed, "seed of the event gaps, texts and poll phases")
	only := fs.String("techniques", "", "comma-separated subset: short-polling,long-polling,iframe-streaming,sse,websocket")
	inProcess := fs.Bool("in-process", false, "run the clients in this process (CPU and memory then include them)")
	driver := fs.Bool("clients-driver", false, "internal: run clients for a parent learnws compare (spec on stdin)")
	pos, err := parseFlags(e, fs, args, "compare [--json] [--events N] [--clients C] [--rate R] [--interval D] [--long-timeout D] [--techniques LIST] [--in-process]")
	if err != nil {
		return e.flagExit(err)
	}
	if len(pos) > 0 {
		return e.failf("unexpected argument %q: compare takes only flags (see learnws compare --help)", pos[0])
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *driver {
		return clientsDriver(ctx, e)
	}
	sc := realtime.Scenario{Events: *events, Clients: *clients, Rate: *rate, PollInterval: *interval,
		LongPollTimeout: *longTimeout, Seed: *seed}
	switch {
	case *events < 1 || *events > 100000:
		return e.failf("--events must be 1…100000")
	case *clients < 1 || *clients > 5000:
		return e.failf("--clients must be 1…5000")
	case *rate <= 0 || *rate > 1000:
		return e.failf("--rate must be above 0 and at most 1000 events per second")
	case *interval < time.Millisecond:
		return e.failf("--interval must be at least 1ms")
	}
	if *only != "" {
		for _, name := range strings.Split(*only, ",") {
			t, ok := realtime.ParseTechnique(strings.TrimSpace(name))
			if !ok {
				return e.failf("unknown technique %q (short-polling, long-polling, iframe-streaming, sse, websocket)", name)
			}
			sc.Techniques = append(sc.Techniques, t)
		}
	}
	// Every client holds a socket, and so does the server for it; in-process
	// that is two descriptors per client. Go raises the soft RLIMIT_NOFILE to
	// the hard limit at start-up; say so plainly if that is not enough.
	if need := uint64(2**clients + 64); need > fileLimit() {
		return e.failf("%d clients need about %d file descriptors; the limit is %d (raise it with ulimit -n)", *clients, need, fileLimit())
	}
	if !*inProcess {
		if exe, ok := driverExecutable(); ok {
			sc.Runner = childRunner(exe)
		}
	}
	if !*asJSON {
		fmt.Fprintf(stderr, "learnws compare: %d events at %g/s, %d clients per technique, short polls every %v …\n",
			sc.Events, sc.Rate, sc.Clients, sc.PollInterval)
	}
	rep, err := realtime.Run(ctx, sc)
	if err != nil {
		return e.fail(err)
	}
	if *asJSON {
		if err := e.writeJSON(rep); err != nil {
			return e.fail(err)
		}
		return 0
	}
	printComparison(e, rep)
	return 0
}

func printComparison(e *env, rep *realtime.Report) {
	s := rep.Scenario
	fmt.Fprintf(e.stdout, "%s %d events at %g/s (seed %d), %d clients each, short polls every %g ms, long-poll timeout %g ms, GOMAXPROCS %d\n\n",
		e.paint(sBold, "Scenario:"), s.Events, s.Rate, s.Seed, s.Clients, s.PollIntervalMS, s.LongPollTimeoutMS, s.GOMAXPROCS)
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "technique\trequests\tconns\tbytes up\tbytes down\tB/event\tempty\tp50 ms\tp95 ms\tgoroutines\tmemory\tCPU s\t")
	for _, r := range rep.Techniques {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%.0f\t%d\t%.1f\t%.1f\t%d\t%s\t%.3f\t\n", r.Technique, r.Requests, r.Connections,
			r.BytesUp, r.BytesDown, r.BytesPerEvent, r.EmptyResponses, r.LatencyP50MS, r.LatencyP95MS,
			r.Goroutines, humanBytes(r.MemoryBytes), r.CPUSeconds)
	}
	tw.Flush()
	fmt.Fprintln(e.stdout)
	for _, r := range rep.Techniques {
		fmt.Fprintf(e.stdout, "%s %s\n", e.paint(sBold, fmt.Sprintf("%-16s", r.Technique)), realtime.Explain(r, s))
	}
	where := "a child process: memory and CPU are the server's alone"
	if len(rep.Techniques) > 0 && rep.Techniques[0].ClientsInProcess {
		where = "this process: memory and CPU include the clients"
	}
	fmt.Fprintf(e.stdout, "\nBytes are counted on the server's TCP connections (headers and framing included); clients send a browser's request headers.\n"+
		"Latency is event published → received by the client; goroutines are the server's at the peak; clients ran in %s.\n", where)
}

func humanBytes(n int64) string {
	switch {
	case n >= 10<<20:
		return fmt.Sprintf("%.0f MiB", float64(n)/(1<<20))
	case n >= 1000<<10:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.0f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

func fileLimit() uint64 {
	var rl syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl) != nil {
		return 1 << 20
	}
	return rl.Cur
}

// driverExecutable is this binary, unless it is a test binary (which would
// not understand "compare --clients-driver").
func driverExecutable() (string, bool) {
	exe, err := os.Executable()
	if err != nil || strings.HasSuffix(filepath.Base(exe), ".test") {
		return "", false
	}
	return exe, true
}

// childRunner runs the clients as "exe compare --clients-driver".
func childRunner(exe string) realtime.ClientRunner {
	return func(ctx context.Context, spec realtime.ClientSpec) (realtime.ClientResult, error) {
		in, _ := json.Marshal(spec)
		cmd := exec.CommandContext(ctx, exe, "compare", "--clients-driver")
		cmd.Stdin = bytes.NewReader(in)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		cmd.WaitDelay = 5 * time.Second
		if err := cmd.Run(); err != nil {
			return realtime.ClientResult{}, fmt.Errorf("clients process: %v: %s", err, strings.TrimSpace(errb.String()))
		}
		var res realtime.ClientResult
		if err := json.Unmarshal(out.Bytes(), &res); err != nil {
			return res, fmt.Errorf("clients process: %w", err)
		}
		return res, nil
	}
}

// clientsDriver is the child side: spec on stdin, result on stdout.
func clientsDriver(ctx context.Context, e *env) int {
	var spec realtime.ClientSpec
	if err := json.NewDecoder(os.Stdin).Decode(&spec); err != nil {
		return e.fail(err)
	}
	res, err := realtime.RunClients(ctx, spec)
	if err != nil {
		return e.fail(err)
	}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		res.CPUSeconds = float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
	}
	if err := json.NewEncoder(e.stdout).Encode(res); err != nil {
		return e.fail(err)
	}
	return 0
}

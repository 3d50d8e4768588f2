package main

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// A small scenario: 3 events at 10 per second, 2 clients per technique, short polls
// every 50 ms; the five techniques take about two seconds together. The clients run
// in this process (a test binary cannot be the clients' child process anyway).
var smallCompare = []string{"--events", "3", "--clients", "2", "--rate", "10", "--interval", "50ms", "--in-process"}

var fiveTechniques = []string{"short-polling", "long-polling", "iframe-streaming", "sse", "websocket"}

// The --json output is exactly the shape DESIGN.md names, with figures that add up.
func TestCompareJSON(t *testing.T) {
	t.Parallel()
	code, stdout, stderr := runCmd(t, "", append([]string{"compare", "--json"}, smallCompare...)...)
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if stderr != "" {
		t.Errorf("--json wrote to stderr: %q", stderr)
	}
	// One JSON document and nothing else on stdout.
	dec := json.NewDecoder(strings.NewReader(stdout))
	var doc map[string]json.RawMessage
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, stdout)
	}
	if dec.More() {
		t.Errorf("stdout has more than one JSON value")
	}
	if _, ok := doc["techniques"]; !ok {
		t.Fatalf(`no "techniques" in %s`, stdout)
	}
	var sc map[string]any
	if err := json.Unmarshal(doc["scenario"], &sc); err != nil {
		t.Fatalf(`"scenario": %v`, err)
	}
	if sc["events"] != 3.0 || sc["clients"] != 2.0 || sc["rate"] != 10.0 || sc["poll_interval_ms"] != 50.0 {
		t.Errorf("scenario echoes %v, want the flags (3 events, 2 clients, rate 10, 50 ms)", sc)
	}
	var techs []map[string]any
	if err := json.Unmarshal(doc["techniques"], &techs); err != nil {
		t.Fatalf(`"techniques" is not a list of objects: %v`, err)
	}
	var names []string
	for _, r := range techs {
		name, _ := r["technique"].(string)
		names = append(names, name)
	}
	if !slices.Equal(names, fiveTechniques) {
		t.Fatalf("techniques %v, want %v", names, fiveTechniques)
	}
	contract := []string{"events", "requests", "connections", "bytes_up", "bytes_down", "bytes_per_event",
		"empty_responses", "latency_p50_ms", "latency_p95_ms"}
	for _, r := range techs {
		name := r["technique"].(string)
		num := map[string]float64{}
		for _, k := range append(contract, "delivered", "clients") {
			v, ok := r[k].(float64)
			if !ok {
				t.Errorf("%s: %q is %#v, want a number", name, k, r[k])
			}
			num[k] = v
		}
		if num["events"] != 3 || num["clients"] != 2 {
			t.Errorf("%s: events %v, clients %v; want 3 and 2", name, num["events"], num["clients"])
		}
		if num["delivered"] != 6 {
			t.Errorf("%s: delivered %v, want 3 events × 2 clients = 6", name, num["delivered"])
		}
		if num["bytes_up"] <= 0 || num["bytes_down"] <= 0 {
			t.Errorf("%s: bytes up %v, down %v; want both counted", name, num["bytes_up"], num["bytes_down"])
		}
		if want := math.Round((num["bytes_up"]+num["bytes_down"])/num["delivered"]*10) / 10; num["bytes_per_event"] != want {
			t.Errorf("%s: bytes_per_event %v, but (up + down) / delivered = %v", name, num["bytes_per_event"], want)
		}
		if num["requests"] < num["clients"] || num["connections"] < 1 || num["connections"] > num["requests"] {
			t.Errorf("%s: %v requests on %v connections for %v clients", name, num["requests"], num["connections"], num["clients"])
		}
		if num["latency_p50_ms"] > num["latency_p95_ms"] {
			t.Errorf("%s: p50 %v ms above p95 %v ms", name, num["latency_p50_ms"], num["latency_p95_ms"])
		}
		switch name {
		case "iframe-streaming", "sse", "websocket":
			// One request (or handshake) per client, nothing empty.
			if num["requests"] != 2 || num["empty_responses"] != 0 {
				t.Errorf("%s: %v requests, %v empty; want 2 and 0", name, num["requests"], num["empty_responses"])
			}
		case "long-polling":
			// Events 50–150 ms apart, far below the 20 s timeout: one answer per event.
			if num["requests"] != 6 || num["empty_responses"] != 0 {
				t.Errorf("%s: %v requests, %v empty; want 6 and 0", name, num["requests"], num["empty_responses"])
			}
		case "short-polling":
			if num["empty_responses"] == 0 || num["requests"] <= num["delivered"] {
				t.Errorf("%s: %v requests, %v empty for %v deliveries; polls every 50 ms for events 50–150 ms apart must often come back empty",
					name, num["requests"], num["empty_responses"], num["delivered"])
			}
		}
		if rel, _ := r["released"].(bool); !rel {
			t.Errorf("%s: the server did not release everything after the clients left", name)
		}
	}
}

// The readable table: a header, then one row per technique whose figures are in the
// right columns, and a sentence per technique.
func TestCompareTable(t *testing.T) {
	t.Parallel()
	code, stdout, stderr := runCmd(t, "", append([]string{"compare"}, smallCompare...)...)
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if !strings.HasPrefix(stderr, "learnws compare: 3 events at 10/s, 2 clients per technique") {
		t.Errorf("stderr %q: want the one-line announcement of the scenario", stderr)
	}
	lines := strings.Split(stdout, "\n")
	if !strings.HasPrefix(lines[0], "Scenario: 3 events at 10/s") {
		t.Errorf("first line %q: want the scenario", lines[0])
	}
	header := -1
	for i, l := range lines {
		if f := strings.Fields(l); len(f) > 0 && f[0] == "technique" {
			header = i
			break
		}
	}
	if header < 0 {
		t.Fatalf("no header row in\n%s", stdout)
	}
	for _, col := range []string{"requests", "conns", "bytes up", "bytes down", "B/event", "empty", "p50 ms", "p95 ms", "goroutines", "memory", "CPU s"} {
		if !strings.Contains(lines[header], col) {
			t.Errorf("header %q lacks %q", lines[header], col)
		}
	}
	for i, name := range fiveTechniques {
		if header+1+i >= len(lines) {
			t.Fatalf("no row for %s in\n%s", name, stdout)
		}
		f := strings.Fields(lines[header+1+i])
		if len(f) < 12 || f[0] != name {
			t.Errorf("row %d is %q, want %s and its figures", i+1, lines[header+1+i], name)
			continue
		}
		n := func(j int) float64 {
			v, err := strconv.ParseFloat(f[j], 64)
			if err != nil {
				t.Errorf("%s: column %d is %q, not a number", name, j, f[j])
			}
			return v
		}
		requests, conns, up, down := n(1), n(2), n(3), n(4)
		if up <= 0 || down <= 0 || conns < 1 || requests < 2 {
			t.Errorf("%s: requests %v, conns %v, bytes up %v, down %v", name, requests, conns, up, down)
		}
		if name == "sse" || name == "websocket" || name == "iframe-streaming" {
			if requests != 2 || conns != 2 {
				t.Errorf("%s row: %v requests on %v connections; want one each for the 2 clients", name, requests, conns)
			}
		}
		if !strings.Contains(stdout, "\n"+name+" ") {
			t.Errorf("no sentence explaining %s", name)
		}
	}
}

// --techniques picks a subset, in the order given by the site (not the flag).
func TestCompareSubset(t *testing.T) {
	t.Parallel()
	code, stdout, stderr := runCmd(t, "", append([]string{"compare", "--json", "--techniques", "websocket, sse"}, smallCompare...)...)
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	var rep struct {
		Techniques []struct {
			Technique string `json:"technique"`
		} `json:"techniques"`
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rep.Techniques {
		got = append(got, r.Technique)
	}
	if !slices.Equal(got, []string{"websocket", "sse"}) {
		t.Errorf("--techniques websocket,sse ran %v", got)
	}
}

// Bad flags: exit 2 with one line on stderr, nothing measured.
func TestCompareBadFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"--events", "0"}, "--events must be 1…100000"},
		{[]string{"--events", "ten"}, `invalid value "ten" for flag -events`},
		{[]string{"--clients", "0"}, "--clients must be 1…5000"},
		{[]string{"--clients", "100000"}, "--clients must be 1…5000"},
		{[]string{"--rate", "0"}, "--rate must be above 0"},
		{[]string{"--rate", "-2"}, "--rate must be above 0"},
		{[]string{"--interval", "0s"}, "--interval must be at least 1ms"},
		{[]string{"--interval", "250"}, "invalid value"},
		{[]string{"--techniques", "polling"}, `unknown technique "polling"`},
		{[]string{"extra"}, `unexpected argument "extra"`},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, stdout, stderr := runCmd(t, "", append([]string{"compare"}, tc.args...)...)
			wantOneLineError(t, code, stderr, "compare", tc.want)
			if stdout != "" {
				t.Errorf("stdout %q, want nothing", stdout)
			}
		})
	}
}

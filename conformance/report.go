package conformance

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/learnws/learnws/framing"
)

// Status is a case's grade, as Autobahn grades them.
type Status int

// The grades, from best to worst. Informational sits between OK and
// NON-STRICT: it is never a failure.
const (
	OK Status = iota
	Informational
	NonStrict
	Failed
)

// String returns "OK", "INFORMATIONAL", "NON-STRICT" or "FAILED".
func (s Status) String() string {
	switch s {
	case OK:
		return "OK"
	case Informational:
		return "INFORMATIONAL"
	case NonStrict:
		return "NON-STRICT"
	case Failed:
		return "FAILED"
	}
	return fmt.Sprintf("Status(%d)", int(s))
}

// CloseFrame is the close frame the server sent.
type CloseFrame struct {
	Code   framing.CloseCode // CloseNoStatus (1005) when Empty
	Reason string
	Empty  bool // the frame had no body (§5.5.1 allows it)
	// First is true when the server sent it before the client sent one:
	// the server started the closing handshake, or failed the connection.
	First bool
}

// String returns the code and reason, for example `1002 "RSV1 is set"`, or
// "(no status code)".
func (c *CloseFrame) String() string {
	if c.Empty {
		return "(no status code)"
	}
	if c.Reason == "" {
		return fmt.Sprint(uint16(c.Code))
	}
	return fmt.Sprintf("%d %q", uint16(c.Code), c.Reason)
}

// Result is the outcome of one case.
type Result struct {
	ID          string
	Description string
	Status      Status
	// Detail says what happened; for a grade other than OK, why.
	Detail string
	// Events are the messages and pongs received, payloads cut to 64 bytes
	// (Event.Len keeps the length).
	Events []Event
	// Close is the server's close frame, nil if none came.
	Close *CloseFrame
	// FailedFast is true when the server failed the connection at a
	// fail-fast checkpoint, before the invalid message was finished.
	FailedFast bool
	Duration   time.Duration
}

// Section returns the section of the case: "6" for "6.4.1".
func (r Result) Section() string {
	s, _, _ := strings.Cut(r.ID, ".")
	return s
}

// Report is the outcome of a run.
type Report struct {
	URL      string
	Start    time.Time
	Duration time.Duration
	Results  []Result
	// LeftOut is the number of selected cases left out by Options.MaxSize.
	LeftOut int
}

// Count returns how many cases ended with status s.
func (r Report) Count(s Status) int {
	n := 0
	for _, res := range r.Results {
		if res.Status == s {
			n++
		}
	}
	return n
}

// NotOK returns the results whose status is neither OK nor INFORMATIONAL.
func (r Report) NotOK() []Result {
	var out []Result
	for _, res := range r.Results {
		if res.Status != OK && res.Status != Informational {
			out = append(out, res)
		}
	}
	return out
}

// SectionCount is the number of cases of one section with each status.
type SectionCount struct {
	Section string
	Cases   int
	By      [Failed + 1]int // indexed by Status
}

// Sections counts the results per section, in the order of the report.
func (r Report) Sections() []SectionCount {
	var out []SectionCount
	for _, res := range r.Results {
		sec := res.Section()
		if len(out) == 0 || out[len(out)-1].Section != sec {
			out = append(out, SectionCount{Section: sec})
		}
		sc := &out[len(out)-1]
		sc.Cases++
		sc.By[res.Status]++
	}
	return out
}

// String summarises the report: one line per section, then every case that
// is not OK or INFORMATIONAL, with the reason.
func (r Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d cases in %s: %d OK, %d NON-STRICT, %d FAILED, %d INFORMATIONAL\n",
		r.URL, len(r.Results), r.Duration.Round(time.Millisecond),
		r.Count(OK), r.Count(NonStrict), r.Count(Failed), r.Count(Informational))
	if r.LeftOut > 0 {
		fmt.Fprintf(&b, "(%d large cases left out by Options.MaxSize)\n", r.LeftOut)
	}
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "section\tcases\tOK\tNON-STRICT\tFAILED\tINFORMATIONAL")
	for _, sc := range r.Sections() {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\n", sc.Section, sc.Cases,
			sc.By[OK], sc.By[NonStrict], sc.By[Failed], sc.By[Informational])
	}
	tw.Flush()
	for _, res := range r.NotOK() {
		fmt.Fprintf(&b, "%-8s %-10s %s\n         %s\n", res.ID, res.Status, res.Description, res.Detail)
	}
	return b.String()
}

// WriteTable writes one line per case: ID, status, duration, detail.
func (r Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "case\tstatus\ttime\tdetail")
	for _, res := range r.Results {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", res.ID, res.Status, res.Duration.Round(100*time.Microsecond), res.Detail)
	}
	return tw.Flush()
}

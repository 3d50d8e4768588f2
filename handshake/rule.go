package handshake

import (
	"net/http"
	"strings"
)

// Rule is one check of the opening handshake as RFC 6455 states it. There
// are two ordered tables of them, each rule written once:
//
//   - [ServerRules]: the server's checks of the client's request (§4.2.1),
//     applied in this order by [Policy.Respond] (the first one broken is the
//     answer), all of them by [Policy.Problems] and by [AnnotateRequest],
//     which puts each problem on the line it concerns;
//   - [ClientRules]: the client's checks of the server's response (§4.1),
//     applied in this order by [CheckResponse], all of them by
//     [ResponseProblems] and by [AnnotateResponse].
//
// An [*Error] names the rule it breaks (Error.Rule is the rule's Name).
type Rule struct {
	Name    string // stable machine name, e.g. "sec-websocket-key"
	Section string // the section of RFC 6455 that states it, e.g. "4.2.1"
	Status  int    // the HTTP status a server refuses with; 0 for the client's rules
	Header  string // the header field it is about; "" for the request or status line
	// once: the rule is that Header appears at most once, so its problem
	// belongs on the repeated lines.
	once bool
}

// serverRule is a row of the server's table: the rule, the header fields
// its refusal carries, and the check, which returns what is wrong ("" if
// nothing).
type serverRule struct {
	Rule
	extra func() http.Header
	check func(p *Policy, r *http.Request) string
}

// clientRule is a row of the client's table.
type clientRule struct {
	Rule
	check func(c *responseCheck) string
}

// responseCheck is what the client's rules judge: the response, and the
// request it answers, when that is known.
type responseCheck struct {
	resp    *http.Response
	key     string   // the Sec-WebSocket-Key sent
	offered []string // the subprotocols offered
	// known is false for a response judged alone (AnnotateResponse): the
	// rules that compare it with the request check only what they can.
	known bool
}

// ServerRules returns the server's rules, in the order Policy.Respond
// applies them.
func ServerRules() []Rule {
	rs := make([]Rule, len(serverRules))
	for i, r := range serverRules {
		rs[i] = r.Rule
	}
	return rs
}

// ClientRules returns the client's rules, in the order CheckResponse
// applies them.
func ClientRules() []Rule {
	rs := make([]Rule, len(clientRules))
	for i, r := range clientRules {
		rs[i] = r.Rule
	}
	return rs
}

// refusal is the *Error of a broken server rule.
func (r serverRule) refusal(reason string) *Error {
	e := &Error{Status: r.Status, Header: r.Header, Section: r.Section, Rule: r.Name, Reason: reason}
	if r.extra != nil {
		e.Extra = r.extra()
	}
	return e
}

// failure is the *Error of a broken client rule: nothing to answer (Status
// 0), the client must fail the connection.
func (r clientRule) failure(reason string) *Error {
	return &Error{Header: r.Header, Section: r.Section, Rule: r.Name, Reason: reason}
}

// Problems returns every server rule that r breaks, in table order, each as
// the *Error that [Policy.Respond] would refuse it with if it were the
// first. It returns nil for a request Respond accepts.
func (p *Policy) Problems(r *http.Request) []*Error {
	if p == nil {
		p = &Policy{}
	}
	var errs []*Error
	for _, rule := range serverRules {
		if reason := rule.check(p, r); reason != "" {
			errs = append(errs, rule.refusal(reason))
		}
	}
	return errs
}

// ResponseProblems returns every client rule that resp breaks, for a
// request that sent key and offered the subprotocols offered, in table
// order, each as the *Error [CheckResponse] would return if it were the
// first. A status other than 101 is the only problem reported: such a
// response is an HTTP answer, not a handshake to check further (§4.1:
// "If the status code received from the server is not 101, the client
// handles the response per HTTP [RFC2616] procedures").
func ResponseProblems(resp *http.Response, key string, offered []string) []*Error {
	return responseProblems(&responseCheck{resp: resp, key: key, offered: offered, known: true}, false)
}

// responseProblems applies the client's rules to c: all of them, or only
// up to the first broken one.
func responseProblems(c *responseCheck, first bool) []*Error {
	var errs []*Error
	for _, rule := range clientRules {
		if reason := rule.check(c); reason != "" {
			errs = append(errs, rule.failure(reason))
			if first || rule.Name == ruleStatus101 {
				break
			}
		}
	}
	return errs
}

// firstValue returns the first value of header field name, trimmed, and
// whether there is one. A rule about the value judges the first; a rule of
// its own (a "-once" rule) says when there are more.
func firstValue(h http.Header, name string) (v string, ok bool) {
	vs := h.Values(name)
	if len(vs) == 0 {
		return "", false
	}
	return strings.Trim(vs[0], " \t"), true
}

package lab

import (
	"bufio"
	"bytes"
	"net/http"
	"strings"

	"github.com/learnws/learnws/handshake"
)

// CheckRequest is what the handshake checker is given: an upgrade request
// and its response, pasted from an intercepting proxy.
type CheckRequest struct {
	Request  string `json:"request"`
	Response string `json:"response"`
}

// Finding is one conclusion of the checker. Level is "ok", "warn" or "bad";
// Key names the finding for translation; Args fill the translated text;
// Text is the English sentence.
type Finding struct {
	Topic string   `json:"topic"` // "accept", "subprotocol", "origin", "request", "response"
	Level string   `json:"level"`
	Key   string   `json:"key"`
	Args  []string `json:"args,omitempty"`
	Text  string   `json:"text"`
}

// CheckJSON is the checker's answer.
type CheckJSON struct {
	Request    *HandshakeJSON  `json:"request"`
	Response   *HandshakeJSON  `json:"response"`
	Derivation *DerivationJSON `json:"derivation,omitempty"`
	Findings   []Finding       `json:"findings"`
}

// normalizeHead turns pasted text into an HTTP head: line endings become
// CR LF (proxies and clipboards often turn them into LF), leading blank
// lines go, and the head gets its final blank line.
func normalizeHead(s string) []byte {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.TrimLeft(s, "\n \t")
	s = strings.TrimRight(s, "\n \t")
	if s == "" {
		return nil
	}
	return []byte(strings.ReplaceAll(s, "\n", "\r\n") + "\r\n\r\n")
}

// Check examines a pasted handshake.
func Check(in CheckRequest) *CheckJSON {
	out := &CheckJSON{Findings: []Finding{}}
	add := func(topic, level, key, text string, args ...string) {
		out.Findings = append(out.Findings, Finding{Topic: topic, Level: level, Key: key, Args: args, Text: text})
	}
	reqRaw := normalizeHead(in.Request)
	resRaw := normalizeHead(in.Response)
	if reqRaw == nil {
		add("request", "bad", "check.no_request", "Paste the upgrade request (the GET … lines).")
		return out
	}
	out.Request = handshakeJSON(reqRaw, true, true)
	out.Derivation = out.Request.Derivation
	req, err := handshake.ParseRequest(reqRaw)
	if err != nil {
		add("request", "bad", "check.request_unreadable", "The request is not a readable HTTP request: "+err.Error(), err.Error())
		return out
	}
	hreq, herr := req.HTTPRequest()
	if herr != nil {
		hreq = nil
	} else {
		if _, err := (&handshake.Policy{AnyOrigin: true}).Respond(hreq); err != nil {
			add("request", "bad", "check.request_refused", "A server following RFC 6455 would refuse this request: "+err.Error(), err.Error())
		} else {
			add("request", "ok", "check.request_ok", "The request is a valid opening handshake.")
		}
	}
	key := req.Header.Get("Sec-WebSocket-Key")
	offered := splitList(req.Header.Values("Sec-WebSocket-Protocol"))

	var resp *http.Response
	if resRaw != nil {
		out.Response = handshakeJSON(resRaw, true, false)
		resp, err = http.ReadResponse(bufio.NewReader(bytes.NewReader(resRaw)), nil)
		if err != nil {
			add("response", "bad", "check.response_unreadable", "The response is not a readable HTTP response: "+err.Error(), err.Error())
			resp = nil
		}
	} else {
		add("response", "warn", "check.no_response", "Paste the response too, to check the Accept value and the subprotocol.")
	}

	// Accept and subprotocol: the client's rules (handshake.ClientRules), with
	// this request's key and offer.
	broken := map[string]*handshake.Error{}
	if resp != nil && resp.StatusCode == http.StatusSwitchingProtocols {
		for _, e := range handshake.ResponseProblems(resp, key, offered) {
			broken[e.Rule] = e
		}
	}
	firstBroken := func(rules ...string) *handshake.Error {
		for _, r := range rules {
			if e := broken[r]; e != nil {
				return e
			}
		}
		return nil
	}
	if resp != nil {
		if resp.StatusCode != http.StatusSwitchingProtocols {
			add("response", "warn", "check.not_101", "The server did not switch protocols: status "+resp.Status+".", resp.Status)
		}
		seen := strings.Trim(resp.Header.Get("Sec-WebSocket-Accept"), " \t")
		e := firstBroken("sec-websocket-accept-once", "sec-websocket-accept")
		switch {
		case resp.StatusCode != http.StatusSwitchingProtocols:
		case key == "":
			add("accept", "bad", "check.no_key", "The request has no Sec-WebSocket-Key, so no Accept can be right.")
		case e == nil:
			add("accept", "ok", "check.accept_ok", "Sec-WebSocket-Accept matches the key: base64(SHA-1(key + GUID)) = "+handshake.Accept(key)+".", handshake.Accept(key))
		case len(resp.Header.Values("Sec-WebSocket-Accept")) == 0:
			add("accept", "bad", "check.no_accept", "The response has no Sec-WebSocket-Accept: a browser fails the connection.")
		default:
			mistake := ""
			for _, m := range handshake.CommonMistakes(key) {
				if m.Accept == seen {
					mistake = m.Name
				}
			}
			add("accept", "bad", "check.accept_bad", e.Reason, seen, handshake.Accept(key), mistake)
		}
	}

	// Subprotocol.
	if resp != nil && resp.StatusCode == http.StatusSwitchingProtocols {
		answer := resp.Header.Values("Sec-WebSocket-Protocol")
		chosen := strings.Trim(strings.Join(answer, ", "), " \t")
		e := firstBroken("sec-websocket-protocol-once", "sec-websocket-protocol", "sec-websocket-protocol-empty")
		switch {
		case e == nil && len(answer) == 0 && len(offered) == 0:
			add("subprotocol", "ok", "check.proto_none", "No subprotocol offered, none answered: correct.")
		case e == nil && len(answer) == 0:
			add("subprotocol", "warn", "check.proto_declined", "The client offered "+strings.Join(offered, ", ")+" and the server chose none: legal (the client may then give up).", strings.Join(offered, ", "))
		case e == nil:
			add("subprotocol", "ok", "check.proto_ok", "The server chose "+chosen+", one of those offered: correct.", chosen)
		case len(offered) == 0:
			add("subprotocol", "bad", "check.proto_unoffered", "The server answered a subprotocol although none was offered: the client MUST fail the connection (§4.1).", chosen)
		case e.Rule == "sec-websocket-protocol-once" || strings.Contains(chosen, ","):
			add("subprotocol", "bad", "check.proto_many", "The server answered several subprotocols ("+chosen+"); it must choose exactly one.", chosen)
		default:
			if chosen == "" {
				chosen = `""` // the empty value: not a subprotocol at all
			}
			add("subprotocol", "bad", "check.proto_foreign", "The server chose "+chosen+", which the client did not offer ("+strings.Join(offered, ", ")+"): the client MUST fail the connection.", chosen, strings.Join(offered, ", "))
		}
	}

	// Origin and cross-site WebSocket hijacking: is the Origin the server's
	// own site, by the server's own rule (the same-host default of
	// handshake.Policy, default ports included)?
	origin := req.Header.Get("Origin")
	host := req.Header.Get("Host")
	cookie := req.Header.Get("Cookie") != "" || req.Header.Get("Authorization") != ""
	accepted := resp != nil && resp.StatusCode == http.StatusSwitchingProtocols
	crossSite := false
	if hreq != nil {
		for _, e := range (&handshake.Policy{}).Problems(hreq) {
			crossSite = crossSite || e.Rule == "origin"
		}
	}
	switch {
	case origin == "":
		add("origin", "warn", "check.origin_none", "No Origin header: a non-browser client sent this. Browsers always send Origin, so a server can only rely on it against other web pages.")
	case hreq == nil:
	case !crossSite:
		if accepted {
			add("origin", "ok", "check.origin_same", "Origin "+origin+" is the server's own site. To test for cross-site WebSocket hijacking, replay this request with Origin: https://attacker.example and see whether the server still answers 101.", origin)
		}
	default:
		if accepted && cookie {
			add("origin", "bad", "check.origin_cswsh", "The server accepted Origin "+origin+" for host "+host+" and the request carries cookies or credentials: any web page can open this socket as the logged-in user (cross-site WebSocket hijacking). The server must check Origin against an allow-list.", origin, host)
		} else if accepted {
			add("origin", "warn", "check.origin_cross", "The server accepted a cross-site Origin ("+origin+" for host "+host+"). Harmless only if the socket carries no credentials (a public service); otherwise it is open to cross-site WebSocket hijacking.", origin, host)
		} else if resp != nil && resp.StatusCode == http.StatusForbidden {
			add("origin", "ok", "check.origin_refused", "The server refused a cross-site Origin with 403: that is the defence against cross-site WebSocket hijacking.", origin)
		}
	}
	return out
}

func splitList(vals []string) []string {
	var out []string
	for _, v := range vals {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// ServeCheck is the handshake checker (POST /api/lab/check-handshake).
func (l *Lab) ServeCheck(w http.ResponseWriter, r *http.Request) {
	var in CheckRequest
	if !readBody(w, r, &in) {
		return
	}
	writeJSON(w, http.StatusOK, Check(in))
}

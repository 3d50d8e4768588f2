package handshake

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// OriginPolicy names the rule a [Policy] applies to the Origin header.
//
// Browsers send Origin with every WebSocket handshake, and a page from any
// site may open a WebSocket to any server, carrying that server's cookies.
// A server that trusts cookies must therefore check Origin, or any web page
// can act as the logged-in user: "cross-site WebSocket hijacking". RFC 6455
// §10.2: "Servers that are not intended to process input from any web page
// but only for certain sites SHOULD verify the |Origin| field is an origin
// they expect."
//
// A request without Origin is accepted by every built-in policy: browsers
// always send it, and §4.2.1, item 7, says "A connection attempt lacking this
// header field SHOULD NOT be interpreted as coming from a browser client", so
// it carries no browser's cookies to protect.
type OriginPolicy int

const (
	// OriginSameHost, the zero Policy's rule: the Origin's host (and port)
	// must equal the request's Host.
	OriginSameHost OriginPolicy = iota
	// OriginAllowList: the same host, or an entry of Policy.Origins.
	OriginAllowList
	// OriginAny: every Origin (Policy.AnyOrigin).
	OriginAny
	// OriginCustom: Policy.CheckOrigin decides.
	OriginCustom
)

func (o OriginPolicy) String() string {
	switch o {
	case OriginSameHost:
		return "same host"
	case OriginAllowList:
		return "same host or allow-list"
	case OriginAny:
		return "any origin"
	case OriginCustom:
		return "custom check"
	}
	return fmt.Sprintf("OriginPolicy(%d)", int(o))
}

// OriginPolicy reports which rule p applies to the Origin header.
func (p *Policy) OriginPolicy() OriginPolicy {
	switch {
	case p == nil:
		return OriginSameHost
	case p.CheckOrigin != nil:
		return OriginCustom
	case p.AnyOrigin:
		return OriginAny
	case len(p.Origins) > 0:
		return OriginAllowList
	}
	return OriginSameHost
}

// checkOrigin applies the policy to r's Origin and says why it refuses, or
// "" if it accepts. §4.2.2, /origin/: "If the server does not wish to
// accept this connection, it MUST return an appropriate HTTP error code
// (e.g., 403 Forbidden) and abort the WebSocket handshake".
func (p *Policy) checkOrigin(r *http.Request) string {
	mode := p.OriginPolicy()
	if mode == OriginCustom {
		if p.CheckOrigin(r) {
			return ""
		}
		return fmt.Sprintf("Origin %q was refused by the server's origin check", headerValue(r.Header, "Origin"))
	}
	origins := r.Header.Values("Origin")
	switch {
	case len(origins) == 0 || mode == OriginAny:
		return ""
	case len(origins) > 1:
		return fmt.Sprintf("Origin appears %d times; a browser sends exactly one", len(origins))
	}
	origin := strings.Trim(origins[0], " \t")
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		// "null" (a sandboxed iframe, a file:// page) lands here too.
		return fmt.Sprintf("Origin %q names no host, so it cannot be this server's host %q", origin, r.Host)
	}
	if sameHost(u.Scheme, u.Host, r.Host) {
		return ""
	}
	for _, allowed := range p.Origins {
		if strings.Contains(allowed, "://") {
			if asciiEqualFold(strings.TrimSuffix(allowed, "/"), u.Scheme+"://"+u.Host) {
				return ""
			}
		} else if asciiEqualFold(allowed, u.Host) {
			return ""
		}
	}
	if mode == OriginAllowList {
		return fmt.Sprintf("Origin %q is neither this server's host %q nor in its allow-list", origin, r.Host)
	}
	return fmt.Sprintf("Origin %q is another site: its host %q is not this server's host %q", origin, u.Host, r.Host)
}

// sameHost reports whether an Origin's host (with its scheme) names the host the
// request was sent to. A port that is the scheme's default is ignored on both
// sides: an origin leaves it out (RFC 6454 §6.2), while a client may write it in
// Host (RFC 7230 §5.4), so "Host: example.com:80" and "Origin: http://example.com"
// are the same site.
func sameHost(scheme, originHost, host string) bool {
	return asciiEqualFold(withoutDefaultPort(scheme, originHost), withoutDefaultPort(scheme, host))
}

// withoutDefaultPort drops ":80" (http, ws) or ":443" (https, wss) from hostport.
func withoutDefaultPort(scheme, hostport string) string {
	def := ""
	switch strings.ToLower(scheme) {
	case "http", "ws":
		def = "80"
	case "https", "wss":
		def = "443"
	}
	h, port, err := net.SplitHostPort(hostport)
	if err != nil || port != def {
		return hostport
	}
	if strings.Contains(h, ":") { // IPv6: keep the brackets
		return "[" + h + "]"
	}
	return h
}

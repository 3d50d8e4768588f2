package learnws

import (
	"fmt"
	"net"
	"sort"
)

// ServeURLs lists the URLs at which a listener on addr can be reached: the address
// itself, or, for an unspecified address (0.0.0.0, ::), localhost and every LAN
// address ips holds, so students can type one of them.
func ServeURLs(addr *net.TCPAddr, ips []net.IP) []string {
	port := addr.Port
	url := func(ip net.IP) string {
		if ip.To4() == nil {
			return fmt.Sprintf("http://[%s]:%d/", ip, port)
		}
		return fmt.Sprintf("http://%s:%d/", ip, port)
	}
	if !addr.IP.IsUnspecified() {
		return []string{url(addr.IP)}
	}
	urls := []string{fmt.Sprintf("http://localhost:%d/", port)}
	v4only := addr.IP.To4() != nil // 0.0.0.0 listens on IPv4 only
	var lan []net.IP
	for _, ip := range ips {
		if ip.IsLoopback() || ip.IsLinkLocalUnicast() || ip.IsMulticast() || ip.IsUnspecified() {
			continue
		}
		if v4only && ip.To4() == nil {
			continue
		}
		lan = append(lan, ip)
	}
	// IPv4 first: that is what people type.
	sort.SliceStable(lan, func(i, j int) bool { return lan[i].To4() != nil && lan[j].To4() == nil })
	for _, ip := range lan {
		urls = append(urls, url(ip))
	}
	return urls
}

// InterfaceIPs returns the addresses of this machine's interfaces (none on error).
func InterfaceIPs() []net.IP {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	var ips []net.IP
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			ips = append(ips, n.IP)
		}
	}
	return ips
}

// LANURLs returns the http:// URLs students on the same network can type when the
// server listens on addr (for example "0.0.0.0:8080" or ":8080"); none when addr is a
// single address such as 127.0.0.1:8080. The home page shows them for classrooms.
func LANURLs(addr string) []string {
	tcp, err := net.ResolveTCPAddr("tcp", addr)
	if err != nil || tcp.Port == 0 {
		return nil
	}
	if tcp.IP == nil { // ":8080" listens on every interface, IPv4 and IPv6
		tcp.IP = net.IPv6unspecified
	}
	if !tcp.IP.IsUnspecified() {
		return nil
	}
	return ServeURLs(tcp, InterfaceIPs())[1:] // without localhost: students cannot use it
}

//go:build !unix

package realtime

// cpuSeconds is not measured on this system.
func cpuSeconds() float64 { return 0 }

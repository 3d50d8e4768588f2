package lab

import "runtime"

func runtimeNumCPU() int { return runtime.NumCPU() }

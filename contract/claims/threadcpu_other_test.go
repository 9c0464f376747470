//go:build !linux

package claims_test

import "time"

// threadCPU is not measured on this system: the CPU metrics read 0.
func threadCPU() time.Duration { return 0 }

//go:build unix

package base

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time (user and system) this process has used, for
// measurements that other load on the machine should not disturb.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

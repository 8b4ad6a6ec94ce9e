//go:build !unix

package resp

import "time"

// cpuTimes reports no CPU time where getrusage(2) does not exist; INFO
// then shows zero, as it would for an idle server.
func cpuTimes() (sys, user time.Duration) { return 0, 0 }

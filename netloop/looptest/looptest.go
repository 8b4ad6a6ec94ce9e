// Package looptest holds test helpers for the protocol servers that serve
// connections from netloop event loops.
package looptest

import (
	"testing"
	"time"

	"github.com/hotgrid/hotgrid/netloop"
)

// Require skips the test where event loops are not supported.
func Require(t testing.TB) {
	t.Helper()
	if !netloop.Supported {
		t.Skip("event loops need Linux")
	}
}

// WaitConns waits up to 5 s until g's loops serve want connections, and
// fails the test otherwise.
func WaitConns(t testing.TB, g *netloop.Group, want int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for g.Len() != want {
		if time.Now().After(deadline) {
			t.Fatalf("loops serve %d connections, want %d", g.Len(), want)
		}
		time.Sleep(time.Millisecond)
	}
}

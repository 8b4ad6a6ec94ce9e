package netloop

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// Group is the loops of one server. Connections are spread over them round
// robin; the loops are created with the first connection, so a server that
// never gets one costs nothing.
type Group struct {
	n     int
	once  sync.Once
	loops []*Loop
	err   error
	seq   atomic.Uint64
}

// NewGroup returns a group of n loops: 0 means one per CPU the Go runtime
// uses (GOMAXPROCS), a negative n none, in which case Next returns nil and
// connections keep a goroutine each.
func NewGroup(n int) *Group { return &Group{n: n} }

func (g *Group) start() {
	n := g.n
	if n < 0 {
		return
	}
	if n == 0 {
		n = runtime.GOMAXPROCS(0)
	}
	for range n {
		l, err := New()
		if err != nil {
			g.err = err
			return
		}
		g.loops = append(g.loops, l)
	}
}

// Next returns the loop for a new connection; nil if the group has none
// (disabled, or the platform has no loops: see Err).
func (g *Group) Next() *Loop {
	g.once.Do(g.start)
	if len(g.loops) == 0 {
		return nil
	}
	return g.loops[int(g.seq.Add(1)%uint64(len(g.loops)))]
}

// Err returns why a loop could not be created, if one could not.
func (g *Group) Err() error {
	g.once.Do(g.start)
	return g.err
}

// Len returns the number of connections the loops serve now.
func (g *Group) Len() int {
	g.once.Do(g.start)
	n := 0
	for _, l := range g.loops {
		n += l.Len()
	}
	return n
}

// Close stops the loops; call it once the server's connections are gone.
func (g *Group) Close() {
	g.once.Do(func() {}) // no loops are created after Close
	for _, l := range g.loops {
		l.Close()
	}
}

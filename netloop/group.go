package netloop

import (
	"runtime"
	"sync"
)

// Group is the loops of one server. A new connection goes to the first
// loop with time to spare, and a loop with none hands some of its
// connections to an idle sibling (balance.go); the loops are created with
// the first connection, so a server that never gets one costs nothing.
type Group struct {
	n     int
	once  sync.Once
	loops []*Loop // set once by start, read-only after
	err   error
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
		l, err := makeLoop(g)
		if err != nil {
			g.err = err
			break
		}
		g.loops = append(g.loops, l)
	}
	// Started once the list is whole: a loop reads it to find a sibling.
	for _, l := range g.loops {
		go l.run()
	}
}

// Next returns the loop for a new connection: the first with time to
// spare, else the least busy; nil if the group has none (disabled, or the
// platform has no loops: see Err).
func (g *Group) Next() *Loop {
	g.once.Do(g.start)
	return g.place()
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

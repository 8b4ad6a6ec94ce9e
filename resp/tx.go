package resp

import "context"

func cmdMulti(c *conn, ctx context.Context, args [][]byte) {
	if c.multi {
		c.out.err("ERR MULTI calls can not be nested")
		return
	}
	c.multi = true
	c.setMultiInfo(0)
	c.out.ok()
}

func (c *conn) setMultiInfo(n int) {
	c.infoMu.Lock()
	c.nmulti = n
	c.infoMu.Unlock()
}

// discard leaves MULTI, dropping the queued commands.
func (c *conn) discard() {
	c.multi, c.multiErr = false, false
	c.queued = nil
	c.setMultiInfo(-1)
}

func (c *conn) unwatch() { c.watched = nil }

func cmdDiscard(c *conn, ctx context.Context, args [][]byte) {
	if !c.multi {
		c.out.err("ERR DISCARD without MULTI")
		return
	}
	c.discard()
	c.unwatch()
	c.out.ok()
}

func cmdWatch(c *conn, ctx context.Context, args [][]byte) {
	if c.multi {
		c.out.err("ERR WATCH inside MULTI is not allowed")
		return
	}
	cc, ok := c.db0()
	if !ok {
		return
	}
	for _, k := range args[1:] {
		e, found, err := cc.Get(ctx, k)
		if err != nil {
			c.cacheErr(err)
			return
		}
		var v int64
		if found {
			v = e.Meta.Version
		}
		c.watched = append(c.watched, watchedKey{cc: cc, key: string(k), version: v})
	}
	c.out.ok()
}

func cmdUnwatch(c *conn, ctx context.Context, args [][]byte) {
	c.unwatch()
	c.out.ok()
}

// watchedChanged reports whether a watched key was written since WATCH
// (its entry version differs, or it appeared or disappeared).
func (c *conn) watchedChanged(ctx context.Context) bool {
	for _, w := range c.watched {
		e, found, err := w.cc.Get(ctx, []byte(w.key))
		if err != nil {
			return true
		}
		var v int64
		if found {
			v = e.Meta.Version
		}
		if v != w.version {
			return true
		}
	}
	return false
}

// cmdExec runs the queued commands while holding the server's exec lock
// exclusively, so no other RESP command interleaves with them.
func cmdExec(c *conn, ctx context.Context, args [][]byte) {
	if !c.multi {
		c.out.err("ERR EXEC without MULTI")
		return
	}
	if c.multiErr {
		c.discard()
		c.unwatch()
		c.out.err("EXECABORT Transaction discarded because of previous errors.")
		return
	}
	queued := c.queued
	c.discard()
	c.unlockShared()
	c.srv.execMu.Lock()
	defer c.srv.execMu.Unlock()
	if c.watchedChanged(ctx) {
		c.unwatch()
		c.out.nullArray()
		return
	}
	c.unwatch()
	c.inExec = true
	defer func() { c.inExec = false }()
	c.out.array(len(queued))
	for _, q := range queued {
		cmd := c.lookup(q[0])
		c.lastCmd = cmd.name
		c.curCmd.Store(cmd)
		cmd.fn(c, ctx, q)
	}
}

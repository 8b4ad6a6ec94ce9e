package resp

import (
	"context"
	"slices"
	"sync"
)

// pubsub is the server's registry of channel and pattern subscriptions.
// Publishing takes the read lock and queues the message on each
// subscriber's pending output (conn.deliver), so a slow subscriber never
// blocks a publisher. Lock order: pubsub.mu, then a subscriber's pmu.
type pubsub struct {
	mu       sync.RWMutex
	channels map[string]map[*conn]struct{}
	patterns map[string]map[*conn]struct{}
}

func (p *pubsub) init() {
	p.channels = make(map[string]map[*conn]struct{})
	p.patterns = make(map[string]map[*conn]struct{})
}

func (p *pubsub) add(m map[string]map[*conn]struct{}, name string, c *conn) {
	p.mu.Lock()
	set := m[name]
	if set == nil {
		set = make(map[*conn]struct{})
		m[name] = set
	}
	set[c] = struct{}{}
	p.mu.Unlock()
}

func (p *pubsub) del(m map[string]map[*conn]struct{}, name string, c *conn) {
	p.mu.Lock()
	if set := m[name]; set != nil {
		delete(set, c)
		if len(set) == 0 {
			delete(m, name)
		}
	}
	p.mu.Unlock()
}

func (p *pubsub) unsubscribeAll(c *conn) {
	for ch := range c.subs {
		p.del(p.channels, ch, c)
	}
	for pat := range c.psubs {
		p.del(p.patterns, pat, c)
	}
	c.infoMu.Lock()
	c.nsub, c.npsub = 0, 0
	c.infoMu.Unlock()
}

func (p *pubsub) numChannels() int {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return len(p.channels)
}

func (p *pubsub) numPatterns() int {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return len(p.patterns)
}

// message encodes a message push in protocol proto.
func message(proto int, pattern, channel, msg []byte) []byte {
	w := writer{proto: proto}
	if pattern != nil {
		w.push(4)
		w.bulkString("pmessage")
		w.bulk(pattern)
	} else {
		w.push(3)
		w.bulkString("message")
	}
	w.bulk(channel)
	w.bulk(msg)
	return w.b
}

// publish delivers msg to the subscribers of channel and of the patterns
// that match it, and returns how many received it.
func (p *pubsub) publish(channel, msg []byte) int {
	p.mu.RLock()
	defer p.mu.RUnlock()
	n := 0
	var enc [4][]byte
	for c := range p.channels[string(channel)] {
		proto := int(c.proto.Load())
		if enc[proto] == nil {
			enc[proto] = message(proto, nil, channel, msg)
		}
		c.deliver(enc[proto])
		n++
	}
	for pat, set := range p.patterns {
		if !globMatch([]byte(pat), channel, false) {
			continue
		}
		var penc [4][]byte
		for c := range set {
			proto := int(c.proto.Load())
			if penc[proto] == nil {
				penc[proto] = message(proto, []byte(pat), channel, msg)
			}
			c.deliver(penc[proto])
			n++
		}
	}
	return n
}

func cmdPublish(c *conn, ctx context.Context, args [][]byte) {
	c.out.int(int64(c.srv.pubsub.publish(args[1], args[2])))
}

// confirm writes a (un)subscription confirmation.
func (c *conn) confirm(kind string, name []byte, null bool) {
	c.out.push(3)
	c.out.bulkString(kind)
	if null {
		c.out.null()
	} else {
		c.out.bulk(name)
	}
	c.out.int(int64(len(c.subs) + len(c.psubs)))
}

// moveOut hands the output so far to the pending queue, so that messages
// published from now on follow it.
func (c *conn) moveOut() {
	c.pmu.Lock()
	c.pending = append(c.pending, c.out.b...)
	c.pmu.Unlock()
	c.out.b = c.out.b[:0]
}

// cmdSubscribe serves SUBSCRIBE and PSUBSCRIBE.
func cmdSubscribe(c *conn, ctx context.Context, args [][]byte) {
	pattern := c.lastCmd == "psubscribe"
	c.goAsync()
	for _, a := range args[1:] {
		name := string(a)
		var fresh bool
		if pattern {
			if c.psubs == nil {
				c.psubs = make(map[string]struct{})
			}
			_, had := c.psubs[name]
			fresh = !had
			c.psubs[name] = struct{}{}
		} else {
			if c.subs == nil {
				c.subs = make(map[string]struct{})
			}
			_, had := c.subs[name]
			fresh = !had
			c.subs[name] = struct{}{}
		}
		c.confirm(c.lastCmd, a, false)
		c.moveOut()
		if fresh {
			if pattern {
				c.srv.pubsub.add(c.srv.pubsub.patterns, name, c)
			} else {
				c.srv.pubsub.add(c.srv.pubsub.channels, name, c)
			}
		}
	}
	c.infoMu.Lock()
	c.nsub, c.npsub = len(c.subs), len(c.psubs)
	c.infoMu.Unlock()
}

// cmdUnsubscribe serves UNSUBSCRIBE and PUNSUBSCRIBE.
func cmdUnsubscribe(c *conn, ctx context.Context, args [][]byte) {
	pattern := c.lastCmd == "punsubscribe"
	subs := c.subs
	reg := c.srv.pubsub.channels
	if pattern {
		subs = c.psubs
		reg = c.srv.pubsub.patterns
	}
	names := args[1:]
	if len(names) == 0 {
		for n := range subs {
			names = append(names, []byte(n))
		}
		slices.SortFunc(names, compareBytes)
		if len(names) == 0 {
			c.confirm(c.lastCmd, nil, true)
			return
		}
	}
	for _, a := range names {
		if _, ok := subs[string(a)]; ok {
			delete(subs, string(a))
			c.srv.pubsub.del(reg, string(a), c)
		}
		c.confirm(c.lastCmd, a, false)
	}
	c.infoMu.Lock()
	c.nsub, c.npsub = len(c.subs), len(c.psubs)
	c.infoMu.Unlock()
}

func cmdPubSub(c *conn, ctx context.Context, args [][]byte) {
	p := &c.srv.pubsub
	switch {
	case eq(args[1], "channels") || eq(args[1], "shardchannels"):
		if len(args) > 3 {
			c.out.err(arityError("pubsub|" + string(lower(nil, args[1]))))
			return
		}
		var out []string
		if eq(args[1], "channels") {
			p.mu.RLock()
			for ch := range p.channels {
				if len(args) == 2 || globMatch(args[2], []byte(ch), false) {
					out = append(out, ch)
				}
			}
			p.mu.RUnlock()
		}
		slices.Sort(out)
		c.out.array(len(out))
		for _, ch := range out {
			c.out.bulkString(ch)
		}
	case eq(args[1], "numsub") || eq(args[1], "shardnumsub"):
		c.out.array(2 * (len(args) - 2))
		p.mu.RLock()
		for _, ch := range args[2:] {
			c.out.bulk(ch)
			n := 0
			if eq(args[1], "numsub") {
				n = len(p.channels[string(ch)])
			}
			c.out.int(int64(n))
		}
		p.mu.RUnlock()
	case eq(args[1], "numpat"):
		if len(args) != 2 {
			c.out.err(arityError("pubsub|numpat"))
			return
		}
		c.out.int(int64(p.numPatterns()))
	case eq(args[1], "help"):
		c.out.array(1)
		c.out.simple("PUBSUB <subcommand> [<arg> ...]. Subcommands are: CHANNELS, NUMSUB, NUMPAT, SHARDCHANNELS, SHARDNUMSUB, HELP")
	default:
		c.out.err(subcommandError("pubsub", args[1]))
	}
}

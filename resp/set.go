package resp

import (
	"context"
	"math/rand/v2"
	"slices"

	"github.com/hotgrid/hotgrid/cache"
)

// memberSet is a decoded set: members in stored order plus an index for
// large sets.
type memberSet struct {
	items [][]byte
	idx   map[string]int
}

func decodeSet(b []byte) (memberSet, bool) {
	if b == nil {
		return memberSet{}, true
	}
	items, ok := decodeItems(b, nil)
	return memberSet{items: items}, ok
}

func (s *memberSet) find(m []byte) int {
	if s.idx == nil && len(s.items) > 16 {
		s.idx = make(map[string]int, len(s.items))
		for i, it := range s.items {
			s.idx[string(it)] = i
		}
	}
	if s.idx != nil {
		if i, ok := s.idx[string(m)]; ok {
			return i
		}
		return -1
	}
	for i, it := range s.items {
		if string(it) == string(m) {
			return i
		}
	}
	return -1
}

func (s *memberSet) add(m []byte) bool {
	if s.find(m) >= 0 {
		return false
	}
	s.items = append(s.items, m)
	if s.idx != nil {
		s.idx[string(m)] = len(s.items) - 1
	}
	return true
}

func (s *memberSet) remove(m []byte) bool {
	i := s.find(m)
	if i < 0 {
		return false
	}
	last := len(s.items) - 1
	if i != last {
		s.items[i] = s.items[last]
		if s.idx != nil {
			s.idx[string(s.items[i])] = i
		}
	}
	if s.idx != nil {
		delete(s.idx, string(m))
	}
	s.items = s.items[:last]
	return true
}

func (s *memberSet) encode() []byte {
	if len(s.items) == 0 {
		return nil
	}
	return encodeItems(nil, s.items)
}

func cmdSAdd(c *conn, ctx context.Context, args [][]byte) {
	cc, ok := c.db0()
	if !ok {
		return
	}
	added := 0
	bad := false
	if !c.mutate(ctx, cc, args[1], KindSet, func(cur []byte, exists bool) ([]byte, bool) {
		s, ok := decodeSet(cur)
		if !ok {
			bad = true
			return nil, false
		}
		for _, m := range args[2:] {
			if s.add(m) {
				added++
			}
		}
		return s.encode(), added > 0
	}) {
		return
	}
	if bad {
		c.out.err(errCorrupt)
		return
	}
	c.out.int(int64(added))
}

func cmdSRem(c *conn, ctx context.Context, args [][]byte) {
	cc, ok := c.db0()
	if !ok {
		return
	}
	n := 0
	bad := false
	if !c.mutate(ctx, cc, args[1], KindSet, func(cur []byte, exists bool) ([]byte, bool) {
		if !exists {
			return nil, false
		}
		s, ok := decodeSet(cur)
		if !ok {
			bad = true
			return nil, false
		}
		for _, m := range args[2:] {
			if s.remove(m) {
				n++
			}
		}
		return s.encode(), n > 0
	}) {
		return
	}
	if bad {
		c.out.err(errCorrupt)
		return
	}
	c.out.int(int64(n))
}

// readSet reads a set; ok is false if a reply was already written.
func (c *conn) readSet(ctx context.Context, cc cache.Cache, key []byte) (memberSet, bool) {
	e, found, err := cc.Get(ctx, key)
	switch {
	case err != nil:
		c.cacheErr(err)
		return memberSet{}, false
	case !found:
		return memberSet{}, true
	case e.Meta.Kind != KindSet:
		c.out.err(errWrongType)
		return memberSet{}, false
	}
	s, ok := decodeSet(e.Value)
	if !ok {
		c.out.err(errCorrupt)
	}
	return s, ok
}

func (c *conn) readSetKey(ctx context.Context, key []byte) (memberSet, bool) {
	cc, ok := c.db0()
	if !ok {
		return memberSet{}, false
	}
	return c.readSet(ctx, cc, key)
}

func (c *conn) writeSet(items [][]byte) {
	c.out.set(len(items))
	for _, it := range items {
		c.out.bulk(it)
	}
}

func cmdSMembers(c *conn, ctx context.Context, args [][]byte) {
	if s, ok := c.readSetKey(ctx, args[1]); ok {
		c.writeSet(s.items)
	}
}

func cmdSIsMember(c *conn, ctx context.Context, args [][]byte) {
	if s, ok := c.readSetKey(ctx, args[1]); ok {
		c.out.int(b2i(s.find(args[2]) >= 0))
	}
}

func cmdSMIsMember(c *conn, ctx context.Context, args [][]byte) {
	s, ok := c.readSetKey(ctx, args[1])
	if !ok {
		return
	}
	c.out.array(len(args) - 2)
	for _, m := range args[2:] {
		c.out.int(b2i(s.find(m) >= 0))
	}
}

func cmdSCard(c *conn, ctx context.Context, args [][]byte) {
	v, _, ok := c.readKind(ctx, args[1], KindSet)
	if ok {
		c.out.int(int64(itemCount(v)))
	}
}

func cmdSPop(c *conn, ctx context.Context, args [][]byte) {
	if len(args) > 3 {
		c.out.err(errSyntax)
		return
	}
	cc, ok := c.db0()
	if !ok {
		return
	}
	count := int64(1)
	if len(args) == 3 {
		n, ok := parseInt(args[2])
		if !ok || n < 0 {
			c.out.err(errNotPos)
			return
		}
		count = n
	}
	var popped [][]byte
	bad := false
	if !c.mutate(ctx, cc, args[1], KindSet, func(cur []byte, exists bool) ([]byte, bool) {
		if !exists || count == 0 {
			return nil, false
		}
		s, ok := decodeSet(cur)
		if !ok {
			bad = true
			return nil, false
		}
		for i := int64(0); i < count && len(s.items) > 0; i++ {
			j := rand.IntN(len(s.items))
			m := s.items[j]
			popped = append(popped, m)
			s.items[j] = s.items[len(s.items)-1]
			s.items = s.items[:len(s.items)-1]
		}
		return s.encode(), true
	}) {
		return
	}
	if bad {
		c.out.err(errCorrupt)
		return
	}
	if len(args) == 2 {
		if len(popped) == 0 {
			c.out.null()
		} else {
			c.out.bulk(popped[0])
		}
		return
	}
	c.writeSet(popped)
}

func cmdSRandMember(c *conn, ctx context.Context, args [][]byte) {
	if len(args) > 3 {
		c.out.err(errSyntax)
		return
	}
	var count int64
	if len(args) == 3 {
		n, ok := parseInt(args[2])
		if !ok {
			c.out.err(errNotInt)
			return
		}
		count = n
	}
	s, ok := c.readSetKey(ctx, args[1])
	if !ok {
		return
	}
	if len(args) == 2 {
		if len(s.items) == 0 {
			c.out.null()
		} else {
			c.out.bulk(s.items[rand.IntN(len(s.items))])
		}
		return
	}
	picks := randomPicks(len(s.items), count)
	c.out.array(len(picks))
	for _, i := range picks {
		c.out.bulk(s.items[i])
	}
}

func cmdSMove(c *conn, ctx context.Context, args [][]byte) {
	cc, ok := c.db0()
	if !ok {
		return
	}
	src, dst, m := args[1], args[2], args[3]
	c.exclusive(func() {
		if _, _, ok := c.readKind(ctx, dst, KindSet); !ok {
			return
		}
		moved := false
		bad := false
		if !c.mutate(ctx, cc, src, KindSet, func(cur []byte, exists bool) ([]byte, bool) {
			if !exists {
				return nil, false
			}
			s, ok := decodeSet(cur)
			if !ok {
				bad = true
				return nil, false
			}
			moved = s.remove(m)
			return s.encode(), moved
		}) {
			return
		}
		if bad {
			c.out.err(errCorrupt)
			return
		}
		if moved && !c.mutate(ctx, cc, dst, KindSet, func(cur []byte, exists bool) ([]byte, bool) {
			s, _ := decodeSet(cur)
			s.add(m)
			return s.encode(), true
		}) {
			return
		}
		c.out.int(b2i(moved))
	})
}

// setOp computes the intersection, union or difference of the sets at
// keys; ok is false if a reply was already written.
func (c *conn) setOp(ctx context.Context, cc cache.Cache, op string, keys [][]byte, limit int) ([][]byte, bool) {
	sets := make([]memberSet, len(keys))
	for i, k := range keys {
		s, ok := c.readSet(ctx, cc, k)
		if !ok {
			return nil, false
		}
		sets[i] = s
	}
	var out [][]byte
	switch op {
	case "inter":
		if len(sets) == 0 {
			return nil, true
		}
		order := make([]int, len(sets))
		for i := range order {
			order[i] = i
		}
		slices.SortFunc(order, func(a, b int) int { return len(sets[a].items) - len(sets[b].items) })
		first := sets[order[0]]
	outer:
		for _, m := range first.items {
			for _, j := range order[1:] {
				if sets[j].find(m) < 0 {
					continue outer
				}
			}
			out = append(out, m)
			if limit > 0 && len(out) >= limit {
				break
			}
		}
	case "union":
		var u memberSet
		for _, s := range sets {
			for _, m := range s.items {
				u.add(m)
			}
		}
		out = u.items
	case "diff":
	diff:
		for _, m := range sets[0].items {
			for _, s := range sets[1:] {
				if s.find(m) >= 0 {
					continue diff
				}
			}
			out = append(out, m)
		}
	}
	return out, true
}

// cmdSetOp serves SINTER, SUNION, SDIFF and their STORE forms.
func cmdSetOp(c *conn, ctx context.Context, args [][]byte) {
	cc, ok := c.db0()
	if !ok {
		return
	}
	name := c.lastCmd
	store := len(name) > 5 && name[len(name)-5:] == "store"
	op := name[1:]
	if store {
		op = name[1 : len(name)-5]
	}
	keys := args[1:]
	if store {
		keys = args[2:]
	}
	c.exclusive(func() {
		res, ok := c.setOp(ctx, cc, op, keys, 0)
		if !ok {
			return
		}
		if !store {
			c.writeSet(res)
			return
		}
		var err error
		if len(res) == 0 {
			_, _, err = cc.Remove(ctx, args[1], cache.Write{})
		} else {
			w := cache.DefaultWrite
			w.Kind = KindSet
			_, _, err = cc.Put(ctx, args[1], encodeItems(nil, res), w)
		}
		if err != nil {
			c.cacheErr(err)
			return
		}
		c.out.int(int64(len(res)))
	})
}

func cmdSInterCard(c *conn, ctx context.Context, args [][]byte) {
	cc, ok := c.db0()
	if !ok {
		return
	}
	n, ok := parseInt(args[1])
	if !ok || n <= 0 {
		c.out.err("ERR numkeys should be greater than 0")
		return
	}
	if n > int64(len(args)-2) {
		c.out.err("ERR Number of keys can't be greater than number of args")
		return
	}
	keys := args[2 : 2+n]
	rest := args[2+n:]
	limit := int64(0)
	switch {
	case len(rest) == 0:
	case len(rest) == 2 && eq(rest[0], "limit"):
		l, ok := parseInt(rest[1])
		if !ok || l < 0 {
			c.out.err("ERR LIMIT can't be negative")
			return
		}
		limit = l
	default:
		c.out.err(errSyntax)
		return
	}
	res, ok := c.setOp(ctx, cc, "inter", keys, int(limit))
	if ok {
		c.out.int(int64(len(res)))
	}
}

func cmdSScan(c *conn, ctx context.Context, args [][]byte) {
	cur, ok := c.parseCursor(args[2])
	if !ok {
		return
	}
	o, ok := c.parseScanOpts(args[3:], false)
	if !ok {
		return
	}
	s, ok := c.readSetKey(ctx, args[1])
	if !ok {
		return
	}
	n := len(s.items)
	i := int(min(cur, uint64(n)))
	end := min(i+int(o.count), n)
	var out [][]byte
	for ; i < end; i++ {
		if o.match == nil || globMatch(o.match, s.items[i], false) {
			out = append(out, s.items[i])
		}
	}
	next := 0
	if end < n {
		next = end
	}
	c.out.array(2)
	c.out.bulkInt(int64(next))
	c.out.array(len(out))
	for _, m := range out {
		c.out.bulk(m)
	}
}

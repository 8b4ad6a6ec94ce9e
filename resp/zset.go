package resp

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/hotgrid/hotgrid/cache"
)

// zset is a decoded sorted set, ordered by (score, member).
type zset struct {
	items []zitem
	idx   map[string]int
}

func decodeZ(b []byte) (zset, bool) {
	if b == nil {
		return zset{}, true
	}
	items, ok := decodeZSet(b, nil)
	return zset{items: items}, ok
}

func (z *zset) find(m []byte) int {
	if z.idx == nil && len(z.items) > 16 {
		z.reindex()
	}
	if z.idx != nil {
		if i, ok := z.idx[string(m)]; ok {
			return i
		}
		return -1
	}
	for i, it := range z.items {
		if string(it.member) == string(m) {
			return i
		}
	}
	return -1
}

func (z *zset) reindex() {
	z.idx = make(map[string]int, len(z.items))
	for i, it := range z.items {
		z.idx[string(it.member)] = i
	}
}

// sort restores the order after scores changed or members were appended.
func (z *zset) sort() {
	slices.SortFunc(z.items, zless)
	if z.idx != nil {
		z.reindex()
	}
}

func (z *zset) remove(m []byte) bool {
	i := z.find(m)
	if i < 0 {
		return false
	}
	z.items = slices.Delete(z.items, i, i+1)
	if z.idx != nil {
		z.reindex()
	}
	return true
}

func (z *zset) encode() []byte {
	if len(z.items) == 0 {
		return nil
	}
	return encodeZSet(nil, z.items)
}

// readZ reads a sorted set; with sets allowed (the ZUNION family), a set
// reads as members with score 1.
func (c *conn) readZ(ctx context.Context, cc cache.Cache, key []byte, setsToo bool) (zset, bool) {
	e, found, err := cc.Get(ctx, key)
	switch {
	case err != nil:
		c.cacheErr(err)
		return zset{}, false
	case !found:
		return zset{}, true
	case e.Meta.Kind == KindSet && setsToo:
		items, ok := decodeItems(e.Value, nil)
		if !ok {
			c.out.err(errCorrupt)
			return zset{}, false
		}
		z := zset{items: make([]zitem, len(items))}
		for i, m := range items {
			z.items[i] = zitem{1, m}
		}
		z.sort()
		return z, true
	case e.Meta.Kind != KindZSet:
		c.out.err(errWrongType)
		return zset{}, false
	}
	z, ok := decodeZ(e.Value)
	if !ok {
		c.out.err(errCorrupt)
	}
	return z, ok
}

func (c *conn) readZKey(ctx context.Context, key []byte) (zset, bool) {
	cc, ok := c.db0()
	if !ok {
		return zset{}, false
	}
	return c.readZ(ctx, cc, key, false)
}

func cmdZAdd(c *conn, ctx context.Context, args [][]byte) {
	cc, ok := c.db0()
	if !ok {
		return
	}
	var nx, xx, gt, lt, ch, incr bool
	i := 2
flags:
	for ; i < len(args); i++ {
		switch {
		case eq(args[i], "nx"):
			nx = true
		case eq(args[i], "xx"):
			xx = true
		case eq(args[i], "gt"):
			gt = true
		case eq(args[i], "lt"):
			lt = true
		case eq(args[i], "ch"):
			ch = true
		case eq(args[i], "incr"):
			incr = true
		default:
			break flags
		}
	}
	rest := args[i:]
	if len(rest) == 0 || len(rest)%2 != 0 {
		c.out.err(errSyntax)
		return
	}
	if nx && xx {
		c.out.err("ERR XX and NX options at the same time are not compatible")
		return
	}
	if (gt && nx) || (lt && nx) || (gt && lt) {
		c.out.err("ERR GT, LT, and/or NX options at the same time are not compatible")
		return
	}
	if incr && len(rest) > 2 {
		c.out.err("ERR INCR option supports a single increment-element pair")
		return
	}
	scores := make([]float64, len(rest)/2)
	for j := range scores {
		f, ok := parseFloat(rest[2*j])
		if !ok {
			c.out.err(errNotFloat)
			return
		}
		scores[j] = f
	}
	added, changed := 0, 0
	var result float64
	aborted := false
	fail := ""
	if !c.mutate(ctx, cc, args[1], KindZSet, func(cur []byte, exists bool) ([]byte, bool) {
		z, ok := decodeZ(cur)
		if !ok {
			fail = errCorrupt
			return nil, false
		}
		for j, s := range scores {
			m := rest[2*j+1]
			k := z.find(m)
			if k < 0 {
				if xx {
					aborted = true
					continue
				}
				if math.IsNaN(s) {
					fail = "ERR resulting score is not a number (NaN)"
					return nil, false
				}
				z.items = append(z.items, zitem{s, m})
				if z.idx != nil {
					z.idx[string(m)] = len(z.items) - 1
				}
				added++
				result = s
				continue
			}
			if nx {
				aborted = true
				continue
			}
			old := z.items[k].score
			ns := s
			if incr {
				ns = old + s
				if math.IsNaN(ns) {
					fail = "ERR resulting score is not a number (NaN)"
					return nil, false
				}
			}
			if (gt && ns <= old) || (lt && ns >= old) {
				aborted = true
				continue
			}
			result = ns
			if ns != old {
				z.items[k].score = ns
				changed++
			}
		}
		if added+changed == 0 {
			return nil, false
		}
		z.sort()
		return z.encode(), true
	}) {
		return
	}
	switch {
	case fail != "":
		c.out.err(fail)
	case incr && aborted:
		c.out.null()
	case incr:
		c.out.double(result)
	case ch:
		c.out.int(int64(added + changed))
	default:
		c.out.int(int64(added))
	}
}

func cmdZIncrBy(c *conn, ctx context.Context, args [][]byte) {
	cmdZAdd(c, ctx, [][]byte{args[0], args[1], []byte("INCR"), args[2], args[3]})
}

func cmdZCard(c *conn, ctx context.Context, args [][]byte) {
	v, _, ok := c.readKind(ctx, args[1], KindZSet)
	if ok {
		c.out.int(int64(itemCount(v)))
	}
}

func cmdZScore(c *conn, ctx context.Context, args [][]byte) {
	z, ok := c.readZKey(ctx, args[1])
	if !ok {
		return
	}
	if i := z.find(args[2]); i >= 0 {
		c.out.double(z.items[i].score)
	} else {
		c.out.null()
	}
}

func cmdZMScore(c *conn, ctx context.Context, args [][]byte) {
	z, ok := c.readZKey(ctx, args[1])
	if !ok {
		return
	}
	c.out.array(len(args) - 2)
	for _, m := range args[2:] {
		if i := z.find(m); i >= 0 {
			c.out.double(z.items[i].score)
		} else {
			c.out.null()
		}
	}
}

func cmdZRank(c *conn, ctx context.Context, args [][]byte) {
	withScore := false
	switch {
	case len(args) == 4 && eq(args[3], "withscore"):
		withScore = true
	case len(args) != 3:
		c.out.err(errSyntax)
		return
	}
	z, ok := c.readZKey(ctx, args[1])
	if !ok {
		return
	}
	i := z.find(args[2])
	if i < 0 {
		if withScore {
			c.out.nullArray()
		} else {
			c.out.null()
		}
		return
	}
	rank := i
	if c.lastCmd == "zrevrank" {
		rank = len(z.items) - 1 - i
	}
	if withScore {
		c.out.array(2)
		c.out.int(int64(rank))
		c.out.double(z.items[i].score)
		return
	}
	c.out.int(int64(rank))
}

func cmdZRem(c *conn, ctx context.Context, args [][]byte) {
	cc, ok := c.db0()
	if !ok {
		return
	}
	n := 0
	bad := false
	if !c.mutate(ctx, cc, args[1], KindZSet, func(cur []byte, exists bool) ([]byte, bool) {
		if !exists {
			return nil, false
		}
		z, ok := decodeZ(cur)
		if !ok {
			bad = true
			return nil, false
		}
		for _, m := range args[2:] {
			if z.remove(m) {
				n++
			}
		}
		return z.encode(), n > 0
	}) {
		return
	}
	if bad {
		c.out.err(errCorrupt)
		return
	}
	c.out.int(int64(n))
}

// scoreBound is one end of a score range.
type scoreBound struct {
	v    float64
	excl bool
}

func parseScoreBound(b []byte) (scoreBound, bool) {
	var sb scoreBound
	if len(b) > 0 && b[0] == '(' {
		sb.excl = true
		b = b[1:]
	}
	f, ok := parseFloat(b)
	sb.v = f
	return sb, ok
}

func (lo scoreBound) below(s float64) bool { // s is above the lower bound
	if lo.excl {
		return s > lo.v
	}
	return s >= lo.v
}

func (hi scoreBound) above(s float64) bool { // s is below the upper bound
	if hi.excl {
		return s < hi.v
	}
	return s <= hi.v
}

// lexBound is one end of a lexicographic range: "-", "+", "[x" or "(x".
type lexBound struct {
	v        []byte
	excl     bool
	min, max bool
}

func parseLexBound(b []byte) (lexBound, bool) {
	switch {
	case len(b) == 1 && b[0] == '-':
		return lexBound{min: true}, true
	case len(b) == 1 && b[0] == '+':
		return lexBound{max: true}, true
	case len(b) > 0 && b[0] == '[':
		return lexBound{v: b[1:]}, true
	case len(b) > 0 && b[0] == '(':
		return lexBound{v: b[1:], excl: true}, true
	}
	return lexBound{}, false
}

func (lo lexBound) below(m []byte) bool {
	switch {
	case lo.min:
		return true
	case lo.max:
		return false
	}
	c := compareBytes(m, lo.v)
	return c > 0 || (c == 0 && !lo.excl)
}

func (hi lexBound) above(m []byte) bool {
	switch {
	case hi.max:
		return true
	case hi.min:
		return false
	}
	c := compareBytes(m, hi.v)
	return c < 0 || (c == 0 && !hi.excl)
}

// zrangeSpec is a parsed ZRANGE-family request.
type zrangeSpec struct {
	byScore, byLex, rev, withScores bool
	start, stop                     int64
	smin, smax                      scoreBound
	lmin, lmax                      lexBound
	offset, count                   int64
}

// parseZRange parses the range arguments (min, max, options); min and max
// are given in the command's order and swapped here for REV.
func (c *conn) parseZRange(spec *zrangeSpec, a, b []byte, opts [][]byte, allowLimit bool) bool {
	spec.count = -1
	hasLimit := false
	for i := 0; i < len(opts); i++ {
		switch {
		case eq(opts[i], "byscore") && !spec.byLex:
			spec.byScore = true
		case eq(opts[i], "bylex") && !spec.byScore:
			spec.byLex = true
		case eq(opts[i], "rev"):
			spec.rev = true
		case eq(opts[i], "withscores"):
			spec.withScores = true
		case eq(opts[i], "limit") && i+2 < len(opts) && allowLimit:
			off, ok1 := parseInt(opts[i+1])
			cnt, ok2 := parseInt(opts[i+2])
			if !ok1 || !ok2 {
				c.out.err(errNotInt)
				return false
			}
			spec.offset, spec.count, hasLimit = off, cnt, true
			i += 2
		default:
			c.out.err(errSyntax)
			return false
		}
	}
	if hasLimit && !spec.byScore && !spec.byLex {
		c.out.err("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX")
		return false
	}
	if spec.withScores && spec.byLex {
		c.out.err("ERR syntax error, WITHSCORES not supported in combination with BYLEX")
		return false
	}
	if spec.rev && (spec.byScore || spec.byLex) {
		a, b = b, a
	}
	switch {
	case spec.byScore:
		var ok1, ok2 bool
		spec.smin, ok1 = parseScoreBound(a)
		spec.smax, ok2 = parseScoreBound(b)
		if !ok1 || !ok2 {
			c.out.err("ERR min or max is not a float")
			return false
		}
	case spec.byLex:
		var ok1, ok2 bool
		spec.lmin, ok1 = parseLexBound(a)
		spec.lmax, ok2 = parseLexBound(b)
		if !ok1 || !ok2 {
			c.out.err("ERR min or max not valid string range item")
			return false
		}
	default:
		var ok1, ok2 bool
		spec.start, ok1 = parseInt(a)
		spec.stop, ok2 = parseInt(b)
		if !ok1 || !ok2 {
			c.out.err(errNotInt)
			return false
		}
	}
	return true
}

// selectRange returns the items of z the spec selects, in reply order.
func (spec *zrangeSpec) selectRange(z []zitem) []zitem {
	n := len(z)
	var out []zitem
	if !spec.byScore && !spec.byLex {
		s, e, ok := listRange(spec.start, spec.stop, n)
		if !ok {
			return nil
		}
		for i := s; i <= e; i++ {
			j := i
			if spec.rev {
				j = n - 1 - i
			}
			out = append(out, z[j])
		}
		return out
	}
	in := func(it zitem) bool {
		if spec.byScore {
			return spec.smin.below(it.score) && spec.smax.above(it.score)
		}
		return spec.lmin.below(it.member) && spec.lmax.above(it.member)
	}
	skip := spec.offset
	if skip < 0 {
		return nil
	}
	for k := range n {
		i := k
		if spec.rev {
			i = n - 1 - k
		}
		if !in(z[i]) {
			continue
		}
		if skip > 0 {
			skip--
			continue
		}
		if spec.count >= 0 && int64(len(out)) >= spec.count {
			break
		}
		out = append(out, z[i])
	}
	return out
}

// writeZItems answers members, with scores if asked: RESP3 as
// [member, score] pairs, RESP2 flat.
func (c *conn) writeZItems(items []zitem, withScores bool) {
	switch {
	case !withScores:
		c.out.array(len(items))
		for _, it := range items {
			c.out.bulk(it.member)
		}
	case c.out.resp3():
		c.out.array(len(items))
		for _, it := range items {
			c.out.array(2)
			c.out.bulk(it.member)
			c.out.double(it.score)
		}
	default:
		c.out.array(2 * len(items))
		for _, it := range items {
			c.out.bulk(it.member)
			c.out.double(it.score)
		}
	}
}

// cmdZRange serves ZRANGE, ZRANGESTORE, ZREVRANGE, ZRANGEBYSCORE,
// ZREVRANGEBYSCORE, ZRANGEBYLEX and ZREVRANGEBYLEX.
func cmdZRange(c *conn, ctx context.Context, args [][]byte) {
	cc, ok := c.db0()
	if !ok {
		return
	}
	var spec zrangeSpec
	src := args[1]
	name := c.lastCmd
	var opts [][]byte
	switch name {
	case "zrangestore":
		src = args[2]
		if !c.parseZRange(&spec, args[3], args[4], args[5:], true) {
			return
		}
		if spec.withScores {
			c.out.err(errSyntax)
			return
		}
	case "zrange":
		if !c.parseZRange(&spec, args[2], args[3], args[4:], true) {
			return
		}
	default:
		opts = append(opts, args[4:]...)
		switch name {
		case "zrevrange":
			opts = append(opts, []byte("rev"))
		case "zrangebyscore":
			opts = append(opts, []byte("byscore"))
		case "zrevrangebyscore":
			opts = append(opts, []byte("byscore"), []byte("rev"))
		case "zrangebylex":
			opts = append(opts, []byte("bylex"))
		case "zrevrangebylex":
			opts = append(opts, []byte("bylex"), []byte("rev"))
		}
		// ZREVRANGEBYSCORE and ZREVRANGEBYLEX take max before min, as
		// ZRANGE ... REV does; parseZRange swaps them.
		if !c.parseZRange(&spec, args[2], args[3], opts, name != "zrevrange") {
			return
		}
	}
	z, ok := c.readZ(ctx, cc, src, false)
	if !ok {
		return
	}
	items := spec.selectRange(z.items)
	if name != "zrangestore" {
		c.writeZItems(items, spec.withScores)
		return
	}
	stored := append([]zitem(nil), items...)
	slices.SortFunc(stored, zless)
	var err error
	if len(stored) == 0 {
		_, _, err = cc.Remove(ctx, args[1], cache.Write{})
	} else {
		w := cache.DefaultWrite
		w.Kind = KindZSet
		_, _, err = cc.Put(ctx, args[1], encodeZSet(nil, stored), w)
	}
	if err != nil {
		c.cacheErr(err)
		return
	}
	c.out.int(int64(len(stored)))
}

func cmdZCount(c *conn, ctx context.Context, args [][]byte) {
	var spec zrangeSpec
	if !c.parseZRange(&spec, args[2], args[3], [][]byte{[]byte("byscore")}, false) {
		return
	}
	z, ok := c.readZKey(ctx, args[1])
	if ok {
		c.out.int(int64(len(spec.selectRange(z.items))))
	}
}

func cmdZLexCount(c *conn, ctx context.Context, args [][]byte) {
	var spec zrangeSpec
	if !c.parseZRange(&spec, args[2], args[3], [][]byte{[]byte("bylex")}, false) {
		return
	}
	z, ok := c.readZKey(ctx, args[1])
	if ok {
		c.out.int(int64(len(spec.selectRange(z.items))))
	}
}

// cmdZRemRange serves ZREMRANGEBYRANK, ZREMRANGEBYSCORE and ZREMRANGEBYLEX.
func cmdZRemRange(c *conn, ctx context.Context, args [][]byte) {
	cc, ok := c.db0()
	if !ok {
		return
	}
	var spec zrangeSpec
	var opt [][]byte
	switch c.lastCmd {
	case "zremrangebyscore":
		opt = [][]byte{[]byte("byscore")}
	case "zremrangebylex":
		opt = [][]byte{[]byte("bylex")}
	}
	if !c.parseZRange(&spec, args[2], args[3], opt, false) {
		return
	}
	removed := 0
	bad := false
	if !c.mutate(ctx, cc, args[1], KindZSet, func(cur []byte, exists bool) ([]byte, bool) {
		if !exists {
			return nil, false
		}
		z, ok := decodeZ(cur)
		if !ok {
			bad = true
			return nil, false
		}
		drop := spec.selectRange(z.items)
		if len(drop) == 0 {
			return nil, false
		}
		gone := make(map[string]bool, len(drop))
		for _, d := range drop {
			gone[string(d.member)] = true
		}
		keep := z.items[:0:0]
		for _, it := range z.items {
			if !gone[string(it.member)] {
				keep = append(keep, it)
			}
		}
		removed = len(drop)
		z.items = keep
		return z.encode(), true
	}) {
		return
	}
	if bad {
		c.out.err(errCorrupt)
		return
	}
	c.out.int(int64(removed))
}

// cmdZPop serves ZPOPMIN and ZPOPMAX.
func cmdZPop(c *conn, ctx context.Context, args [][]byte) {
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
	max := c.lastCmd == "zpopmax"
	var popped []zitem
	bad := false
	if !c.mutate(ctx, cc, args[1], KindZSet, func(cur []byte, exists bool) ([]byte, bool) {
		if !exists || count == 0 {
			return nil, false
		}
		z, ok := decodeZ(cur)
		if !ok {
			bad = true
			return nil, false
		}
		k := int(min(count, int64(len(z.items))))
		if max {
			for i := range k {
				popped = append(popped, z.items[len(z.items)-1-i])
			}
			z.items = z.items[:len(z.items)-k]
		} else {
			popped = append(popped, z.items[:k]...)
			z.items = z.items[k:]
		}
		return z.encode(), true
	}) {
		return
	}
	if bad {
		c.out.err(errCorrupt)
		return
	}
	if len(args) == 2 || !c.out.resp3() {
		c.out.array(2 * len(popped))
		for _, it := range popped {
			c.out.bulk(it.member)
			c.out.double(it.score)
		}
		return
	}
	c.writeZItems(popped, true)
}

// cmdZStore serves ZUNIONSTORE, ZINTERSTORE, ZDIFFSTORE, ZUNION, ZINTER
// and ZDIFF.
func cmdZStore(c *conn, ctx context.Context, args [][]byte) {
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
	i := 1
	if store {
		i = 2
	}
	numkeys, ok := parseInt(args[i])
	if !ok {
		c.out.err(errNotInt)
		return
	}
	if numkeys < 1 {
		c.out.err("ERR at least 1 input key is needed for '" + name + "' command")
		return
	}
	if numkeys > int64(len(args)-i-1) {
		c.out.err(errSyntax)
		return
	}
	keys := args[i+1 : i+1+int(numkeys)]
	weights := make([]float64, len(keys))
	for j := range weights {
		weights[j] = 1
	}
	agg := "sum"
	withScores := false
	for j := i + 1 + int(numkeys); j < len(args); j++ {
		switch {
		case eq(args[j], "weights") && op != "diff" && j+len(keys) < len(args):
			for k := range keys {
				f, ok := parseFloat(args[j+1+k])
				if !ok {
					c.out.err("ERR weight value is not a float")
					return
				}
				weights[k] = f
			}
			j += len(keys)
		case eq(args[j], "aggregate") && op != "diff" && j+1 < len(args):
			switch {
			case eq(args[j+1], "sum"):
				agg = "sum"
			case eq(args[j+1], "min"):
				agg = "min"
			case eq(args[j+1], "max"):
				agg = "max"
			default:
				c.out.err(errSyntax)
				return
			}
			j++
		case eq(args[j], "withscores") && !store:
			withScores = true
		default:
			c.out.err(errSyntax)
			return
		}
	}
	c.exclusive(func() {
		sets := make([]zset, len(keys))
		for k, key := range keys {
			z, ok := c.readZ(ctx, cc, key, true)
			if !ok {
				return
			}
			sets[k] = z
		}
		acc := map[string]float64{}
		var order []string
		combine := func(a, b float64) float64 {
			switch agg {
			case "min":
				return math.Min(a, b)
			case "max":
				return math.Max(a, b)
			}
			s := a + b
			if math.IsNaN(s) {
				return 0
			}
			return s
		}
		weighted := func(s, w float64) float64 {
			v := s * w
			if math.IsNaN(v) {
				return 0
			}
			return v
		}
		switch op {
		case "union":
			for k, z := range sets {
				for _, it := range z.items {
					v := weighted(it.score, weights[k])
					if old, ok := acc[string(it.member)]; ok {
						acc[string(it.member)] = combine(old, v)
					} else {
						acc[string(it.member)] = v
						order = append(order, string(it.member))
					}
				}
			}
		case "inter":
		inter:
			for _, it := range sets[0].items {
				v := weighted(it.score, weights[0])
				for k := 1; k < len(sets); k++ {
					j := sets[k].find(it.member)
					if j < 0 {
						continue inter
					}
					v = combine(v, weighted(sets[k].items[j].score, weights[k]))
				}
				acc[string(it.member)] = v
				order = append(order, string(it.member))
			}
		case "diff":
		diff:
			for _, it := range sets[0].items {
				for k := 1; k < len(sets); k++ {
					if sets[k].find(it.member) >= 0 {
						continue diff
					}
				}
				acc[string(it.member)] = it.score
				order = append(order, string(it.member))
			}
		}
		res := make([]zitem, 0, len(order))
		for _, m := range order {
			res = append(res, zitem{acc[m], []byte(m)})
		}
		slices.SortFunc(res, zless)
		if !store {
			c.writeZItems(res, withScores)
			return
		}
		var err error
		if len(res) == 0 {
			_, _, err = cc.Remove(ctx, args[1], cache.Write{})
		} else {
			w := cache.DefaultWrite
			w.Kind = KindZSet
			_, _, err = cc.Put(ctx, args[1], encodeZSet(nil, res), w)
		}
		if err != nil {
			c.cacheErr(err)
			return
		}
		c.out.int(int64(len(res)))
	})
}

func cmdZRandMember(c *conn, ctx context.Context, args [][]byte) {
	if len(args) > 4 || (len(args) == 4 && !eq(args[3], "withscores")) {
		c.out.err(errSyntax)
		return
	}
	var count int64
	if len(args) >= 3 {
		n, ok := parseInt(args[2])
		if !ok {
			c.out.err(errNotInt)
			return
		}
		count = n
	}
	z, ok := c.readZKey(ctx, args[1])
	if !ok {
		return
	}
	if len(args) == 2 {
		if len(z.items) == 0 {
			c.out.null()
		} else {
			c.out.bulk(z.items[rand.IntN(len(z.items))].member)
		}
		return
	}
	picks := randomPicks(len(z.items), count)
	items := make([]zitem, len(picks))
	for i, p := range picks {
		items[i] = z.items[p]
	}
	c.writeZItems(items, len(args) == 4)
}

func cmdZScan(c *conn, ctx context.Context, args [][]byte) {
	cur, ok := c.parseCursor(args[2])
	if !ok {
		return
	}
	o, ok := c.parseScanOpts(args[3:], false)
	if !ok {
		return
	}
	z, ok := c.readZKey(ctx, args[1])
	if !ok {
		return
	}
	n := len(z.items)
	i := int(min(cur, uint64(n)))
	end := min(i+int(o.count), n)
	var out []zitem
	for ; i < end; i++ {
		if o.match == nil || globMatch(o.match, z.items[i].member, false) {
			out = append(out, z.items[i])
		}
	}
	next := 0
	if end < n {
		next = end
	}
	c.out.array(2)
	c.out.bulkInt(int64(next))
	c.out.array(2 * len(out))
	var tmp [32]byte
	for _, it := range out {
		c.out.bulk(it.member)
		c.out.bulk(appendFloat(tmp[:0], it.score))
	}
}

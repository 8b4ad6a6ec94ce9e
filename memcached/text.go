package memcached

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/hotgrid/hotgrid/cache"
	"github.com/hotgrid/hotgrid/security/authz"
)

// Text protocol limits, as memcached has them.
const (
	maxTokens  = 24   // tokens on a command line (MAX_TOKENS)
	maxKeyLen  = 250  // KEY_MAX_LENGTH
	maxLineLen = 2048 // a line without a newline past this is refused
)

// Fixed replies.
var (
	rStored     = []byte("STORED\r\n")
	rNotStored  = []byte("NOT_STORED\r\n")
	rExists     = []byte("EXISTS\r\n")
	rNotFound   = []byte("NOT_FOUND\r\n")
	rDeleted    = []byte("DELETED\r\n")
	rTouched    = []byte("TOUCHED\r\n")
	rEnd        = []byte("END\r\n")
	rOK         = []byte("OK\r\n")
	rError      = []byte("ERROR\r\n")
	rCRLF       = []byte("\r\n")
	rBadFormat  = []byte("CLIENT_ERROR bad command line format\r\n")
	rBadChunk   = []byte("CLIENT_ERROR bad data chunk\r\n")
	rTooLarge   = []byte("SERVER_ERROR object too large for cache\r\n")
	rNonNumeric = []byte("CLIENT_ERROR cannot increment or decrement non-numeric value\r\n")
	rBadDelta   = []byte("CLIENT_ERROR invalid numeric delta argument\r\n")
	rBadExptime = []byte("CLIENT_ERROR invalid exptime argument\r\n")
	rLineLong   = []byte("CLIENT_ERROR line too long\r\n")
	rBadDelete  = []byte("CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]\r\n")
	rOutOfMem   = []byte("SERVER_ERROR out of memory storing object\r\n")
)

// textRequest answers the command at the start of buf and returns the bytes
// it consumed, 0 if the command is not complete yet.
func (c *conn) textRequest(ctx context.Context, buf []byte) (int, error) {
	nl := bytes.IndexByte(buf, '\n')
	if nl < 0 {
		if len(buf) > maxLineLen && (!isGetLine(buf) || len(buf) > c.srv.opts.MaxItemSize) {
			// memcached closes such a connection; say why first.
			c.out = append(c.out, rLineLong...)
			return len(buf), errQuit
		}
		return 0, nil
	}
	line := buf[:nl]
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	n, err := c.textCommand(ctx, line, buf[nl+1:])
	if n < 0 {
		return 0, nil
	}
	return nl + 1 + n, err
}

// isGetLine reports whether a long line is a multi-key get, which memcached
// lets grow past the line limit.
func isGetLine(b []byte) bool {
	for len(b) > 0 && b[0] == ' ' {
		b = b[1:]
	}
	return bytes.HasPrefix(b, []byte("get ")) || bytes.HasPrefix(b, []byte("gets "))
}

// tokenize splits line on spaces into c.toks and returns the number of
// tokens, maxTokens+1 if there are more than fit.
func (c *conn) tokenize(line []byte) int {
	n := 0
	i := 0
	for i < len(line) {
		for i < len(line) && line[i] == ' ' {
			i++
		}
		if i == len(line) {
			break
		}
		j := i
		for j < len(line) && line[j] != ' ' {
			j++
		}
		if n == maxTokens {
			return maxTokens + 1
		}
		c.toks[n] = line[i:j]
		n++
		i = j
	}
	return n
}

// textCommand executes one command line. data is the input after the line;
// it returns how much of data the command consumed, or -1 if it needs more.
func (c *conn) textCommand(ctx context.Context, line, data []byte) (int, error) {
	n := c.tokenize(line)
	if n == 0 {
		c.out = append(c.out, rError...)
		return 0, nil
	}
	if !c.authenticated() {
		return c.textAuth(ctx, n, data)
	}
	ctx = c.runContext(ctx)
	switch string(c.toks[0]) {
	case "get":
		c.textGet(ctx, line, n, false, false)
	case "gets":
		c.textGet(ctx, line, n, true, false)
	case "gat":
		c.textGet(ctx, line, n, false, true)
	case "gats":
		c.textGet(ctx, line, n, true, true)
	case "set":
		return c.textStore(ctx, opSet, false, n, data)
	case "add":
		return c.textStore(ctx, opAdd, false, n, data)
	case "replace":
		return c.textStore(ctx, opReplace, false, n, data)
	case "append":
		return c.textStore(ctx, opAppend, false, n, data)
	case "prepend":
		return c.textStore(ctx, opPrepend, false, n, data)
	case "cas":
		return c.textStore(ctx, opSet, true, n, data)
	case "delete":
		c.textDelete(ctx, n)
	case "incr":
		c.textArith(ctx, opIncr, n)
	case "decr":
		c.textArith(ctx, opDecr, n)
	case "touch":
		c.textTouch(ctx, n)
	case "flush_all":
		c.textFlush(ctx, n)
	case "version":
		c.out = append(c.out, "VERSION "+Version+"\r\n"...)
	case "verbosity":
		c.textVerbosity(n)
	case "stats":
		c.textStats(ctx, n)
	case "quit":
		return 0, errQuit
	case "mn":
		c.ctr.cmdMeta++
		c.out = append(c.out, "MN\r\n"...)
	case "mg":
		c.metaGet(ctx, n)
	case "ms":
		return c.metaSet(ctx, n, data)
	case "md":
		c.metaDelete(ctx, n)
	case "ma":
		c.metaArith(ctx, n)
	case "me":
		c.metaDebug(ctx, n)
	default:
		c.out = append(c.out, rError...)
	}
	return 0, nil
}

// noreply reports whether the last of n tokens is "noreply".
func (c *conn) noreply(n int) bool {
	return n > 1 && n <= maxTokens && string(c.toks[n-1]) == "noreply"
}

// serverError answers an error from the cache.
func (c *conn) serverError(err error) {
	if errors.Is(err, cache.ErrContainerFull) {
		c.out = append(c.out, rOutOfMem...)
		return
	}
	if errors.Is(err, authz.ErrDenied) || errors.Is(err, authz.ErrUnauthenticated) {
		c.out = append(c.out, "CLIENT_ERROR "...)
		c.out = appendLine(c.out, err.Error())
		c.out = append(c.out, rCRLF...)
		return
	}
	c.out = append(c.out, "SERVER_ERROR "...)
	c.out = appendLine(c.out, err.Error())
	c.out = append(c.out, rCRLF...)
}

// appendLine appends s with CR and LF replaced, so an error text cannot
// break the framing.
func appendLine(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if ch == '\r' || ch == '\n' {
			ch = ' '
		}
		b = append(b, ch)
	}
	return b
}

// textGet answers get, gets, gat and gats. Keys are read from the line
// itself, so a multi-get may hold more keys than the token array.
func (c *conn) textGet(ctx context.Context, line []byte, n int, withCAS, touch bool) {
	if n < 2 {
		c.out = append(c.out, rError...)
		return
	}
	mark := len(c.out)
	rest := skipToken(line) // after the command
	var exp expiry
	if touch {
		tok := c.toks[1]
		exptime, ok := parseInt(tok)
		if !ok {
			c.out = append(c.out, rBadExptime...)
			return
		}
		exp = toExpiry(exptime)
		rest = skipToken(rest)
	}
	cc, err := c.cache()
	if err != nil {
		c.serverError(err)
		return
	}
	for {
		key, more := nextToken(rest)
		if key == nil {
			break
		}
		rest = more
		if len(key) > maxKeyLen {
			c.out = append(c.out[:mark], rBadFormat...)
			return
		}
		var e cache.Entry
		var ok bool
		if touch {
			c.ctr.cmdTouch++
			c.op = op{kind: opTouch, expSet: true, exp: exp}
			e, ok, err = c.run(ctx, cc, key)
			if ok {
				c.ctr.touchHits++
			} else if c.op.res == resStored {
				// Touched with a past exptime: removed, so not returned.
				c.ctr.touchHits++
			} else {
				c.ctr.touchMisses++
			}
		} else {
			e, ok, err = cc.Get(ctx, key)
		}
		if err != nil {
			c.out = c.out[:mark]
			c.serverError(err)
			return
		}
		c.ctr.cmdGet++
		if !ok {
			c.ctr.getMisses++
			continue
		}
		c.ctr.getHits++
		c.out = appendValue(c.out, key, &e, withCAS)
	}
	c.out = append(c.out, rEnd...)
}

// appendValue appends a VALUE line and its data block.
func appendValue(b, key []byte, e *cache.Entry, withCAS bool) []byte {
	b = append(b, "VALUE "...)
	b = append(b, key...)
	b = append(b, ' ')
	b = strconv.AppendUint(b, uint64(e.Meta.Flags), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(len(e.Value)), 10)
	if withCAS {
		b = append(b, ' ')
		b = strconv.AppendUint(b, uint64(e.Meta.Version), 10)
	}
	b = append(b, rCRLF...)
	b = append(b, e.Value...)
	return append(b, rCRLF...)
}

// skipToken returns line after its first space-separated token.
func skipToken(line []byte) []byte {
	_, rest := nextToken(line)
	return rest
}

// nextToken returns the first space-separated token of b (nil if none) and
// what follows it.
func nextToken(b []byte) (tok, rest []byte) {
	i := 0
	for i < len(b) && b[i] == ' ' {
		i++
	}
	if i == len(b) {
		return nil, nil
	}
	j := i
	for j < len(b) && b[j] != ' ' {
		j++
	}
	return b[i:j], b[j:]
}

// textStore answers set, add, replace, append, prepend and cas.
func (c *conn) textStore(ctx context.Context, kind opKind, isCAS bool, n int, data []byte) (int, error) {
	want := 5
	if isCAS {
		want = 6
	}
	if n != want && n != want+1 {
		c.out = append(c.out, rError...)
		return 0, nil
	}
	noreply := c.noreply(n)
	key := c.toks[1]
	flags, ok1 := parseUint(c.toks[2], 32)
	exptime, ok2 := parseInt(c.toks[3])
	vlen, ok3 := parseInt(c.toks[4])
	var cas uint64
	ok4 := true
	if isCAS {
		cas, ok4 = parseUint(c.toks[5], 64)
	}
	if len(key) > maxKeyLen || !ok1 || !ok2 || !ok3 || !ok4 || vlen < 0 {
		c.reply(noreply, rBadFormat)
		return 0, nil
	}
	need := int(vlen) + 2
	if int(vlen) > c.srv.opts.MaxItemSize {
		c.ctr.storeTooLarge++
		c.reply(noreply, rTooLarge)
		if kind == opSet && !isCAS {
			// As memcached: a failed set must not leave stale data.
			if cc, err := c.cache(); err == nil {
				cc.Remove(ctx, key, cache.Write{})
			}
		}
		if len(data) >= need {
			return need, nil
		}
		c.swallow = need - len(data)
		return len(data), nil
	}
	if len(data) < need {
		return -1, nil
	}
	if data[vlen] != '\r' || data[vlen+1] != '\n' {
		c.reply(noreply, rBadChunk)
		return need, nil
	}
	c.ctr.cmdSet++
	cc, err := c.cache()
	if err != nil {
		c.serverError(err)
		return need, nil
	}
	if isCAS && cas == 0 {
		// cas 0 never matches a stored item.
		cas = 1<<64 - 1
	}
	c.op = op{kind: kind, value: data[:vlen], flags: uint32(flags), expSet: true, exp: toExpiry(exptime), cas: cas}
	if _, _, err := c.run(ctx, cc, key); err != nil {
		c.serverError(err)
		return need, nil
	}
	res := c.op.res
	if isCAS {
		switch res {
		case resStored:
			c.ctr.casHits++
		case resExists:
			c.ctr.casBadval++
		case resNotFound:
			c.ctr.casMisses++
		}
	}
	switch res {
	case resStored:
		c.ctr.totalItems++
		c.reply(noreply, rStored)
	case resNotStored:
		c.reply(noreply, rNotStored)
	case resExists:
		c.reply(noreply, rExists)
	case resNotFound:
		c.reply(noreply, rNotFound)
	}
	return need, nil
}

// reply appends r unless the command asked for no reply; memcached's
// noreply silences errors too.
func (c *conn) reply(noreply bool, r []byte) {
	if !noreply {
		c.out = append(c.out, r...)
	}
}

func (c *conn) textDelete(ctx context.Context, n int) {
	if n < 2 || n > 4 {
		c.out = append(c.out, rError...)
		return
	}
	noreply := c.noreply(n)
	if n > 2 {
		holdZero := string(c.toks[2]) == "0"
		valid := (n == 3 && (holdZero || noreply)) || (n == 4 && holdZero && noreply)
		if !valid {
			c.out = append(c.out, rBadDelete...)
			return
		}
	}
	key := c.toks[1]
	if len(key) > maxKeyLen {
		c.reply(noreply, rBadFormat)
		return
	}
	cc, err := c.cache()
	if err != nil {
		c.serverError(err)
		return
	}
	_, ok, err := cc.Remove(ctx, key, cache.Write{})
	switch {
	case err != nil:
		c.serverError(err)
	case ok:
		c.ctr.deleteHits++
		c.reply(noreply, rDeleted)
	default:
		c.ctr.deleteMisses++
		c.reply(noreply, rNotFound)
	}
}

func (c *conn) textArith(ctx context.Context, kind opKind, n int) {
	if n != 3 && n != 4 {
		c.out = append(c.out, rError...)
		return
	}
	noreply := c.noreply(n)
	key := c.toks[1]
	if len(key) > maxKeyLen {
		c.reply(noreply, rBadFormat)
		return
	}
	delta, ok := parseUint(c.toks[2], 64)
	if !ok {
		c.reply(noreply, rBadDelta)
		return
	}
	cc, err := c.cache()
	if err != nil {
		c.serverError(err)
		return
	}
	c.op = op{kind: kind, delta: delta}
	if _, _, err := c.run(ctx, cc, key); err != nil {
		c.serverError(err)
		return
	}
	hit := c.op.res == resStored || c.op.res == resNonNumeric
	switch {
	case kind == opIncr && hit:
		c.ctr.incrHits++
	case kind == opIncr:
		c.ctr.incrMisses++
	case hit:
		c.ctr.decrHits++
	default:
		c.ctr.decrMisses++
	}
	switch c.op.res {
	case resNotFound:
		c.reply(noreply, rNotFound)
	case resNonNumeric:
		c.reply(noreply, rNonNumeric)
	default:
		if !noreply {
			c.out = strconv.AppendUint(c.out, c.op.num, 10)
			c.out = append(c.out, rCRLF...)
		}
	}
}

func (c *conn) textTouch(ctx context.Context, n int) {
	if n != 3 && n != 4 {
		c.out = append(c.out, rError...)
		return
	}
	noreply := c.noreply(n)
	key := c.toks[1]
	if len(key) > maxKeyLen {
		c.reply(noreply, rBadFormat)
		return
	}
	exptime, ok := parseInt(c.toks[2])
	if !ok {
		c.reply(noreply, rBadExptime)
		return
	}
	cc, err := c.cache()
	if err != nil {
		c.serverError(err)
		return
	}
	c.ctr.cmdTouch++
	c.op = op{kind: opTouch, expSet: true, exp: toExpiry(exptime)}
	if _, _, err := c.run(ctx, cc, key); err != nil {
		c.serverError(err)
		return
	}
	if c.op.res == resStored {
		c.ctr.touchHits++
		c.reply(noreply, rTouched)
	} else {
		c.ctr.touchMisses++
		c.reply(noreply, rNotFound)
	}
}

func (c *conn) textFlush(ctx context.Context, n int) {
	if n > 3 {
		c.out = append(c.out, rError...)
		return
	}
	noreply := c.noreply(n)
	var delay int64
	plain := 1
	if noreply {
		plain = 2
	}
	if n != plain {
		exptime, ok := parseInt(c.toks[1])
		if !ok {
			c.reply(noreply, rBadExptime)
			return
		}
		delay = exptime
		if delay > thirtyDays {
			delay -= time.Now().Unix()
		}
	}
	cc, err := c.cache()
	if err != nil {
		c.serverError(err)
		return
	}
	c.ctr.cmdFlush++
	if err := c.srv.flushAll(ctx, cc, delay); err != nil {
		c.serverError(err)
		return
	}
	c.reply(noreply, rOK)
}

func (c *conn) textVerbosity(n int) {
	if n != 2 && n != 3 {
		c.out = append(c.out, rError...)
		return
	}
	noreply := c.noreply(n)
	if _, ok := parseUint(c.toks[1], 32); !ok {
		c.reply(noreply, rBadFormat)
		return
	}
	c.reply(noreply, rOK)
}

func (c *conn) textStats(ctx context.Context, n int) {
	if cc, err := c.cache(); err == nil {
		if err := cache.Authorize(ctx, cc, authz.Monitor); err != nil {
			c.serverError(err)
			return
		}
	}
	var stats []stat
	if n == 1 {
		cc, _ := c.cache()
		c.srv.stats.add(&c.ctr)
		stats = c.srv.generalStats(ctx, cc)
	} else {
		switch string(c.toks[1]) {
		case "reset":
			c.ctr = counters{}
			c.srv.stats.reset()
			c.out = append(c.out, "RESET\r\n"...)
			return
		case "settings":
			stats = c.srv.settingsStats()
		case "items":
			cc, _ := c.cache()
			stats = c.srv.itemsStats(ctx, cc)
		case "slabs":
			stats = c.srv.slabsStats()
		case "sizes":
			stats = []stat{{"sizes_status", "disabled"}}
		case "conns":
		default:
			c.out = append(c.out, rError...)
			return
		}
	}
	for _, s := range stats {
		c.out = append(c.out, "STAT "...)
		c.out = append(c.out, s.name...)
		c.out = append(c.out, ' ')
		c.out = append(c.out, s.value...)
		c.out = append(c.out, rCRLF...)
	}
	c.out = append(c.out, rEnd...)
}

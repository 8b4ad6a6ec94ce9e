package resp

import (
	"context"
	"strings"
)

// handler executes one command; args[0] is the command name as sent.
type handler func(c *conn, ctx context.Context, args [][]byte)

// Command flags.
const (
	flagWrite    = 1 << iota // changes data
	flagReadonly             // reads data only
	flagPubSub               // allowed in RESP2 subscribed mode
	flagNoQueue              // runs at once inside MULTI
	flagBlocking             // may block the client
	flagAdmin                // server administration
	flagFast                 // O(1) or O(log n)
	flagNoKeys               // for COMMAND: no key arguments
	flagPush                 // starts pushing messages to the client
)

// command describes one command: Redis arity (positive: exact, negative:
// at least; the name counts), flags and key positions for COMMAND.
type command struct {
	name                      string
	arity                     int
	flags                     int
	firstKey, lastKey, keyStp int
	fn                        handler
}

// commandTable is built once; it is read-only afterwards.
var commandTable map[string]*command

// commandNames is the set of command names, for Detect.
var commandNames map[string]struct{}

func init() {
	cmds := []*command{
		// Connection.
		{"ping", -1, flagFast | flagPubSub | flagNoKeys, 0, 0, 0, cmdPing},
		{"echo", 2, flagFast | flagNoKeys, 0, 0, 0, cmdEcho},
		{"quit", -1, flagFast | flagPubSub | flagNoQueue | flagNoKeys, 0, 0, 0, cmdQuit},
		{"reset", 1, flagFast | flagPubSub | flagNoQueue | flagNoKeys, 0, 0, 0, cmdReset},
		{"select", 2, flagFast | flagNoKeys, 0, 0, 0, cmdSelect},
		{"hello", -1, flagFast | flagNoKeys, 0, 0, 0, cmdHello},
		{"auth", -2, flagFast | flagNoKeys, 0, 0, 0, cmdAuth},
		{"client", -2, flagNoKeys, 0, 0, 0, cmdClient},
		{"readonly", 1, flagFast | flagNoKeys, 0, 0, 0, cmdReadonly},
		{"readwrite", 1, flagFast | flagNoKeys, 0, 0, 0, cmdReadwrite},
		// Server.
		{"command", -1, flagNoKeys, 0, 0, 0, cmdCommand},
		{"info", -1, flagNoKeys, 0, 0, 0, cmdInfo},
		{"config", -2, flagAdmin | flagNoKeys, 0, 0, 0, cmdConfig},
		{"dbsize", 1, flagReadonly | flagFast | flagNoKeys, 0, 0, 0, cmdDBSize},
		{"flushdb", -1, flagWrite | flagNoKeys, 0, 0, 0, cmdFlushDB},
		{"flushall", -1, flagWrite | flagNoKeys, 0, 0, 0, cmdFlushAll},
		{"time", 1, flagFast | flagNoKeys, 0, 0, 0, cmdTime},
		{"memory", -2, flagReadonly, 2, 2, 1, cmdMemory},
		{"module", -2, flagAdmin | flagNoKeys, 0, 0, 0, cmdModule},
		{"lastsave", 1, flagFast | flagNoKeys, 0, 0, 0, cmdLastSave},
		{"save", 1, flagAdmin | flagNoKeys, 0, 0, 0, cmdOK},
		{"bgsave", -1, flagAdmin | flagNoKeys, 0, 0, 0, cmdBgSave},
		{"wait", 3, flagNoKeys, 0, 0, 0, cmdWait},
		{"cluster", -2, flagNoKeys, 0, 0, 0, cmdCluster},
		// Strings.
		{"get", 2, flagReadonly | flagFast, 1, 1, 1, cmdGet},
		{"set", -3, flagWrite, 1, 1, 1, cmdSet},
		{"setnx", 3, flagWrite | flagFast, 1, 1, 1, cmdSetNX},
		{"setex", 4, flagWrite, 1, 1, 1, cmdSetEX},
		{"psetex", 4, flagWrite, 1, 1, 1, cmdPSetEX},
		{"getset", 3, flagWrite | flagFast, 1, 1, 1, cmdGetSet},
		{"getdel", 2, flagWrite | flagFast, 1, 1, 1, cmdGetDel},
		{"getex", -2, flagWrite | flagFast, 1, 1, 1, cmdGetEx},
		{"mget", -2, flagReadonly | flagFast, 1, -1, 1, cmdMGet},
		{"mset", -3, flagWrite, 1, -1, 2, cmdMSet},
		{"msetnx", -3, flagWrite, 1, -1, 2, cmdMSetNX},
		{"incr", 2, flagWrite | flagFast, 1, 1, 1, cmdIncr},
		{"decr", 2, flagWrite | flagFast, 1, 1, 1, cmdDecr},
		{"incrby", 3, flagWrite | flagFast, 1, 1, 1, cmdIncrBy},
		{"decrby", 3, flagWrite | flagFast, 1, 1, 1, cmdDecrBy},
		{"incrbyfloat", 3, flagWrite | flagFast, 1, 1, 1, cmdIncrByFloat},
		{"append", 3, flagWrite | flagFast, 1, 1, 1, cmdAppend},
		{"strlen", 2, flagReadonly | flagFast, 1, 1, 1, cmdStrlen},
		{"setrange", 4, flagWrite, 1, 1, 1, cmdSetRange},
		{"getrange", 4, flagReadonly, 1, 1, 1, cmdGetRange},
		{"substr", 4, flagReadonly, 1, 1, 1, cmdGetRange},
		{"lcs", -3, flagReadonly, 1, 2, 1, cmdLCS},
		// Keys.
		{"del", -2, flagWrite, 1, -1, 1, cmdDel},
		{"unlink", -2, flagWrite | flagFast, 1, -1, 1, cmdDel},
		{"exists", -2, flagReadonly | flagFast, 1, -1, 1, cmdExists},
		{"expire", -3, flagWrite | flagFast, 1, 1, 1, cmdExpire},
		{"pexpire", -3, flagWrite | flagFast, 1, 1, 1, cmdExpire},
		{"expireat", -3, flagWrite | flagFast, 1, 1, 1, cmdExpire},
		{"pexpireat", -3, flagWrite | flagFast, 1, 1, 1, cmdExpire},
		{"expiretime", 2, flagReadonly | flagFast, 1, 1, 1, cmdExpireTime},
		{"pexpiretime", 2, flagReadonly | flagFast, 1, 1, 1, cmdExpireTime},
		{"ttl", 2, flagReadonly | flagFast, 1, 1, 1, cmdTTL},
		{"pttl", 2, flagReadonly | flagFast, 1, 1, 1, cmdTTL},
		{"persist", 2, flagWrite | flagFast, 1, 1, 1, cmdPersist},
		{"touch", -2, flagReadonly | flagFast, 1, -1, 1, cmdExists},
		{"keys", 2, flagReadonly | flagNoKeys, 0, 0, 0, cmdKeys},
		{"scan", -2, flagReadonly | flagNoKeys, 0, 0, 0, cmdScan},
		{"randomkey", 1, flagReadonly | flagNoKeys, 0, 0, 0, cmdRandomKey},
		{"type", 2, flagReadonly | flagFast, 1, 1, 1, cmdType},
		{"rename", 3, flagWrite, 1, 2, 1, cmdRename},
		{"renamenx", 3, flagWrite | flagFast, 1, 2, 1, cmdRename},
		{"copy", -3, flagWrite, 1, 2, 1, cmdCopy},
		// Hashes.
		{"hset", -4, flagWrite | flagFast, 1, 1, 1, cmdHSet},
		{"hmset", -4, flagWrite | flagFast, 1, 1, 1, cmdHSet},
		{"hsetnx", 4, flagWrite | flagFast, 1, 1, 1, cmdHSetNX},
		{"hget", 3, flagReadonly | flagFast, 1, 1, 1, cmdHGet},
		{"hmget", -3, flagReadonly | flagFast, 1, 1, 1, cmdHMGet},
		{"hdel", -3, flagWrite | flagFast, 1, 1, 1, cmdHDel},
		{"hlen", 2, flagReadonly | flagFast, 1, 1, 1, cmdHLen},
		{"hexists", 3, flagReadonly | flagFast, 1, 1, 1, cmdHExists},
		{"hkeys", 2, flagReadonly, 1, 1, 1, cmdHKeys},
		{"hvals", 2, flagReadonly, 1, 1, 1, cmdHVals},
		{"hgetall", 2, flagReadonly, 1, 1, 1, cmdHGetAll},
		{"hincrby", 4, flagWrite | flagFast, 1, 1, 1, cmdHIncrBy},
		{"hincrbyfloat", 4, flagWrite | flagFast, 1, 1, 1, cmdHIncrByFloat},
		{"hstrlen", 3, flagReadonly | flagFast, 1, 1, 1, cmdHStrlen},
		{"hrandfield", -2, flagReadonly, 1, 1, 1, cmdHRandField},
		{"hscan", -3, flagReadonly, 1, 1, 1, cmdHScan},
		// Lists.
		{"lpush", -3, flagWrite | flagFast, 1, 1, 1, cmdPush},
		{"rpush", -3, flagWrite | flagFast, 1, 1, 1, cmdPush},
		{"lpushx", -3, flagWrite | flagFast, 1, 1, 1, cmdPush},
		{"rpushx", -3, flagWrite | flagFast, 1, 1, 1, cmdPush},
		{"lpop", -2, flagWrite | flagFast, 1, 1, 1, cmdPop},
		{"rpop", -2, flagWrite | flagFast, 1, 1, 1, cmdPop},
		{"llen", 2, flagReadonly | flagFast, 1, 1, 1, cmdLLen},
		{"lrange", 4, flagReadonly, 1, 1, 1, cmdLRange},
		{"lindex", 3, flagReadonly, 1, 1, 1, cmdLIndex},
		{"lset", 4, flagWrite, 1, 1, 1, cmdLSet},
		{"lrem", 4, flagWrite, 1, 1, 1, cmdLRem},
		{"ltrim", 4, flagWrite, 1, 1, 1, cmdLTrim},
		{"linsert", 5, flagWrite, 1, 1, 1, cmdLInsert},
		{"lpos", -3, flagReadonly, 1, 1, 1, cmdLPos},
		{"lmove", 5, flagWrite, 1, 2, 1, cmdLMove},
		{"rpoplpush", 3, flagWrite, 1, 2, 1, cmdLMove},
		{"lmpop", -4, flagWrite, 0, 0, 0, cmdLMPop},
		{"blpop", -3, flagWrite | flagBlocking, 1, -2, 1, cmdBPop},
		{"brpop", -3, flagWrite | flagBlocking, 1, -2, 1, cmdBPop},
		{"blmove", 6, flagWrite | flagBlocking, 1, 2, 1, cmdLMove},
		{"brpoplpush", 4, flagWrite | flagBlocking, 1, 2, 1, cmdLMove},
		{"blmpop", -5, flagWrite | flagBlocking, 0, 0, 0, cmdLMPop},
		// Sets.
		{"sadd", -3, flagWrite | flagFast, 1, 1, 1, cmdSAdd},
		{"srem", -3, flagWrite | flagFast, 1, 1, 1, cmdSRem},
		{"smembers", 2, flagReadonly, 1, 1, 1, cmdSMembers},
		{"sismember", 3, flagReadonly | flagFast, 1, 1, 1, cmdSIsMember},
		{"smismember", -3, flagReadonly | flagFast, 1, 1, 1, cmdSMIsMember},
		{"scard", 2, flagReadonly | flagFast, 1, 1, 1, cmdSCard},
		{"spop", -2, flagWrite | flagFast, 1, 1, 1, cmdSPop},
		{"srandmember", -2, flagReadonly, 1, 1, 1, cmdSRandMember},
		{"smove", 4, flagWrite | flagFast, 1, 2, 1, cmdSMove},
		{"sinter", -2, flagReadonly, 1, -1, 1, cmdSetOp},
		{"sunion", -2, flagReadonly, 1, -1, 1, cmdSetOp},
		{"sdiff", -2, flagReadonly, 1, -1, 1, cmdSetOp},
		{"sinterstore", -3, flagWrite, 1, -1, 1, cmdSetOp},
		{"sunionstore", -3, flagWrite, 1, -1, 1, cmdSetOp},
		{"sdiffstore", -3, flagWrite, 1, -1, 1, cmdSetOp},
		{"sintercard", -3, flagReadonly, 0, 0, 0, cmdSInterCard},
		{"sscan", -3, flagReadonly, 1, 1, 1, cmdSScan},
		// Sorted sets.
		{"zadd", -4, flagWrite | flagFast, 1, 1, 1, cmdZAdd},
		{"zincrby", 4, flagWrite | flagFast, 1, 1, 1, cmdZIncrBy},
		{"zcard", 2, flagReadonly | flagFast, 1, 1, 1, cmdZCard},
		{"zcount", 4, flagReadonly | flagFast, 1, 1, 1, cmdZCount},
		{"zlexcount", 4, flagReadonly | flagFast, 1, 1, 1, cmdZLexCount},
		{"zscore", 3, flagReadonly | flagFast, 1, 1, 1, cmdZScore},
		{"zmscore", -3, flagReadonly | flagFast, 1, 1, 1, cmdZMScore},
		{"zrank", -3, flagReadonly | flagFast, 1, 1, 1, cmdZRank},
		{"zrevrank", -3, flagReadonly | flagFast, 1, 1, 1, cmdZRank},
		{"zrem", -3, flagWrite | flagFast, 1, 1, 1, cmdZRem},
		{"zrange", -4, flagReadonly, 1, 1, 1, cmdZRange},
		{"zrangestore", -5, flagWrite, 1, 2, 1, cmdZRange},
		{"zrevrange", -4, flagReadonly, 1, 1, 1, cmdZRange},
		{"zrangebyscore", -4, flagReadonly, 1, 1, 1, cmdZRange},
		{"zrevrangebyscore", -4, flagReadonly, 1, 1, 1, cmdZRange},
		{"zrangebylex", -4, flagReadonly, 1, 1, 1, cmdZRange},
		{"zrevrangebylex", -4, flagReadonly, 1, 1, 1, cmdZRange},
		{"zremrangebyrank", 4, flagWrite, 1, 1, 1, cmdZRemRange},
		{"zremrangebyscore", 4, flagWrite, 1, 1, 1, cmdZRemRange},
		{"zremrangebylex", 4, flagWrite, 1, 1, 1, cmdZRemRange},
		{"zpopmin", -2, flagWrite | flagFast, 1, 1, 1, cmdZPop},
		{"zpopmax", -2, flagWrite | flagFast, 1, 1, 1, cmdZPop},
		{"zunionstore", -4, flagWrite, 1, 1, 1, cmdZStore},
		{"zinterstore", -4, flagWrite, 1, 1, 1, cmdZStore},
		{"zdiffstore", -4, flagWrite, 1, 1, 1, cmdZStore},
		{"zunion", -3, flagReadonly, 0, 0, 0, cmdZStore},
		{"zinter", -3, flagReadonly, 0, 0, 0, cmdZStore},
		{"zdiff", -3, flagReadonly, 0, 0, 0, cmdZStore},
		{"zrandmember", -2, flagReadonly, 1, 1, 1, cmdZRandMember},
		{"zscan", -3, flagReadonly, 1, 1, 1, cmdZScan},
		// Pub/sub.
		{"publish", 3, flagFast | flagNoKeys, 0, 0, 0, cmdPublish},
		{"subscribe", -2, flagPubSub | flagPush | flagNoKeys, 0, 0, 0, cmdSubscribe},
		{"psubscribe", -2, flagPubSub | flagPush | flagNoKeys, 0, 0, 0, cmdSubscribe},
		{"unsubscribe", -1, flagPubSub | flagNoKeys, 0, 0, 0, cmdUnsubscribe},
		{"punsubscribe", -1, flagPubSub | flagNoKeys, 0, 0, 0, cmdUnsubscribe},
		{"pubsub", -2, flagNoKeys, 0, 0, 0, cmdPubSub},
		// Transactions.
		{"multi", 1, flagFast | flagNoQueue | flagNoKeys, 0, 0, 0, cmdMulti},
		{"exec", 1, flagNoQueue | flagNoKeys, 0, 0, 0, cmdExec},
		{"discard", 1, flagFast | flagNoQueue | flagNoKeys, 0, 0, 0, cmdDiscard},
		{"watch", -2, flagFast | flagNoQueue, 1, -1, 1, cmdWatch},
		{"unwatch", 1, flagFast | flagNoQueue | flagNoKeys, 0, 0, 0, cmdUnwatch},
	}
	commandTable = make(map[string]*command, len(cmds))
	commandNames = make(map[string]struct{}, len(cmds))
	for _, cmd := range cmds {
		commandTable[cmd.name] = cmd
		commandNames[cmd.name] = struct{}{}
	}
}

// Error replies, worded as Redis 7 words them.
const (
	errWrongType  = "WRONGTYPE Operation against a key holding the wrong kind of value"
	errNotInt     = "ERR value is not an integer or out of range"
	errNotFloat   = "ERR value is not a valid float"
	errSyntax     = "ERR syntax error"
	errOverflow   = "ERR increment or decrement would overflow"
	errNoSuchKey  = "ERR no such key"
	errIndexRange = "ERR index out of range"
	errNotPos     = "ERR value is out of range, must be positive"
	errTimeout    = "ERR timeout is not a float or out of range"
	errNegTimeout = "ERR timeout is negative"
)

// lookup finds the command named name (any case) without allocating.
func (c *conn) lookup(name []byte) *command {
	if len(name) > maxNameLen {
		return nil
	}
	return commandTable[string(lower(c.namebuf[:0], name))]
}

// execute runs one command, or queues it inside MULTI.
func (c *conn) execute(ctx context.Context, args [][]byte) {
	c.ncmds++
	cmd := c.lookup(args[0])
	if cmd == nil {
		c.multiErr = c.multi
		c.out.err(unknownCommand(args))
		return
	}
	if (cmd.arity > 0 && len(args) != cmd.arity) || len(args) < -cmd.arity {
		c.multiErr = c.multi
		c.out.err("ERR wrong number of arguments for '" + cmd.name + "' command")
		return
	}
	if !c.authenticated() && !allowedBeforeAuth(cmd.name) {
		c.multiErr = c.multi
		c.out.err(errNoAuth)
		return
	}
	if c.out.proto == 2 && (len(c.subs) > 0 || len(c.psubs) > 0) && cmd.flags&flagPubSub == 0 {
		c.out.err("ERR Can't execute '" + cmd.name + "': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context")
		return
	}
	if c.multi && cmd.flags&flagNoQueue == 0 {
		q := make([][]byte, len(args))
		for i, a := range args {
			q[i] = append([]byte(nil), a...)
		}
		c.queued = append(c.queued, q)
		c.out.simple("QUEUED")
		return
	}
	if c.inLoop && !c.inExec && c.needsGoroutine(cmd) {
		c.toGoroutine = true
		c.ncmds--
		return
	}
	if !c.inExec {
		c.lockShared()
	}
	c.lastCmd = cmd.name
	c.curCmd.Store(cmd)
	cmd.fn(c, c.runContext(ctx), args)
}

// unknownCommand formats Redis 7's reply to an unknown command.
func unknownCommand(args [][]byte) string {
	var list []byte
	for _, a := range args[1:] {
		if len(list) >= 128 {
			break
		}
		list = append(list, '\'')
		list = append(list, trunc(a, 128-len(list))...)
		list = append(list, '\'', ' ')
	}
	return sanitize("ERR unknown command '" + string(trunc(args[0], 128)) + "', with args beginning with: " + string(list))
}

func trunc(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

// sanitize replaces line breaks, which would break the reply framing.
func sanitize(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' {
			return ' '
		}
		return r
	}, s)
}

// subcommandError formats Redis' reply to an unknown subcommand.
func subcommandError(cmd string, sub []byte) string {
	return sanitize("ERR unknown subcommand '" + string(trunc(sub, 128)) + "'. Try " + strings.ToUpper(cmd) + " HELP.")
}

// arityError formats Redis' wrong-arity reply for a command or subcommand
// ("config|get").
func arityError(name string) string {
	return "ERR wrong number of arguments for '" + name + "' command"
}

// eq reports whether b equals the lower-case word s, ignoring case.
func eq(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

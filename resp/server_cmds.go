package resp

import (
	"context"
	"fmt"
	"net"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hotgrid/hotgrid/cache"
)

func cmdPing(c *conn, ctx context.Context, args [][]byte) {
	if len(args) > 2 {
		c.out.err(arityError("ping"))
		return
	}
	if c.out.proto == 2 && (len(c.subs) > 0 || len(c.psubs) > 0) {
		c.out.array(2)
		c.out.bulkString("pong")
		if len(args) == 2 {
			c.out.bulk(args[1])
		} else {
			c.out.bulkString("")
		}
		return
	}
	if len(args) == 2 {
		c.out.bulk(args[1])
		return
	}
	c.out.simple("PONG")
}

func cmdEcho(c *conn, ctx context.Context, args [][]byte) { c.out.bulk(args[1]) }

func cmdQuit(c *conn, ctx context.Context, args [][]byte) {
	c.out.ok()
	c.quit = true
}

func cmdOK(c *conn, ctx context.Context, args [][]byte) { c.out.ok() }

func cmdReset(c *conn, ctx context.Context, args [][]byte) {
	c.discard()
	c.unwatch()
	if len(c.subs) > 0 || len(c.psubs) > 0 {
		c.srv.pubsub.unsubscribeAll(c)
		c.subs, c.psubs = nil, nil
	}
	c.setProto(2)
	c.infoMu.Lock()
	c.db, c.name = 0, ""
	c.infoMu.Unlock()
	c.cc = nil
	c.readonly = false
	c.out.simple("RESET")
}

func (c *conn) setProto(p int) {
	c.out.proto = p
	c.proto.Store(int32(p))
}

func cmdSelect(c *conn, ctx context.Context, args [][]byte) {
	n, ok := parseInt(args[1])
	if !ok || n < math32Min || n > math32Max {
		c.out.err(errNotInt)
		return
	}
	cc, err := c.srv.database(ctx, int(n))
	if err != nil {
		c.out.err(c.databaseErrorReply(err))
		return
	}
	c.infoMu.Lock()
	c.db = int(n)
	c.infoMu.Unlock()
	c.cc, c.ccGen = cc, c.srv.mgr.Generation()
	c.out.ok()
}

const (
	math32Min = -1 << 31
	math32Max = 1<<31 - 1
)

func cmdAuth(c *conn, ctx context.Context, args [][]byte) {
	var e string
	switch len(args) {
	case 2:
		e = c.authenticate(ctx, nil, args[1])
	case 3:
		e = c.authenticate(ctx, args[1], args[2])
	default:
		c.out.err(errSyntax)
		return
	}
	if e != "" {
		c.out.err(e)
		return
	}
	c.out.ok()
}

func cmdHello(c *conn, ctx context.Context, args [][]byte) {
	proto := c.out.proto
	if len(args) > 1 {
		n, ok := parseInt(args[1])
		if !ok {
			c.out.err("ERR Protocol version is not an integer or out of range")
			return
		}
		if n < 2 || n > 3 {
			c.out.err("NOPROTO unsupported protocol version")
			return
		}
		proto = int(n)
	}
	var name []byte
	setName := false
	for i := 2; i < len(args); i++ {
		switch {
		case eq(args[i], "auth") && i+2 < len(args):
			if e := c.authenticate(ctx, args[i+1], args[i+2]); e != "" {
				c.out.err(e)
				return
			}
			i += 2
		case eq(args[i], "setname") && i+1 < len(args):
			name, setName = args[i+1], true
			if !validClientName(name) {
				c.out.err("ERR Client names cannot contain spaces, newlines or special characters.")
				return
			}
			i++
		default:
			c.out.err(sanitize("ERR Syntax error in HELLO option '" + string(args[i]) + "'"))
			return
		}
	}
	if !c.authenticated() {
		c.out.err(errNoAuthHello)
		return
	}
	if setName {
		c.infoMu.Lock()
		c.name = string(name)
		c.infoMu.Unlock()
	}
	c.setProto(proto)
	c.out.mapLen(7)
	c.out.bulkString("server")
	c.out.bulkString("redis")
	c.out.bulkString("version")
	c.out.bulkString(RedisVersion)
	c.out.bulkString("proto")
	c.out.int(int64(proto))
	c.out.bulkString("id")
	c.out.int(c.id)
	c.out.bulkString("mode")
	c.out.bulkString("standalone")
	c.out.bulkString("role")
	c.out.bulkString("master")
	c.out.bulkString("modules")
	c.out.array(0)
}

func validClientName(b []byte) bool {
	for _, ch := range b {
		if ch < '!' || ch > '~' {
			return false
		}
	}
	return true
}

func cmdReadonly(c *conn, ctx context.Context, args [][]byte) {
	c.readonly = true
	c.out.ok()
}

func cmdReadwrite(c *conn, ctx context.Context, args [][]byte) {
	c.readonly = false
	c.out.ok()
}

// clientLine formats one CLIENT LIST / CLIENT INFO line.
func (c *conn) clientLine(self *conn) string {
	c.infoMu.Lock()
	name, lib, ver, db := c.name, c.libName, c.libVer, c.db
	nsub, npsub, multi := c.nsub, c.npsub, c.nmulti
	user := c.user
	c.infoMu.Unlock()
	if user == "" {
		user = "default"
	}
	cmd := "NULL"
	if p := c.curCmd.Load(); p != nil {
		cmd = p.name
	}
	if c == self {
		cmd = "client|" + strings.ToLower(self.subName)
	}
	flags := "N"
	if nsub+npsub > 0 {
		flags = "P"
	}
	if multi >= 0 {
		flags = "x"
	}
	now := time.Now()
	return fmt.Sprintf("id=%d addr=%s laddr=%s fd=8 name=%s age=%d idle=%d flags=%s db=%d sub=%d psub=%d ssub=0 multi=%d qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=%d rbp=0 obl=0 oll=0 omem=0 tot-mem=0 events=r cmd=%s user=%s redir=-1 resp=%d lib-name=%s lib-ver=%s\n",
		c.id, addrString(c.nc.RemoteAddr()), addrString(c.nc.LocalAddr()), name,
		int64(now.Sub(c.created).Seconds()), int64(now.Sub(time.UnixMilli(c.lastActive.Load())).Seconds()),
		flags, db, nsub, npsub, multi, minReadBuf, cmd, user, c.proto.Load(), lib, ver)
}

func addrString(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.String()
}

func cmdClient(c *conn, ctx context.Context, args [][]byte) {
	sub := args[1]
	c.subName = string(lower(nil, sub))
	arity := func(ok bool) bool {
		if !ok {
			c.out.err(arityError("client|" + c.subName))
		}
		return ok
	}
	switch c.subName {
	case "id":
		if arity(len(args) == 2) {
			c.out.int(c.id)
		}
	case "setname":
		if !arity(len(args) == 3) {
			return
		}
		if !validClientName(args[2]) {
			c.out.err("ERR Client names cannot contain spaces, newlines or special characters.")
			return
		}
		c.infoMu.Lock()
		c.name = string(args[2])
		c.infoMu.Unlock()
		c.out.ok()
	case "getname":
		if !arity(len(args) == 2) {
			return
		}
		if c.name == "" {
			c.out.null()
		} else {
			c.out.bulkString(c.name)
		}
	case "setinfo":
		if !arity(len(args) == 4) {
			return
		}
		v := string(args[3])
		if !validClientName(args[3]) && v != "" {
			c.out.err("ERR " + strings.ToLower(string(args[2])) + " cannot contain spaces, newlines or special characters.")
			return
		}
		c.infoMu.Lock()
		switch {
		case eq(args[2], "lib-name"):
			c.libName = v
		case eq(args[2], "lib-ver"):
			c.libVer = v
		default:
			c.infoMu.Unlock()
			c.out.err(sanitize("ERR Unrecognized option '" + string(args[2]) + "'"))
			return
		}
		c.infoMu.Unlock()
		c.out.ok()
	case "info":
		if arity(len(args) == 2) {
			c.out.verbatim([]byte(c.clientLine(c)))
		}
	case "list":
		var ids []int64
		for i := 2; i < len(args); i++ {
			switch {
			case eq(args[i], "type") && i+1 < len(args):
				i++
			case eq(args[i], "id") && i+1 < len(args):
				for i++; i < len(args); i++ {
					n, ok := parseInt(args[i])
					if !ok || n <= 0 {
						c.out.err("ERR Invalid client ID")
						return
					}
					ids = append(ids, n)
				}
			default:
				c.out.err(errSyntax)
				return
			}
		}
		var b strings.Builder
		for _, o := range c.srv.connections() {
			if ids != nil && !slices.Contains(ids, o.id) {
				continue
			}
			b.WriteString(o.clientLine(c))
		}
		c.out.verbatim([]byte(b.String()))
	case "kill":
		clientKill(c, args)
	case "unblock":
		if len(args) < 3 || len(args) > 4 {
			arity(false)
			return
		}
		id, ok := parseInt(args[2])
		if !ok {
			c.out.err(errNotInt)
			return
		}
		withErr := len(args) == 4 && eq(args[3], "error")
		if len(args) == 4 && !withErr && !eq(args[3], "timeout") {
			c.out.err("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
			return
		}
		for _, o := range c.srv.connections() {
			if o.id == id && o.blocked.Load() {
				if withErr {
					o.unblockErr.Store(true)
				}
				o.unblocked.Store(true)
				o.wake()
				c.out.int(1)
				return
			}
		}
		c.out.int(0)
	case "pause", "unpause", "no-evict", "no-touch":
		c.out.ok()
	case "reply":
		if arity(len(args) == 3) {
			if eq(args[2], "on") {
				c.out.ok()
			} else {
				c.out.err("ERR CLIENT REPLY OFF and SKIP are not supported")
			}
		}
	case "getredir":
		c.out.int(-1)
	case "tracking", "caching", "trackinginfo":
		c.out.err("ERR client-side caching is not supported")
	case "help":
		lines := []string{
			"CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
			"GETNAME", "SETNAME <name>", "SETINFO <option> <value>", "ID", "INFO",
			"LIST [TYPE (NORMAL|MASTER|REPLICA|PUBSUB)] [ID <id> [<id> ...]]",
			"KILL <ip:port> | KILL <option> <value> [<option> <value> [...]]",
			"UNBLOCK <clientid> [TIMEOUT|ERROR]", "PAUSE <timeout>", "UNPAUSE", "REPLY (ON|OFF|SKIP)",
			"HELP",
		}
		c.out.array(len(lines))
		for _, l := range lines {
			c.out.simple(l)
		}
	default:
		c.out.err(subcommandError("client", sub))
	}
}

func clientKill(c *conn, args [][]byte) {
	if len(args) == 3 {
		// Old form: CLIENT KILL addr:port.
		for _, o := range c.srv.connections() {
			if addrString(o.nc.RemoteAddr()) == string(args[2]) {
				o.kill()
				c.out.ok()
				return
			}
		}
		c.out.err("ERR No such client")
		return
	}
	if len(args)%2 != 0 {
		c.out.err(errSyntax)
		return
	}
	var id int64
	var addr, laddr, user string
	skipme := true
	for i := 2; i < len(args); i += 2 {
		v := args[i+1]
		switch {
		case eq(args[i], "id"):
			n, ok := parseInt(v)
			if !ok || n <= 0 {
				c.out.err("ERR client-id should be greater than 0")
				return
			}
			id = n
		case eq(args[i], "addr"):
			addr = string(v)
		case eq(args[i], "laddr"):
			laddr = string(v)
		case eq(args[i], "user"):
			user = string(v)
		case eq(args[i], "type"), eq(args[i], "maxage"):
		case eq(args[i], "skipme"):
			switch {
			case eq(v, "yes"):
				skipme = true
			case eq(v, "no"):
				skipme = false
			default:
				c.out.err(errSyntax)
				return
			}
		default:
			c.out.err(errSyntax)
			return
		}
	}
	n := int64(0)
	for _, o := range c.srv.connections() {
		if (id != 0 && o.id != id) || (addr != "" && addrString(o.nc.RemoteAddr()) != addr) ||
			(laddr != "" && addrString(o.nc.LocalAddr()) != laddr) || (user != "" && user != "default") {
			continue
		}
		if o == c && skipme {
			continue
		}
		if o == c {
			c.quit = true
		} else {
			o.kill()
		}
		n++
	}
	c.out.int(n)
}

// kill closes another connection (CLIENT KILL).
func (c *conn) kill() {
	c.killed.Store(true)
	c.wake()
	c.nc.Close()
}

func cmdCommand(c *conn, ctx context.Context, args [][]byte) {
	if len(args) == 1 {
		names := make([]string, 0, len(commandTable))
		for n := range commandTable {
			names = append(names, n)
		}
		slices.Sort(names)
		c.out.array(len(names))
		for _, n := range names {
			c.commandInfo(commandTable[n])
		}
		return
	}
	sub := string(lower(nil, args[1]))
	switch sub {
	case "count":
		c.out.int(int64(len(commandTable)))
	case "info":
		if len(args) == 2 {
			cmdCommand(c, ctx, args[:1])
			return
		}
		c.out.array(len(args) - 2)
		for _, a := range args[2:] {
			if cmd := c.lookup(a); cmd != nil {
				c.commandInfo(cmd)
			} else {
				c.out.nullArray()
			}
		}
	case "docs":
		// Documentation is optional; redis-cli copes with an empty reply.
		c.out.mapLen(0)
	case "list":
		names := make([]string, 0, len(commandTable))
		for n := range commandTable {
			names = append(names, n)
		}
		slices.Sort(names)
		c.out.array(len(names))
		for _, n := range names {
			c.out.bulkString(n)
		}
	case "getkeys":
		if len(args) < 3 {
			c.out.err(arityError("command|getkeys"))
			return
		}
		cmd := c.lookup(args[2])
		if cmd == nil {
			c.out.err("ERR Invalid command specified")
			return
		}
		rest := args[2:]
		if cmd.firstKey == 0 {
			c.out.err("ERR The command has no key arguments")
			return
		}
		last := cmd.lastKey
		if last < 0 {
			last = len(rest) + last
		}
		var keys [][]byte
		for i := cmd.firstKey; i <= last && i < len(rest); i += max(cmd.keyStp, 1) {
			keys = append(keys, rest[i])
		}
		c.out.array(len(keys))
		for _, k := range keys {
			c.out.bulk(k)
		}
	case "help":
		c.out.array(1)
		c.out.simple("COMMAND [COUNT|INFO|DOCS|LIST|GETKEYS]")
	default:
		c.out.err(subcommandError("command", args[1]))
	}
}

// commandInfo writes a command's COMMAND reply entry (Redis 7's ten
// fields; categories, tips, key specs and subcommands are empty).
func (c *conn) commandInfo(cmd *command) {
	c.out.array(10)
	c.out.bulkString(cmd.name)
	c.out.int(int64(cmd.arity))
	var flags []string
	if cmd.flags&flagWrite != 0 {
		flags = append(flags, "write")
	}
	if cmd.flags&flagReadonly != 0 {
		flags = append(flags, "readonly")
	}
	if cmd.flags&flagAdmin != 0 {
		flags = append(flags, "admin")
	}
	if cmd.flags&flagPubSub != 0 {
		flags = append(flags, "pubsub")
	}
	if cmd.flags&flagBlocking != 0 {
		flags = append(flags, "blocking")
	}
	if cmd.flags&flagFast != 0 {
		flags = append(flags, "fast")
	}
	c.out.set(len(flags))
	for _, f := range flags {
		c.out.simple(f)
	}
	c.out.int(int64(cmd.firstKey))
	c.out.int(int64(cmd.lastKey))
	c.out.int(int64(cmd.keyStp))
	c.out.set(0)
	c.out.set(0)
	c.out.array(0)
	c.out.array(0)
}

// databases returns the RESP databases that exist: index and cache.
func (s *Server) databases() []dbCache {
	var out []dbCache
	for _, n := range s.mgr.Names() {
		cc, err := s.mgr.Cache(n)
		if err != nil {
			continue
		}
		idx := -1
		if n == s.opts.DefaultCache {
			idx = 0
		}
		for _, a := range cc.Config().Aliases {
			if i, err := strconv.Atoi(a); err == nil && i >= 0 {
				idx = i
			}
		}
		if idx >= 0 {
			out = append(out, dbCache{idx, cc})
		}
	}
	slices.SortFunc(out, func(a, b dbCache) int { return a.idx - b.idx })
	return out
}

type dbCache struct {
	idx int
	cc  cache.Cache
}

func cmdInfo(c *conn, ctx context.Context, args [][]byte) {
	want := map[string]bool{}
	for _, a := range args[1:] {
		want[string(lower(nil, a))] = true
	}
	all := want["all"] || want["everything"]
	def := len(want) == 0 || want["default"]
	show := func(s string) bool { return all || def || want[s] }
	var b strings.Builder
	section := func(name string) {
		if b.Len() > 0 {
			b.WriteString("\r\n")
		}
		b.WriteString("# " + name + "\r\n")
	}
	kv := func(k string, v any) { fmt.Fprintf(&b, "%s:%v\r\n", k, v) }
	s := c.srv
	up := time.Since(s.start)
	if show("server") {
		section("Server")
		kv("redis_version", RedisVersion)
		kv("redis_git_sha1", "00000000")
		kv("redis_git_dirty", 0)
		kv("redis_build_id", "0")
		kv("redis_mode", "standalone")
		kv("os", runtime.GOOS+" "+runtime.GOARCH)
		kv("arch_bits", 64)
		kv("multiplexing_api", "epoll")
		kv("gcc_version", "0.0.0")
		kv("process_id", os.Getpid())
		kv("process_supervised", "no")
		kv("run_id", s.runID())
		port := 0
		if ta, ok := c.nc.LocalAddr().(*net.TCPAddr); ok {
			port = ta.Port
		}
		kv("tcp_port", port)
		kv("server_time_usec", time.Now().UnixMicro())
		kv("uptime_in_seconds", int64(up.Seconds()))
		kv("uptime_in_days", int64(up.Hours()/24))
		kv("hz", 10)
		kv("configured_hz", 10)
		kv("lru_clock", time.Now().Unix()&(1<<24-1))
		kv("executable", "")
		kv("config_file", "")
		kv("io_threads_active", 0)
		kv("server_name", "hotgrid")
	}
	conns := s.connections()
	if show("clients") {
		section("Clients")
		blocked, pubsub := 0, 0
		for _, o := range conns {
			if o.blocked.Load() {
				blocked++
			}
			o.infoMu.Lock()
			if o.nsub+o.npsub > 0 {
				pubsub++
			}
			o.infoMu.Unlock()
		}
		kv("connected_clients", len(conns))
		kv("cluster_connections", 0)
		kv("maxclients", 10000)
		kv("client_recent_max_input_buffer", 0)
		kv("client_recent_max_output_buffer", 0)
		kv("blocked_clients", blocked)
		kv("tracking_clients", 0)
		kv("pubsub_clients", pubsub)
		kv("clients_in_timeout_table", blocked)
		kv("total_blocking_keys", s.waiters.n.Load())
	}
	if show("memory") {
		section("Memory")
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		kv("used_memory", ms.HeapAlloc)
		kv("used_memory_human", human(ms.HeapAlloc))
		kv("used_memory_rss", ms.Sys)
		kv("used_memory_rss_human", human(ms.Sys))
		kv("used_memory_peak", ms.HeapSys)
		kv("used_memory_peak_human", human(ms.HeapSys))
		var data int64
		for _, d := range s.databases() {
			data += d.cc.Stats().DataMemory
		}
		kv("used_memory_dataset", data)
		kv("total_system_memory", 0)
		kv("maxmemory", 0)
		kv("maxmemory_human", "0B")
		kv("maxmemory_policy", "noeviction")
		kv("mem_fragmentation_ratio", "1.00")
		kv("mem_allocator", "go")
		kv("lazyfree_pending_objects", 0)
	}
	if show("persistence") {
		section("Persistence")
		kv("loading", 0)
		kv("async_loading", 0)
		kv("rdb_changes_since_last_save", 0)
		kv("rdb_bgsave_in_progress", 0)
		kv("rdb_last_save_time", s.start.Unix())
		kv("rdb_last_bgsave_status", "ok")
		kv("aof_enabled", 0)
		kv("aof_rewrite_in_progress", 0)
		kv("aof_last_write_status", "ok")
	}
	dbs := s.databases()
	if show("stats") {
		section("Stats")
		var st cache.Stats
		for _, d := range dbs {
			x := d.cc.Stats()
			st.Hits += x.Hits
			st.Misses += x.Misses
			st.Evictions += x.Evictions
		}
		kv("total_connections_received", s.stats.totalConns.Load())
		kv("total_commands_processed", s.stats.totalCommands.Load())
		kv("instantaneous_ops_per_sec", 0)
		kv("total_net_input_bytes", 0)
		kv("total_net_output_bytes", 0)
		kv("rejected_connections", s.stats.rejected.Load())
		kv("expired_keys", 0)
		kv("evicted_keys", st.Evictions)
		kv("keyspace_hits", st.Hits)
		kv("keyspace_misses", st.Misses)
		kv("pubsub_channels", s.pubsub.numChannels())
		kv("pubsub_patterns", s.pubsub.numPatterns())
		kv("latest_fork_usec", 0)
		kv("total_forks", 0)
		kv("migrate_cached_sockets", 0)
	}
	if show("replication") {
		section("Replication")
		kv("role", "master")
		kv("connected_slaves", 0)
		kv("master_failover_state", "no-failover")
		kv("master_replid", s.runID())
		kv("master_replid2", strings.Repeat("0", 40))
		kv("master_repl_offset", 0)
		kv("second_repl_offset", -1)
		kv("repl_backlog_active", 0)
	}
	if show("cpu") {
		section("CPU")
		sys, user := cpuTimes()
		kv("used_cpu_sys", fmt.Sprintf("%.6f", sys.Seconds()))
		kv("used_cpu_user", fmt.Sprintf("%.6f", user.Seconds()))
	}
	if all || want["modules"] {
		section("Modules")
	}
	if show("errorstats") && !def {
		section("Errorstats")
	}
	if show("cluster") {
		section("Cluster")
		kv("cluster_enabled", 0)
	}
	if show("keyspace") {
		section("Keyspace")
		for _, d := range dbs {
			keys, expires := 0, 0
			eachSegment(ctx, d.cc, 0, func(_ int, es []cache.Entry) bool {
				for _, e := range es {
					keys++
					if e.Meta.Mortal() {
						expires++
					}
				}
				return true
			})
			if keys > 0 {
				fmt.Fprintf(&b, "db%d:keys=%d,expires=%d,avg_ttl=0\r\n", d.idx, keys, expires)
			}
		}
	}
	c.out.verbatim([]byte(b.String()))
}

func (s *Server) runID() string {
	return fmt.Sprintf("%040x", s.start.UnixNano())
}

func human(n uint64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2fG", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.2fM", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.2fK", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%dB", n)
}

// configParams are the parameters CONFIG GET answers, with the values
// tools expect of a server without persistence.
func (s *Server) configParams() map[string]string {
	dir, _ := os.Getwd()
	return map[string]string{
		"save":                        "",
		"appendonly":                  "no",
		"appendfsync":                 "everysec",
		"maxmemory":                   "0",
		"maxmemory-policy":            "noeviction",
		"maxmemory-samples":           "5",
		"databases":                   strconv.Itoa(numDatabases),
		"port":                        "6379",
		"bind":                        "",
		"timeout":                     "0",
		"tcp-keepalive":               "300",
		"maxclients":                  "10000",
		"proto-max-bulk-len":          strconv.Itoa(s.opts.MaxRequestSize),
		"client-query-buffer-limit":   "1073741824",
		"notify-keyspace-events":      "",
		"slowlog-log-slower-than":     "10000",
		"slowlog-max-len":             "128",
		"hz":                          "10",
		"lua-time-limit":              "5000",
		"busy-reply-threshold":        "5000",
		"cluster-enabled":             "no",
		"requirepass":                 "",
		"masterauth":                  "",
		"dir":                         dir,
		"dbfilename":                  "dump.rdb",
		"appendfilename":              "appendonly.aof",
		"loglevel":                    "notice",
		"protected-mode":              "no",
		"io-threads":                  "1",
		"latency-tracking":            "no",
		"list-max-listpack-size":      "-2",
		"hash-max-listpack-entries":   "128",
		"set-max-intset-entries":      "512",
		"zset-max-listpack-entries":   "128",
		"lazyfree-lazy-user-del":      "no",
		"replica-read-only":           "yes",
		"stop-writes-on-bgsave-error": "no",
	}
}

func cmdConfig(c *conn, ctx context.Context, args [][]byte) {
	sub := string(lower(nil, args[1]))
	switch sub {
	case "get":
		if len(args) < 3 {
			c.out.err(arityError("config|get"))
			return
		}
		params := c.srv.configParams()
		c.srv.cfgMu.Lock()
		for k, v := range c.srv.cfgSet {
			params[k] = v
		}
		c.srv.cfgMu.Unlock()
		names := make([]string, 0, len(params))
		for k := range params {
			names = append(names, k)
		}
		slices.Sort(names)
		var hits []string
		for _, n := range names {
			for _, p := range args[2:] {
				if globMatch(p, []byte(n), true) {
					hits = append(hits, n)
					break
				}
			}
		}
		c.out.mapLen(len(hits))
		for _, n := range hits {
			c.out.bulkString(n)
			c.out.bulkString(params[n])
		}
	case "set":
		if len(args) < 4 || len(args)%2 != 0 {
			c.out.err(arityError("config|set"))
			return
		}
		params := c.srv.configParams()
		for i := 2; i < len(args); i += 2 {
			if _, ok := params[string(lower(nil, args[i]))]; !ok {
				c.out.err(sanitize("ERR Unknown option or number of arguments for CONFIG SET - '" + string(args[i]) + "'"))
				return
			}
		}
		c.srv.cfgMu.Lock()
		for i := 2; i < len(args); i += 2 {
			c.srv.cfgSet[string(lower(nil, args[i]))] = string(args[i+1])
		}
		c.srv.cfgMu.Unlock()
		c.out.ok()
	case "resetstat":
		c.out.ok()
	case "rewrite":
		c.out.err("ERR The server is running without a config file")
	case "help":
		c.out.array(1)
		c.out.simple("CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are: GET, SET, RESETSTAT, REWRITE, HELP")
	default:
		c.out.err(subcommandError("config", args[1]))
	}
}

func cmdDBSize(c *conn, ctx context.Context, args [][]byte) {
	cc, ok := c.db0()
	if !ok {
		return
	}
	n, err := cc.Size(ctx)
	if err != nil {
		c.cacheErr(err)
		return
	}
	c.out.int(n)
}

func flushArgs(c *conn, args [][]byte) bool {
	if len(args) > 2 || (len(args) == 2 && !eq(args[1], "async") && !eq(args[1], "sync")) {
		c.out.err(errSyntax)
		return false
	}
	return true
}

func cmdFlushDB(c *conn, ctx context.Context, args [][]byte) {
	if !flushArgs(c, args) {
		return
	}
	cc, ok := c.db0()
	if !ok {
		return
	}
	if err := cc.Clear(ctx); err != nil {
		c.cacheErr(err)
		return
	}
	c.out.ok()
}

func cmdFlushAll(c *conn, ctx context.Context, args [][]byte) {
	if !flushArgs(c, args) {
		return
	}
	for _, d := range c.srv.databases() {
		if err := d.cc.Clear(ctx); err != nil {
			c.cacheErr(err)
			return
		}
	}
	c.out.ok()
}

func cmdTime(c *conn, ctx context.Context, args [][]byte) {
	now := time.Now()
	c.out.array(2)
	c.out.bulkInt(now.Unix())
	c.out.bulkInt(int64(now.Nanosecond() / 1000))
}

func cmdMemory(c *conn, ctx context.Context, args [][]byte) {
	switch {
	case eq(args[1], "usage"):
		if len(args) != 3 && len(args) != 5 {
			c.out.err(errSyntax)
			return
		}
		cc, ok := c.db0()
		if !ok {
			return
		}
		e, found, err := cc.Get(ctx, args[2])
		if err != nil {
			c.cacheErr(err)
			return
		}
		if !found {
			c.out.null()
			return
		}
		c.out.int(int64(len(args[2]) + len(e.Value) + 96))
	case eq(args[1], "doctor"):
		c.out.verbatim([]byte("Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base."))
	case eq(args[1], "malloc-stats"):
		c.out.verbatim([]byte("Stats not supported for the current allocator"))
	case eq(args[1], "purge"):
		runtime.GC()
		c.out.ok()
	case eq(args[1], "stats"):
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		c.out.mapLen(3)
		c.out.bulkString("peak.allocated")
		c.out.int(int64(ms.HeapSys))
		c.out.bulkString("total.allocated")
		c.out.int(int64(ms.HeapAlloc))
		c.out.bulkString("startup.allocated")
		c.out.int(0)
	case eq(args[1], "help"):
		c.out.array(1)
		c.out.simple("MEMORY <subcommand> [<arg> ...]. Subcommands are: USAGE, STATS, DOCTOR, PURGE, MALLOC-STATS, HELP")
	default:
		c.out.err(subcommandError("memory", args[1]))
	}
}

func cmdModule(c *conn, ctx context.Context, args [][]byte) {
	switch {
	case eq(args[1], "list"):
		c.out.array(0)
	case eq(args[1], "help"):
		c.out.array(1)
		c.out.simple("MODULE <subcommand> [<arg> ...]. Subcommands are: LIST, HELP")
	default:
		c.out.err("ERR MODULE LOAD and UNLOAD are not supported")
	}
}

func cmdLastSave(c *conn, ctx context.Context, args [][]byte) { c.out.int(c.srv.start.Unix()) }

func cmdBgSave(c *conn, ctx context.Context, args [][]byte) {
	c.out.simple("Background saving started")
}

func cmdWait(c *conn, ctx context.Context, args [][]byte) {
	if _, ok := parseInt(args[1]); !ok {
		c.out.err(errNotInt)
		return
	}
	if n, ok := parseInt(args[2]); !ok || n < 0 {
		c.out.err("ERR timeout is not an integer or out of range")
		return
	}
	c.out.int(0)
}

func cmdCluster(c *conn, ctx context.Context, args [][]byte) {
	c.out.err("ERR This instance has cluster support disabled")
}

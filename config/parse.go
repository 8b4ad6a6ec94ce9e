package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Load reads an Infinispan server configuration file. The format comes from
// the extension (.xml, .yaml/.yml, .json), else from the content. props
// resolve ${name} expressions (Infinispan's -D overrides).
func Load(path string, props map[string]string) (*Server, []Warning, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("config: %w", err)
	}
	f := FormatAuto
	switch strings.ToLower(filepath.Ext(path)) {
	case ".xml":
		f = FormatXML
	case ".yaml", ".yml":
		f = FormatYAML
	case ".json":
		f = FormatJSON
	}
	return parse(data, f, props, path)
}

// Parse reads a server configuration document.
func Parse(data []byte, f Format, props map[string]string) (*Server, []Warning, error) {
	return parse(data, f, props, "")
}

func parse(data []byte, f Format, props map[string]string, file string) (*Server, []Warning, error) {
	ex := &expander{props: props, file: file}
	root, err := parseTree(data, f, ex)
	if err != nil {
		return nil, nil, wrap(file, err)
	}
	in := &interp{file: file}
	s := &Server{Container: Container{Name: "default"}, Endpoints: Endpoints{MetricsAuth: true}}
	if err := in.root(root, s); err != nil {
		return nil, nil, err
	}
	for _, c := range s.Container.Caches {
		if _, err := s.Container.Resolve(c); err != nil {
			return nil, nil, err
		}
	}
	if d := s.Container.DefaultCache; d != "" && s.Container.find(d) == nil {
		return nil, nil, &Error{File: file, Msg: fmt.Sprintf("default-cache %q is not defined", d)}
	}
	return s, in.warns, nil
}

func wrap(file string, err error) error {
	if _, ok := err.(*Error); ok {
		return err
	}
	return &Error{File: file, Msg: err.Error()}
}

// interp turns an element tree into the model.
type interp struct {
	file  string
	warns []Warning
}

func (in *interp) errf(line int, format string, args ...any) error {
	return &Error{File: in.file, Line: line, Msg: fmt.Sprintf(format, args...)}
}

func (in *interp) warn(line int, format string, args ...any) {
	in.warns = append(in.warns, Warning{Line: line, Msg: fmt.Sprintf(format, args...)})
}

func (in *interp) unsupported(e, parent *element) error {
	return in.errf(e.line, "unsupported element <%s> in <%s>", e.name, parent.name)
}

// attrs reads an element's attributes, remembering which were used so
// that done can refuse the rest.
type attrs struct {
	in   *interp
	e    *element
	used map[string]bool
	err  error
}

func (in *interp) attrs(e *element) *attrs {
	return &attrs{in: in, e: e, used: map[string]bool{}}
}

func (a *attrs) str(name string) (string, bool) {
	a.used[name] = true
	v, ok := a.e.attrs[name]
	return v.value, ok
}

func (a *attrs) line(name string) int {
	if v, ok := a.e.attrs[name]; ok {
		return v.line
	}
	return a.e.line
}

func (a *attrs) fail(name, want string) {
	if a.err == nil {
		v := a.e.attrs[name].value
		a.err = a.in.errf(a.line(name), "attribute %s of <%s>: %q is not %s", name, a.e.name, v, want)
	}
}

func (a *attrs) int(name string, dst *int) bool {
	v, ok := a.str(name)
	if !ok {
		return false
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		a.fail(name, "an integer")
		return false
	}
	*dst = n
	return true
}

func (a *attrs) int64(name string, dst *int64) bool {
	v, ok := a.str(name)
	if !ok {
		return false
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil {
		a.fail(name, "an integer")
		return false
	}
	*dst = n
	return true
}

func (a *attrs) bool(name string, dst *bool) bool {
	v, ok := a.str(name)
	if !ok {
		return false
	}
	b, err := strconv.ParseBool(strings.TrimSpace(v))
	if err != nil {
		a.fail(name, "true or false")
		return false
	}
	*dst = b
	return true
}

// duration reads milliseconds, or a number with a unit (ms, s, m, h, d).
func (a *attrs) duration(name string, dst *time.Duration) bool {
	v, ok := a.str(name)
	if !ok {
		return false
	}
	d, err := parseDuration(v)
	if err != nil {
		a.fail(name, "a duration in milliseconds")
		return false
	}
	*dst = d
	return true
}

func parseDuration(v string) (time.Duration, error) {
	v = strings.TrimSpace(v)
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return -1, nil
		}
		return time.Duration(n) * time.Millisecond, nil
	}
	if strings.HasSuffix(v, "d") {
		n, err := strconv.ParseInt(strings.TrimSuffix(v, "d"), 10, 64)
		return time.Duration(n) * 24 * time.Hour, err
	}
	return time.ParseDuration(v)
}

// ignore accepts attributes that change nothing on hotgrid.
func (a *attrs) ignore(names ...string) {
	for _, n := range names {
		a.used[n] = true
	}
}

// done refuses any attribute not read.
func (a *attrs) done() error {
	if a.err != nil {
		return a.err
	}
	for _, n := range a.e.attrNames() {
		if !a.used[n] && n != "#text" {
			return a.in.errf(a.line(n), "unsupported attribute %s of <%s>", n, a.e.name)
		}
	}
	return nil
}

func (in *interp) root(e *element, s *Server) error {
	switch e.name {
	case "infinispan":
	case "#document":
	default:
		return in.errf(e.line, "unexpected root element <%s>: want <infinispan>", e.name)
	}
	if err := in.attrs(e).done(); err != nil {
		return err
	}
	for _, c := range e.children {
		var err error
		switch c.name {
		case "cache-container":
			err = in.container(c, &s.Container)
		case "server":
			err = in.server(c, s)
		case "jgroups":
			in.warn(c.line, "<jgroups> ignored: this node runs without a cluster transport")
		case "threads":
			in.warn(c.line, "<threads> ignored: hotgrid sizes its own goroutines")
		case "infinispan":
			err = in.root(c, s)
		default:
			err = in.unsupported(c, e)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (in *interp) container(e *element, ctr *Container) error {
	a := in.attrs(e)
	if v, ok := a.str("name"); ok {
		ctr.Name = v
	}
	if v, ok := a.str("default-cache"); ok {
		ctr.DefaultCache = v
	}
	a.bool("statistics", &ctr.Statistics)
	a.ignore("shutdown-hook", "zero-capacity-node", "module")
	if err := a.done(); err != nil {
		return err
	}
	for _, c := range e.children {
		if mode, tmpl, ok := cacheKind(c.name); ok {
			if err := in.addCache(c, "", mode, tmpl, ctr); err != nil {
				return err
			}
			continue
		}
		switch c.name {
		case "caches":
			// JSON/YAML: caches: {name: {distributedCache: {...}}}
			for _, named := range c.children {
				if len(named.children) != 1 {
					return in.errf(named.line, "cache %q must hold exactly one cache definition", named.name)
				}
				def := named.children[0]
				mode, tmpl, ok := cacheKind(def.name)
				if !ok {
					return in.unsupported(def, named)
				}
				if err := in.addCache(def, named.name, mode, tmpl, ctr); err != nil {
					return err
				}
			}
		case "transport":
			in.warn(c.line, "<transport> ignored: this node runs as a single-member cluster")
		case "metrics", "jmx":
			in.warn(c.line, "<%s> ignored", c.name)
		case "global-state":
			in.warn(c.line, "<global-state> ignored: runtime state lives in SERVER_ROOT/data")
		case "serialization":
			in.warn(c.line, "<serialization> ignored: hotgrid stores bytes in the clients' media types")
		case "security":
			auth, err := in.containerSecurity(c)
			if err != nil {
				return err
			}
			ctr.Authorization = auth
		default:
			return in.unsupported(c, e)
		}
	}
	return nil
}

// containerSecurity reads cache-container/security/authorization: the
// role mapper and the roles.
func (in *interp) containerSecurity(e *element) (*Authorization, error) {
	a := in.attrs(e)
	a.ignore("cache-size", "cache-timeout")
	if err := a.done(); err != nil {
		return nil, err
	}
	var auth *Authorization
	for _, c := range e.children {
		if c.name != "authorization" {
			return nil, in.unsupported(c, e)
		}
		auth = &Authorization{}
		a := in.attrs(c)
		a.ignore("audit-logger", "group-only-mapping")
		if err := a.done(); err != nil {
			return nil, err
		}
		for _, r := range c.children {
			switch r.name {
			case "identity-role-mapper", "cluster-role-mapper", "common-name-role-mapper":
				auth.Mapper = strings.TrimSuffix(r.name, "-role-mapper")
			case "role", "roles":
				if err := in.roles(r, auth); err != nil {
					return nil, err
				}
			case "cluster-permission-mapper", "custom-role-mapper", "custom-permission-mapper":
				return nil, in.errf(r.line, "<%s> is not supported", r.name)
			default:
				return nil, in.unsupported(r, c)
			}
		}
	}
	return auth, nil
}

// roles reads role elements (XML) or a roles map (JSON/YAML:
// roles: {name: {permissions: [...]}}).
func (in *interp) roles(r *element, auth *Authorization) error {
	if r.name == "roles" {
		for _, named := range r.children {
			if err := in.role(named, named.name, auth); err != nil {
				return err
			}
		}
		return nil
	}
	return in.role(r, "", auth)
}

func (in *interp) role(r *element, name string, auth *Authorization) error {
	a := in.attrs(r)
	if v, ok := a.str("name"); ok {
		name = v
	}
	perms, _ := a.str("permissions")
	a.ignore("description")
	if err := a.done(); err != nil {
		return err
	}
	for _, c := range r.children { // JSON/YAML list form
		if c.name == "permissions" {
			if v, ok := c.attrs["#text"]; ok {
				perms += " " + v.value
			}
			for _, p := range c.children {
				if v, ok := p.attrs["#text"]; ok {
					perms += " " + v.value
				}
			}
		}
	}
	if name == "" {
		return in.errf(r.line, "a role needs a name")
	}
	auth.Roles = append(auth.Roles, RoleDef{Name: name, Permissions: strings.TrimSpace(perms)})
	return nil
}

// cacheSecurity reads a cache's security/authorization element.
func (in *interp) cacheSecurity(e *element, c *Cache) error {
	for _, ch := range e.children {
		if ch.name != "authorization" {
			return in.unsupported(ch, e)
		}
		a := in.attrs(ch)
		enabled := true
		a.bool("enabled", &enabled)
		c.Authorization.Disabled = !enabled
		if v, ok := a.str("roles"); ok {
			c.Authorization.Roles = strings.Fields(strings.ReplaceAll(v, ",", " "))
		}
		if err := a.done(); err != nil {
			return err
		}
		for _, r := range ch.children { // JSON/YAML: roles: [a, b]
			if r.name != "roles" {
				return in.unsupported(r, ch)
			}
			if v, ok := r.attrs["#text"]; ok {
				c.Authorization.Roles = append(c.Authorization.Roles, strings.Fields(v.value)...)
			}
			for _, x := range r.children {
				if v, ok := x.attrs["#text"]; ok {
					c.Authorization.Roles = append(c.Authorization.Roles, v.value)
				}
			}
		}
	}
	return nil
}

// cacheKind maps a cache element name to its mode and whether it is a
// template.
func cacheKind(name string) (CacheMode, bool, bool) {
	tmpl := strings.HasSuffix(name, "-configuration")
	switch strings.TrimSuffix(name, "-configuration") {
	case "local-cache":
		return ModeLocal, tmpl, true
	case "distributed-cache":
		return ModeDistributed, tmpl, true
	case "replicated-cache":
		return ModeReplicated, tmpl, true
	case "invalidation-cache":
		return ModeInvalidation, tmpl, true
	}
	return 0, false, false
}

func (in *interp) addCache(e *element, name string, mode CacheMode, tmpl bool, ctr *Container) error {
	c, err := in.cache(e, name, mode, tmpl)
	if err != nil {
		return err
	}
	if c.Name == "" {
		return in.errf(e.line, "<%s> needs a name", e.name)
	}
	if ctr.find(c.Name) != nil {
		return in.errf(e.line, "cache %q is defined twice", c.Name)
	}
	if tmpl {
		ctr.Templates = append(ctr.Templates, c)
	} else {
		ctr.Caches = append(ctr.Caches, c)
	}
	return nil
}

// cache reads one cache definition.
func (in *interp) cache(e *element, name string, mode CacheMode, tmpl bool) (*Cache, error) {
	c := NewCache(name, mode)
	c.Template = tmpl
	c.Set = map[string]bool{}
	set := func(path string, ok bool) {
		if ok {
			c.Set[path] = true
		}
	}
	a := in.attrs(e)
	if v, ok := a.str("name"); ok {
		c.Name = v
	}
	if v, ok := a.str("mode"); ok {
		switch strings.ToUpper(v) {
		case "SYNC":
		case "ASYNC":
			c.Async = true
		default:
			a.fail("mode", "SYNC or ASYNC")
		}
		set("mode", true)
	}
	set("owners", a.int("owners", &c.Owners))
	set("segments", a.int("segments", &c.Segments))
	set("statistics", a.bool("statistics", &c.Statistics))
	if v, ok := a.str("configuration"); ok {
		c.Parent = v
	}
	if v, ok := a.str("aliases"); ok {
		c.Aliases = strings.Fields(strings.ReplaceAll(v, ",", " "))
		set("aliases", true)
	}
	a.ignore("capacity-factor", "remote-timeout", "statistics-available", "unreliable-return-values",
		"start", "simple-cache", "key-partitioner", "invalidation-batch-size", "bias-acquisition", "bias-lifespan")
	if _, ok := a.str("l1-lifespan"); ok {
		in.warn(a.line("l1-lifespan"), "l1-lifespan ignored: a single node has no L1 cache")
	}
	if err := a.done(); err != nil {
		return nil, err
	}
	for _, ch := range e.children {
		var err error
		switch ch.name {
		case "encoding":
			err = in.encoding(ch, c)
		case "expiration":
			a := in.attrs(ch)
			set("expiration.lifespan", a.duration("lifespan", &c.Expiration.Lifespan))
			set("expiration.max-idle", a.duration("max-idle", &c.Expiration.MaxIdle))
			set("expiration.interval", a.duration("interval", &c.Expiration.Interval))
			a.ignore("touch")
			err = a.done()
		case "memory":
			err = in.memory(ch, c)
		case "locking":
			a := in.attrs(ch)
			if v, ok := a.str("isolation"); ok {
				c.Locking.Isolation = v
			}
			a.bool("striping", &c.Locking.Striping)
			a.duration("acquire-timeout", &c.Locking.AcquireTimeout)
			a.int("concurrency-level", &c.Locking.ConcurrencyLevel)
			err = a.done()
		case "transaction":
			a := in.attrs(ch)
			if v, ok := a.str("mode"); ok && !strings.EqualFold(v, "NONE") {
				err = in.errf(ch.line, "transaction mode %s is not supported yet", v)
				break
			}
			a.ignore("locking", "auto-commit", "stop-timeout", "transaction-manager-lookup", "complete-timeout", "reaper-interval", "recovery-cache", "notifications")
			err = a.done()
		case "state-transfer", "partition-handling", "query", "hash":
			// Rebalancing and partition settings: accepted, they
			// change nothing on a single node.
		case "indexing":
			a := in.attrs(ch)
			var enabled bool
			a.bool("enabled", &enabled)
			if enabled || len(ch.children) > 0 {
				err = in.errf(ch.line, "indexing is not supported")
				break
			}
			a.ignore("storage", "startup-mode", "indexing-mode", "path")
			err = a.done()
		case "persistence":
			err = in.persistence(ch, c)
			set("persistence", err == nil)
		case "security":
			err = in.cacheSecurity(ch, c)
			set("authorization", err == nil)
		case "backups", "backup-for", "groups", "custom-interceptors":
			err = in.errf(ch.line, "<%s> in a cache is not supported yet", ch.name)
		case "aliases":
			for _, al := range ch.children {
				if v, ok := al.attrs["#text"]; ok {
					c.Aliases = append(c.Aliases, v.value)
				}
			}
			if v, ok := ch.attrs["#text"]; ok {
				c.Aliases = append(c.Aliases, strings.Fields(v.value)...)
			}
			set("aliases", true)
		default:
			err = in.unsupported(ch, e)
		}
		if err != nil {
			return nil, err
		}
	}
	return c, nil
}

func (in *interp) encoding(e *element, c *Cache) error {
	a := in.attrs(e)
	if v, ok := a.str("media-type"); ok {
		c.KeyMediaType, c.ValueMediaType = v, v
		c.Set["encoding.key"], c.Set["encoding.value"] = true, true
	}
	if err := a.done(); err != nil {
		return err
	}
	for _, ch := range e.children {
		a := in.attrs(ch)
		v, ok := a.str("media-type")
		if err := a.done(); err != nil {
			return err
		}
		switch ch.name {
		case "key":
			c.KeyMediaType = v
			c.Set["encoding.key"] = ok
		case "value":
			c.ValueMediaType = v
			c.Set["encoding.value"] = ok
		default:
			return in.unsupported(ch, e)
		}
	}
	return nil
}

func (in *interp) memory(e *element, c *Cache) error {
	a := in.attrs(e)
	if a.int64("max-count", &c.Memory.MaxCount) {
		c.Set["memory.max-count"] = true
	}
	if v, ok := a.str("max-size"); ok {
		n, err := ParseSize(v)
		if err != nil {
			return in.errf(a.line("max-size"), "attribute max-size of <memory>: %v", err)
		}
		c.Memory.MaxSize = n
		c.Set["memory.max-size"] = true
	}
	if v, ok := a.str("when-full"); ok {
		switch w := WhenFull(strings.ToUpper(v)); w {
		case WhenFullNone, WhenFullRemove, WhenFullManual, WhenFullException:
			c.Memory.WhenFull = w
			c.Set["memory.when-full"] = true
		default:
			a.fail("when-full", "NONE, REMOVE, MANUAL or EXCEPTION")
		}
	}
	if v, ok := a.str("storage"); ok {
		c.Memory.Storage = strings.ToUpper(v)
		c.Set["memory.storage"] = true
	}
	if err := a.done(); err != nil {
		return err
	}
	if len(e.children) > 0 {
		return in.errf(e.children[0].line, "legacy memory element <%s> is not supported: use max-count, max-size and when-full attributes", e.children[0].name)
	}
	return nil
}

func (in *interp) persistence(e *element, c *Cache) error {
	p := Persistence{}
	a := in.attrs(e)
	a.bool("passivation", &p.Passivation)
	a.ignore("availability-interval", "connection-attempts", "connection-interval")
	if err := a.done(); err != nil {
		return err
	}
	for _, ch := range e.children {
		st := Store{Element: ch.name, Properties: map[string]string{}}
		switch ch.name {
		case "file-store", "soft-index-file-store":
			st.Kind = StoreFile
		case "string-keyed-jdbc-store":
			st.Kind = StoreStringKeyedDB
			st.Table = Table{Prefix: "ISPN_STRING_TABLE", CreateOnStart: true,
				IDColumn: Column{"ID_COLUMN", "VARCHAR(255)"}, DataColumn: Column{"DATA_COLUMN", "BYTEA"},
				TimeColumn: Column{"TIMESTAMP_COLUMN", "BIGINT"}, SegmentColumn: Column{"SEGMENT_COLUMN", "INT"}}
		case "single-file-store", "table-jdbc-store", "query-jdbc-store", "remote-store", "rocksdb-store", "cluster-loader", "store":
			return in.errf(ch.line, "<%s> is not supported: use file-store, soft-index-file-store or string-keyed-jdbc-store", ch.name)
		default:
			return in.unsupported(ch, e)
		}
		if err := in.store(ch, &st); err != nil {
			return err
		}
		p.Stores = append(p.Stores, st)
	}
	if p.Passivation {
		for _, st := range p.Stores {
			if st.Shared {
				return in.errf(e.line, "passivation cannot be used with a shared store")
			}
		}
	}
	c.Persistence = p
	return nil
}

func (in *interp) store(e *element, st *Store) error {
	a := in.attrs(e)
	if v, ok := a.str("path"); ok {
		st.Path = v
	}
	a.bool("shared", &st.Shared)
	a.bool("preload", &st.Preload)
	a.bool("purge", &st.PurgeOnStartup)
	a.bool("read-only", &st.ReadOnly)
	a.ignore("fetch-state", "transactional", "segmented", "max-batch-size", "dialect", "db-major-version", "db-minor-version",
		"open-files-limit", "compaction-threshold", "name")
	if err := a.done(); err != nil {
		return err
	}
	for _, ch := range e.children {
		a := in.attrs(ch)
		switch {
		case ch.name == "data" && st.Kind == StoreFile:
			if v, ok := a.str("path"); ok {
				st.Path = v
			}
			a.bool("sync-writes", &st.SyncWrites)
			a.ignore("max-file-size")
		case ch.name == "index" && st.Kind == StoreFile:
			a.ignore("path", "segments", "max-queue-length", "min-node-size", "max-node-size")
		case ch.name == "write-behind":
			wb := &WriteBehind{QueueSize: 1024}
			a.int("modification-queue-size", &wb.QueueSize)
			a.bool("fail-silently", &wb.FailSilently)
			a.ignore("thread-pool-size")
			if wb.QueueSize < 1 {
				a.fail("modification-queue-size", "a positive number")
			}
			st.WriteBehind = wb
		case ch.name == "property":
			name, _ := a.str("name")
			if v, ok := ch.attrs["#text"]; ok && name != "" {
				st.Properties[name] = strings.TrimSpace(v.value)
			}
			if v, ok := a.str("value"); ok && name != "" {
				st.Properties[name] = v
			}
			a.ignore("#text")
		case ch.name == "properties": // the JSON and YAML form: {"properties": {"name": "value"}}
			for name, v := range ch.attrs {
				if name != "#text" {
					st.Properties[name] = v.value
					a.ignore(name)
				}
			}
		case ch.name == "connection-pool" && st.Kind == StoreStringKeyedDB:
			st.ConnectionURL, _ = a.str("connection-url")
			st.Username, _ = a.str("username")
			st.Password, _ = a.str("password")
			a.ignore("driver", "properties-file")
		case ch.name == "string-keyed-table" && st.Kind == StoreStringKeyedDB:
			if v, ok := a.str("prefix"); ok {
				st.Table.Prefix = v
			}
			a.bool("create-on-start", &st.Table.CreateOnStart)
			a.bool("drop-on-exit", &st.Table.DropOnExit)
			a.ignore("fetch-size", "batch-size")
			for _, col := range ch.children {
				ca := in.attrs(col)
				var dst *Column
				switch col.name {
				case "id-column":
					dst = &st.Table.IDColumn
				case "data-column":
					dst = &st.Table.DataColumn
				case "timestamp-column":
					dst = &st.Table.TimeColumn
				case "segment-column":
					dst = &st.Table.SegmentColumn
				default:
					return in.unsupported(col, ch)
				}
				if v, ok := ca.str("name"); ok {
					dst.Name = v
				}
				if v, ok := ca.str("type"); ok {
					dst.Type = v
				}
				if err := ca.done(); err != nil {
					return err
				}
			}
		default:
			return in.unsupported(ch, e)
		}
		if err := a.done(); err != nil {
			return err
		}
	}
	if st.Kind == StoreStringKeyedDB && st.ConnectionURL == "" {
		return in.errf(e.line, "<%s> needs <connection-pool connection-url=…>", e.name)
	}
	switch d := st.Properties["durability"]; d {
	case "", "sync", "group", "interval":
	default:
		return in.errf(e.line, "property durability of <%s> must be sync, group or interval, not %q", e.name, d)
	}
	if v, ok := st.Properties["sync-interval"]; ok {
		if _, err := time.ParseDuration(v); err != nil {
			return in.errf(e.line, "property sync-interval of <%s>: %v", e.name, err)
		}
	}
	return nil
}

func (in *interp) server(e *element, s *Server) error {
	if err := in.attrs(e).done(); err != nil {
		return err
	}
	for _, c := range e.children {
		var err error
		switch c.name {
		case "interfaces":
			err = in.interfaces(c, s)
		case "socket-bindings":
			err = in.socketBindings(c, s)
		case "security":
			err = in.security(c, s)
		case "endpoints":
			err = in.endpoints(c, s)
		case "data-sources":
			err = in.errf(c.line, "<data-sources> are not supported yet")
		default:
			err = in.unsupported(c, e)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (in *interp) interfaces(e *element, s *Server) error {
	for _, c := range e.children {
		if c.name != "interface" {
			return in.unsupported(c, e)
		}
		a := in.attrs(c)
		name, _ := a.str("name")
		if err := a.done(); err != nil {
			return err
		}
		iface := Interface{Name: name}
		for _, addr := range c.children {
			switch addr.name {
			case "inet-address":
				a := in.attrs(addr)
				iface.Address, _ = a.str("value")
				if err := a.done(); err != nil {
					return err
				}
			case "loopback":
				iface.Address = "127.0.0.1"
			case "any-address":
				iface.Address = "0.0.0.0"
			default:
				return in.unsupported(addr, c)
			}
		}
		s.Interfaces = append(s.Interfaces, iface)
	}
	return nil
}

func (in *interp) socketBindings(e *element, s *Server) error {
	a := in.attrs(e)
	s.SocketBindings.DefaultInterface, _ = a.str("default-interface")
	a.int("port-offset", &s.SocketBindings.PortOffset)
	if err := a.done(); err != nil {
		return err
	}
	for _, c := range e.children {
		switch c.name {
		case "socket-binding":
			a := in.attrs(c)
			var b SocketBinding
			b.Name, _ = a.str("name")
			a.int("port", &b.Port)
			b.Interface, _ = a.str("interface")
			if err := a.done(); err != nil {
				return err
			}
			s.SocketBindings.Bindings = append(s.SocketBindings.Bindings, b)
		case "multicast-socket-binding":
			in.warn(c.line, "<multicast-socket-binding> ignored: no cluster transport")
		default:
			return in.unsupported(c, e)
		}
	}
	return nil
}

func (in *interp) security(e *element, s *Server) error {
	for _, c := range e.children {
		switch c.name {
		case "security-realms":
			for _, r := range c.children {
				if r.name != "security-realm" {
					return in.unsupported(r, c)
				}
				if err := in.realm(r, s); err != nil {
					return err
				}
			}
		case "credential-stores":
			return in.errf(c.line, "<credential-stores> are not supported yet")
		default:
			return in.unsupported(c, e)
		}
	}
	return nil
}

func (in *interp) realm(e *element, s *Server) error {
	a := in.attrs(e)
	realm := SecurityRealm{}
	realm.Name, _ = a.str("name")
	a.ignore("default-realm", "cache-max-size", "cache-lifespan")
	if err := a.done(); err != nil {
		return err
	}
	for _, c := range e.children {
		switch c.name {
		case "properties-realm":
			pr := &PropertiesRealm{}
			a := in.attrs(c)
			a.ignore("groups-attribute")
			pr.RealmName, _ = a.str("realm-name")
			if err := a.done(); err != nil {
				return err
			}
			for _, f := range c.children {
				a := in.attrs(f)
				path, _ := a.str("path")
				rel, _ := a.str("relative-to")
				switch f.name {
				case "user-properties":
					pr.UsersPath, pr.UsersRelative = path, rel
					a.bool("plain-text", &pr.PlainText)
					if v, ok := a.str("digest-realm-name"); ok {
						pr.RealmName = v
					}
				case "group-properties":
					pr.GroupsPath, pr.GroupsRelative = path, rel
				default:
					return in.unsupported(f, c)
				}
				if err := a.done(); err != nil {
					return err
				}
			}
			realm.Properties = pr
		case "server-identities":
			t, err := in.serverIdentities(c)
			if err != nil {
				return err
			}
			realm.TLS = t
		case "truststore-realm":
			a := in.attrs(c)
			a.ignore("name")
			if err := a.done(); err != nil {
				return err
			}
			realm.TruststoreRealm = true
		case "ldap-realm", "token-realm", "kerberos-realm",
			"local-realm", "distributed-realm", "filesystem-realm", "aggregate-realm", "jdbc-realm":
			return in.errf(c.line, "<%s> is not supported: hotgrid authenticates with properties realms and client certificates", c.name)
		default:
			return in.unsupported(c, e)
		}
	}
	s.SecurityRealms = append(s.SecurityRealms, realm)
	return nil
}

// serverIdentities reads server-identities/ssl: keystore, truststore and
// engine.
func (in *interp) serverIdentities(e *element) (*ServerTLS, error) {
	t := &ServerTLS{}
	for _, c := range e.children {
		if c.name != "ssl" {
			return nil, in.errf(c.line, "<%s> in <server-identities> is not supported: hotgrid has TLS identities only", c.name)
		}
		for _, k := range c.children {
			a := in.attrs(k)
			switch k.name {
			case "keystore":
				t.Keystore.Path, _ = a.str("path")
				t.Keystore.RelativeTo, _ = a.str("relative-to")
				t.KeystorePassword, _ = a.str("password")
				if v, ok := a.str("keystore-password"); ok {
					t.KeystorePassword = v
				}
				t.Alias, _ = a.str("alias")
				a.ignore("key-password", "provider", "type", "generate-self-signed-certificate-host")
				if t.Keystore.Path == "" {
					return nil, in.errf(k.line, "<keystore> needs a path")
				}
			case "truststore":
				t.Truststore.Path, _ = a.str("path")
				t.Truststore.RelativeTo, _ = a.str("relative-to")
				t.TruststorePassword, _ = a.str("password")
				a.ignore("provider", "type")
			case "engine":
				if v, ok := a.str("enabled-protocols"); ok {
					t.Protocols = strings.Fields(strings.ReplaceAll(v, ",", " "))
				}
				a.ignore("enabled-ciphersuites", "enabled-ciphersuites-tls13")
			default:
				return nil, in.unsupported(k, c)
			}
			if err := a.done(); err != nil {
				return nil, err
			}
		}
	}
	if t.Keystore.Path == "" {
		return nil, in.errf(e.line, "<server-identities> needs <ssl><keystore path=…/></ssl>")
	}
	return t, nil
}

func (in *interp) endpoints(e *element, s *Server) error {
	a := in.attrs(e)
	s.Endpoints.SocketBinding, _ = a.str("socket-binding")
	s.Endpoints.SecurityRealm, _ = a.str("security-realm")
	a.bool("require-ssl-client-auth", &s.Endpoints.RequireClientCert)
	a.bool("metrics-auth", &s.Endpoints.MetricsAuth)
	a.ignore("io-threads", "idle-timeout", "receive-buffer-size", "send-buffer-size", "tcp-keepalive", "tcp-nodelay", "admin")
	if err := a.done(); err != nil {
		return err
	}
	for _, c := range e.children {
		if c.name == "endpoint" {
			if err := in.endpoints(c, s); err != nil {
				return err
			}
			continue
		}
		proto, ok := strings.CutSuffix(c.name, "-connector")
		switch proto {
		case "hotrod", "rest", "resp", "memcached":
		default:
			ok = false
		}
		if !ok {
			return in.unsupported(c, e)
		}
		a := in.attrs(c)
		conn := Connector{Protocol: proto}
		conn.Name, _ = a.str("name")
		conn.SocketBinding, _ = a.str("socket-binding")
		conn.Cache, _ = a.str("cache")
		a.ignore("io-threads", "idle-timeout", "tcp-nodelay", "tcp-keepalive", "receive-buffer-size",
			"send-buffer-size", "context-path", "max-content-length", "compression-level", "protocol", "client-encoding",
			"external-host", "external-port", "worker-threads")
		if err := a.done(); err != nil {
			return err
		}
		a.ignore("security-realm")
		for _, ch := range c.children {
			if err := in.connectorChild(ch, c, &conn, s); err != nil {
				return err
			}
		}
		s.Endpoints.Connectors = append(s.Endpoints.Connectors, conn)
	}
	return nil
}

// connectorChild reads a connector's authentication and encryption
// elements.
func (in *interp) connectorChild(ch, parent *element, conn *Connector, s *Server) error {
	a := in.attrs(ch)
	switch ch.name {
	case "authentication":
		a.ignore("security-realm")
		if v, ok := a.str("mechanisms"); ok { // rest-connector
			conn.Mechanisms = strings.Fields(strings.ReplaceAll(v, ",", " "))
		}
		for _, sc := range ch.children {
			sa := in.attrs(sc)
			switch sc.name {
			case "sasl":
				if v, ok := sa.str("mechanisms"); ok {
					conn.Mechanisms = strings.Fields(strings.ReplaceAll(v, ",", " "))
				}
				conn.ServerName, _ = sa.str("server-name")
				if v, ok := sa.str("qop"); ok && !strings.EqualFold(strings.TrimSpace(v), "auth") {
					return in.errf(sc.line, "sasl qop %q is not supported: only auth (use TLS for integrity and confidentiality)", v)
				}
				sa.ignore("strength", "policy")
			default:
				return in.unsupported(sc, ch)
			}
			if err := sa.done(); err != nil {
				return err
			}
		}
	case "encryption":
		var req bool
		if a.bool("require-ssl-client-auth", &req) && req {
			s.Endpoints.RequireClientCert = true
		}
		a.ignore("security-realm", "client-auth")
		for _, sc := range ch.children {
			if sc.name != "sni" {
				return in.unsupported(sc, ch)
			}
			sa := in.attrs(sc)
			var sni SNI
			sni.HostName, _ = sa.str("host-name")
			sni.SecurityRealm, _ = sa.str("security-realm")
			if err := sa.done(); err != nil {
				return err
			}
			s.Endpoints.SNI = append(s.Endpoints.SNI, sni)
		}
	default:
		return in.errf(ch.line, "<%s> in <%s> is not supported", ch.name, parent.name)
	}
	return a.done()
}

// ParseSize reads a byte quantity: a number of bytes, or a number with a
// unit (KB, MB, GB, TB as powers of 1000; KiB, MiB, GiB, TiB as powers of
// 1024).
func ParseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	units := []struct {
		suffix string
		mult   int64
	}{
		{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
		{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"B", 1},
	}
	for _, u := range units {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(num), 10, 64)
			if err != nil || n < 0 {
				return 0, fmt.Errorf("invalid size %q", s)
			}
			return n * u.mult, nil
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("invalid size %q", s)
	}
	return n, nil
}

package config

import (
	_ "embed"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

//go:embed default.xml
var defaultXML []byte

// Default returns the embedded default configuration: a distributed cache
// named "default" on 127.0.0.1:11222 (see default.xml).
func Default() *Server {
	s, _, err := Parse(defaultXML, FormatXML, nil)
	if err != nil {
		panic("config: embedded default.xml: " + err.Error())
	}
	return s
}

// NewCache returns a cache definition with Infinispan's defaults.
func NewCache(name string, mode CacheMode) *Cache {
	return &Cache{
		Name:       name,
		Mode:       mode,
		Owners:     2,
		Segments:   256,
		Expiration: Expiration{Lifespan: -1, MaxIdle: -1, Interval: time.Minute},
		Memory:     Memory{MaxCount: -1, MaxSize: -1},
		Set:        map[string]bool{},
	}
}

// builtins are the templates Infinispan predefines (REST ?template= and
// Lithops use them).
var builtins = map[string]func() *Cache{
	"org.infinispan.LOCAL":             func() *Cache { return NewCache("org.infinispan.LOCAL", ModeLocal) },
	"org.infinispan.DIST_SYNC":         func() *Cache { return NewCache("org.infinispan.DIST_SYNC", ModeDistributed) },
	"org.infinispan.DIST_ASYNC":        func() *Cache { c := NewCache("org.infinispan.DIST_ASYNC", ModeDistributed); c.Async = true; return c },
	"org.infinispan.REPL_SYNC":         func() *Cache { return NewCache("org.infinispan.REPL_SYNC", ModeReplicated) },
	"org.infinispan.REPL_ASYNC":        func() *Cache { c := NewCache("org.infinispan.REPL_ASYNC", ModeReplicated); c.Async = true; return c },
	"org.infinispan.INVALIDATION_SYNC": func() *Cache { return NewCache("org.infinispan.INVALIDATION_SYNC", ModeInvalidation) },
	"org.infinispan.INVALIDATION_ASYNC": func() *Cache {
		c := NewCache("org.infinispan.INVALIDATION_ASYNC", ModeInvalidation)
		c.Async = true
		return c
	},
}

// BuiltinTemplates lists the predefined template names.
func BuiltinTemplates() []string {
	names := make([]string, 0, len(builtins))
	for n := range builtins {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// find returns the cache or template with name, or nil.
func (c *Container) find(name string) *Cache {
	for _, x := range c.Caches {
		if x.Name == name {
			return x
		}
	}
	for _, x := range c.Templates {
		if x.Name == name {
			return x
		}
	}
	return nil
}

// Template returns the effective configuration of a template: a user
// template, a defined cache (Infinispan lets either serve), or a built-in.
func (c *Container) Template(name string) (*Cache, bool) {
	if t := c.find(name); t != nil {
		r, err := c.Resolve(t)
		return r, err == nil
	}
	if b, ok := builtins[name]; ok {
		return b(), true
	}
	return nil, false
}

// Resolve returns the effective configuration of def: its parent template
// chain applied, then what def itself sets. def is not modified.
func (c *Container) Resolve(def *Cache) (*Cache, error) {
	return c.resolve(def, map[string]bool{})
}

func (c *Container) resolve(def *Cache, seen map[string]bool) (*Cache, error) {
	if def.Parent == "" {
		return def.Clone(), nil
	}
	if seen[def.Parent] {
		return nil, fmt.Errorf("cache %q: template cycle through %q", def.Name, def.Parent)
	}
	seen[def.Parent] = true
	var base *Cache
	if p := c.find(def.Parent); p != nil {
		var err error
		if base, err = c.resolve(p, seen); err != nil {
			return nil, err
		}
	} else if b, ok := builtins[def.Parent]; ok {
		base = b()
	} else {
		return nil, fmt.Errorf("cache %q: template %q is not defined", def.Name, def.Parent)
	}
	out := base.Clone()
	out.Name, out.Template, out.Parent = def.Name, def.Template, ""
	out.Mode = def.Mode
	for path := range def.Set {
		copyField(out, def, path)
		out.Set[path] = true
	}
	return out, nil
}

// copyField copies one explicitly set attribute from src to dst.
func copyField(dst, src *Cache, path string) {
	switch path {
	case "mode":
		dst.Async = src.Async
	case "owners":
		dst.Owners = src.Owners
	case "segments":
		dst.Segments = src.Segments
	case "statistics":
		dst.Statistics = src.Statistics
	case "aliases":
		dst.Aliases = append([]string(nil), src.Aliases...)
	case "encoding.key":
		dst.KeyMediaType = src.KeyMediaType
	case "encoding.value":
		dst.ValueMediaType = src.ValueMediaType
	case "expiration.lifespan":
		dst.Expiration.Lifespan = src.Expiration.Lifespan
	case "expiration.max-idle":
		dst.Expiration.MaxIdle = src.Expiration.MaxIdle
	case "expiration.interval":
		dst.Expiration.Interval = src.Expiration.Interval
	case "memory.max-count":
		dst.Memory.MaxCount = src.Memory.MaxCount
	case "memory.max-size":
		dst.Memory.MaxSize = src.Memory.MaxSize
	case "memory.when-full":
		dst.Memory.WhenFull = src.Memory.WhenFull
	case "memory.storage":
		dst.Memory.Storage = src.Memory.Storage
	case "persistence":
		dst.Persistence = src.Persistence.clone()
	case "authorization":
		dst.Authorization = CacheAuthorization{Roles: append([]string(nil), src.Authorization.Roles...), Disabled: src.Authorization.Disabled}
	}
}

// Clone returns a deep copy.
func (c *Cache) Clone() *Cache {
	cp := *c
	cp.Set = maps.Clone(c.Set)
	if cp.Set == nil {
		cp.Set = map[string]bool{}
	}
	cp.Aliases = append([]string(nil), c.Aliases...)
	cp.Persistence = c.Persistence.clone()
	cp.Authorization.Roles = append([]string(nil), c.Authorization.Roles...)
	return &cp
}

func (p Persistence) clone() Persistence {
	out := Persistence{Passivation: p.Passivation}
	for _, st := range p.Stores {
		st.Properties = maps.Clone(st.Properties)
		if st.WriteBehind != nil {
			wb := *st.WriteBehind
			st.WriteBehind = &wb
		}
		out.Stores = append(out.Stores, st)
	}
	return out
}

// Validate checks a cache definition for values that cannot work.
func (c *Cache) Validate() error {
	switch {
	case c.Segments < 1:
		return fmt.Errorf("segments must be at least 1, not %d", c.Segments)
	case c.Owners < 1:
		return fmt.Errorf("owners must be at least 1, not %d", c.Owners)
	case c.Memory.MaxCount > 0 && c.Memory.MaxSize > 0:
		return errors.New("memory: max-count and max-size cannot both be set")
	case c.Memory.WhenFull == WhenFullException && c.Memory.MaxCount <= 0 && c.Memory.MaxSize <= 0:
		return errors.New("memory: when-full=EXCEPTION needs max-count or max-size")
	}
	return nil
}

// ParseCache reads one cache configuration as clients send it (Hot Rod
// @@cache@create, REST POST /rest/v2/caches/{name}): an XML cache element
// (alone or inside <infinispan><cache-container>), JSON
// {"distributed-cache":{…}} or {"name":{"distributed-cache":{…}}}, or the
// YAML equivalents. name applies when the document names no cache.
func ParseCache(name string, doc []byte, props map[string]string) (*Cache, error) {
	ex := &expander{props: props}
	root, err := parseTree(doc, FormatAuto, ex)
	if err != nil {
		return nil, &Error{Msg: err.Error()}
	}
	in := &interp{}
	def, defName, err := findCacheElement(root)
	if err != nil {
		return nil, err
	}
	mode, tmpl, _ := cacheKind(def.name)
	if defName == "" {
		defName = name
	}
	c, err := in.cache(def, defName, mode, tmpl)
	if err != nil {
		return nil, err
	}
	if c.Name == "" {
		c.Name = name
	}
	c.Template = false
	return c, c.Validate()
}

// findCacheElement locates the single cache definition in a document and
// the name its wrapping gives it, if any.
func findCacheElement(root *element) (*element, string, error) {
	if _, _, ok := cacheKind(root.name); ok {
		return root, "", nil
	}
	var found []*element
	var names []string
	var walk func(e *element, name string)
	walk = func(e *element, name string) {
		for _, ch := range e.children {
			if _, _, ok := cacheKind(ch.name); ok {
				found = append(found, ch)
				names = append(names, name)
				continue
			}
			walk(ch, ch.name)
		}
	}
	walk(root, root.name)
	switch len(found) {
	case 0:
		return nil, "", &Error{Line: root.line, Msg: "no cache definition (local-cache, distributed-cache, replicated-cache or invalidation-cache) found"}
	case 1:
		n := names[0]
		switch n {
		case "#document", "infinispan", "cache-container", "caches":
			n = ""
		}
		return found[0], n, nil
	}
	return nil, "", &Error{Line: found[1].line, Msg: "more than one cache definition"}
}

var modeElements = map[CacheMode]string{
	ModeLocal:        "local-cache",
	ModeDistributed:  "distributed-cache",
	ModeReplicated:   "replicated-cache",
	ModeInvalidation: "invalidation-cache",
}

// elementName is the cache's XML element name.
func (c *Cache) elementName() string {
	n := modeElements[c.Mode]
	if c.Template {
		n += "-configuration"
	}
	return n
}

// fields returns the cache's attributes and child elements in document
// order, as (element path, attribute, value) triples, for rendering.
func (c *Cache) attributes() (top [][2]string, enc [][2]string, exp, mem [][2]string) {
	if c.Mode != ModeLocal {
		mode := "SYNC"
		if c.Async {
			mode = "ASYNC"
		}
		top = append(top, [2]string{"mode", mode})
	}
	if c.Mode == ModeDistributed {
		top = append(top, [2]string{"owners", strconv.Itoa(c.Owners)})
	}
	if c.Mode == ModeDistributed || c.Mode == ModeReplicated {
		top = append(top, [2]string{"segments", strconv.Itoa(c.Segments)})
	}
	top = append(top, [2]string{"statistics", strconv.FormatBool(c.Statistics)})
	if len(c.Aliases) > 0 {
		top = append(top, [2]string{"aliases", strings.Join(c.Aliases, " ")})
	}
	if c.KeyMediaType != "" {
		enc = append(enc, [2]string{"key", c.KeyMediaType})
	}
	if c.ValueMediaType != "" {
		enc = append(enc, [2]string{"value", c.ValueMediaType})
	}
	ms := func(d time.Duration) string {
		if d < 0 {
			return "-1"
		}
		return strconv.FormatInt(d.Milliseconds(), 10)
	}
	exp = [][2]string{{"lifespan", ms(c.Expiration.Lifespan)}, {"max-idle", ms(c.Expiration.MaxIdle)}, {"interval", ms(c.Expiration.Interval)}}
	if c.Memory.MaxCount > 0 {
		mem = append(mem, [2]string{"max-count", strconv.FormatInt(c.Memory.MaxCount, 10)})
	}
	if c.Memory.MaxSize > 0 {
		mem = append(mem, [2]string{"max-size", strconv.FormatInt(c.Memory.MaxSize, 10)})
	}
	if c.Memory.WhenFull != "" {
		mem = append(mem, [2]string{"when-full", string(c.Memory.WhenFull)})
	}
	if c.Memory.Storage != "" {
		mem = append(mem, [2]string{"storage", c.Memory.Storage})
	}
	return top, enc, exp, mem
}

// JSON renders the cache in Infinispan's JSON form,
// {"distributed-cache":{"mode":"SYNC",…}}, which ParseCache reads back.
func (c *Cache) JSON() []byte {
	top, enc, exp, mem := c.attributes()
	body := map[string]any{}
	for _, kv := range top {
		body[kv[0]] = jsonValue(kv[1])
	}
	if len(enc) > 0 {
		e := map[string]any{}
		for _, kv := range enc {
			e[kv[0]] = map[string]string{"media-type": kv[1]}
		}
		body["encoding"] = e
	}
	e := map[string]any{}
	for _, kv := range exp {
		e[kv[0]] = jsonValue(kv[1])
	}
	body["expiration"] = e
	if len(mem) > 0 {
		m := map[string]any{}
		for _, kv := range mem {
			m[kv[0]] = jsonValue(kv[1])
		}
		body["memory"] = m
	}
	if len(c.Persistence.Stores) > 0 {
		body["persistence"] = c.Persistence.jsonBody()
	}
	if a := c.Authorization; a.Disabled || len(a.Roles) > 0 {
		auth := map[string]any{"enabled": !a.Disabled}
		if len(a.Roles) > 0 {
			auth["roles"] = a.Roles
		}
		body["security"] = map[string]any{"authorization": auth}
	}
	out, _ := json.Marshal(map[string]any{c.elementName(): body})
	return out
}

// storeAttrs returns a store's own attributes in document order.
func (st *Store) attrs() [][2]string {
	var out [][2]string
	if st.Path != "" {
		out = append(out, [2]string{"path", st.Path})
	}
	for _, kv := range []struct {
		name string
		v    bool
	}{{"shared", st.Shared}, {"preload", st.Preload}, {"purge", st.PurgeOnStartup}, {"read-only", st.ReadOnly}} {
		out = append(out, [2]string{kv.name, strconv.FormatBool(kv.v)})
	}
	return out
}

func (p *Persistence) jsonBody() map[string]any {
	body := map[string]any{"passivation": p.Passivation}
	for _, st := range p.Stores {
		s := map[string]any{}
		for _, kv := range st.attrs() {
			s[kv[0]] = jsonValue(kv[1])
		}
		if st.SyncWrites {
			s["data"] = map[string]any{"sync-writes": true}
		}
		if wb := st.WriteBehind; wb != nil {
			s["write-behind"] = map[string]any{"modification-queue-size": wb.QueueSize, "fail-silently": wb.FailSilently}
		}
		if st.Kind == StoreStringKeyedDB {
			s["connection-pool"] = map[string]any{"connection-url": st.ConnectionURL, "username": st.Username, "password": st.Password}
			t := st.Table
			col := func(c Column) map[string]any { return map[string]any{"name": c.Name, "type": c.Type} }
			s["string-keyed-table"] = map[string]any{"prefix": t.Prefix, "create-on-start": t.CreateOnStart, "drop-on-exit": t.DropOnExit,
				"id-column": col(t.IDColumn), "data-column": col(t.DataColumn), "timestamp-column": col(t.TimeColumn), "segment-column": col(t.SegmentColumn)}
		}
		if len(st.Properties) > 0 {
			s["properties"] = st.Properties
		}
		body[st.Element] = s
	}
	return body
}

func (p *Persistence) xml(b *strings.Builder) {
	fmt.Fprintf(b, "<persistence passivation=%q>", strconv.FormatBool(p.Passivation))
	for _, st := range p.Stores {
		b.WriteString("<" + st.Element)
		for _, kv := range st.attrs() {
			fmt.Fprintf(b, " %s=%q", kv[0], kv[1])
		}
		b.WriteString(">")
		if st.Kind == StoreStringKeyedDB {
			fmt.Fprintf(b, "<connection-pool connection-url=%q username=%q password=%q/>", st.ConnectionURL, st.Username, st.Password)
			t := st.Table
			fmt.Fprintf(b, "<string-keyed-table prefix=%q create-on-start=%q drop-on-exit=%q>", t.Prefix,
				strconv.FormatBool(t.CreateOnStart), strconv.FormatBool(t.DropOnExit))
			for _, c := range []struct {
				el  string
				col Column
			}{{"id-column", t.IDColumn}, {"data-column", t.DataColumn}, {"timestamp-column", t.TimeColumn}, {"segment-column", t.SegmentColumn}} {
				fmt.Fprintf(b, "<%s name=%q type=%q/>", c.el, c.col.Name, c.col.Type)
			}
			b.WriteString("</string-keyed-table>")
		}
		if st.SyncWrites {
			b.WriteString(`<data sync-writes="true"/>`)
		}
		if wb := st.WriteBehind; wb != nil {
			fmt.Fprintf(b, "<write-behind modification-queue-size=\"%d\" fail-silently=%q/>", wb.QueueSize, strconv.FormatBool(wb.FailSilently))
		}
		names := make([]string, 0, len(st.Properties))
		for k := range st.Properties {
			names = append(names, k)
		}
		slices.Sort(names)
		for _, k := range names {
			b.WriteString("<property name=\"")
			xml.EscapeText(b, []byte(k))
			b.WriteString("\">")
			xml.EscapeText(b, []byte(st.Properties[k]))
			b.WriteString("</property>")
		}
		b.WriteString("</" + st.Element + ">")
	}
	b.WriteString("</persistence>")
}

func jsonValue(s string) any {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n
	}
	if b, err := strconv.ParseBool(s); err == nil {
		return b
	}
	return s
}

// XML renders the cache as an Infinispan XML cache element.
func (c *Cache) XML() []byte {
	top, enc, exp, mem := c.attributes()
	var b strings.Builder
	b.WriteString("<" + c.elementName())
	if c.Name != "" {
		fmt.Fprintf(&b, " name=%q", c.Name)
	}
	for _, kv := range top {
		fmt.Fprintf(&b, " %s=%q", kv[0], kv[1])
	}
	b.WriteString(">")
	if len(enc) > 0 {
		b.WriteString("<encoding>")
		for _, kv := range enc {
			fmt.Fprintf(&b, "<%s media-type=%q/>", kv[0], kv[1])
		}
		b.WriteString("</encoding>")
	}
	b.WriteString("<expiration")
	for _, kv := range exp {
		fmt.Fprintf(&b, " %s=%q", kv[0], kv[1])
	}
	b.WriteString("/>")
	if len(mem) > 0 {
		b.WriteString("<memory")
		for _, kv := range mem {
			fmt.Fprintf(&b, " %s=%q", kv[0], kv[1])
		}
		b.WriteString("/>")
	}
	if len(c.Persistence.Stores) > 0 {
		c.Persistence.xml(&b)
	}
	if a := c.Authorization; a.Disabled || len(a.Roles) > 0 {
		fmt.Fprintf(&b, "<security><authorization enabled=%q", strconv.FormatBool(!a.Disabled))
		if len(a.Roles) > 0 {
			fmt.Fprintf(&b, " roles=%q", strings.Join(a.Roles, " "))
		}
		b.WriteString("/></security>")
	}
	b.WriteString("</" + c.elementName() + ">")
	return []byte(b.String())
}

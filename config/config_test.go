package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func load(t *testing.T, name string, props map[string]string) *Server {
	t.Helper()
	s, _, err := Load(filepath.Join("testdata", name), props)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// The same configuration in XML, YAML and JSON gives the same model.
func TestFormatsAgree(t *testing.T) {
	x := load(t, "server.xml", nil)
	for _, f := range []string{"server.yaml", "server.json"} {
		y := load(t, f, nil)
		if !reflect.DeepEqual(x, y) {
			t.Errorf("%s differs from server.xml:\nxml:  %+v\n%s: %+v", f, x, f, y)
		}
	}
}

func TestServerModel(t *testing.T) {
	s := load(t, "server.xml", map[string]string{"session.idle": "5000"})
	ctr := &s.Container
	if ctr.Name != "grid" || ctr.DefaultCache != "orders" || !ctr.Statistics || len(ctr.Caches) != 4 || len(ctr.Templates) != 1 {
		t.Fatalf("container %+v", ctr)
	}
	orders, err := ctr.Resolve(ctr.find("orders"))
	if err != nil {
		t.Fatal(err)
	}
	if orders.Owners != 3 || orders.Segments != 64 || orders.Expiration.Lifespan != time.Minute ||
		orders.Expiration.Interval != 5*time.Second || orders.KeyMediaType != "text/plain" ||
		orders.Memory.MaxCount != 1000 || orders.Memory.WhenFull != WhenFullRemove || orders.Mode != ModeDistributed {
		t.Fatalf("orders %+v", orders)
	}
	sessions := ctr.find("sessions")
	if sessions.Expiration.MaxIdle != 5*time.Second || sessions.Memory.MaxSize != 10_000_000 ||
		sessions.KeyMediaType != "application/x-protostream" || sessions.ValueMediaType != "application/json" {
		t.Fatalf("sessions %+v", sessions)
	}
	if c := ctr.find("catalog"); c.Mode != ModeReplicated || !c.Async {
		t.Fatalf("catalog %+v", c)
	}
	if len(s.Interfaces) != 1 || s.Interfaces[0].Address != "127.0.0.1" || len(s.SocketBindings.Bindings) != 2 ||
		s.Endpoints.SocketBinding != "default" || len(s.Endpoints.Connectors) != 1 ||
		s.Endpoints.Connectors[0].Protocol != "resp" || s.Endpoints.Connectors[0].SocketBinding != "redis" {
		t.Fatalf("server %+v", s)
	}
	r := s.SecurityRealms[0].Properties
	if r == nil || r.UsersPath != "users.properties" || !r.PlainText || r.GroupsRelative != "infinispan.server.config.path" {
		t.Fatalf("realm %+v", r)
	}
}

func TestWarnings(t *testing.T) {
	_, warns, err := Load("testdata/server.xml", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(warns) != 1 || warns[0].Line != 3 || !strings.Contains(warns[0].Msg, "transport") {
		t.Fatalf("warnings %v", warns)
	}
}

func TestErrorsNameTheLine(t *testing.T) {
	tests := []struct {
		doc, want string
	}{
		{"<infinispan>\n<cache-container>\n<local-cache name=\"a\">\n<bogus/>\n</local-cache></cache-container></infinispan>",
			"4: unsupported element <bogus> in <local-cache>"},
		{"<infinispan>\n<cache-container>\n<local-cache name=\"a\" colour=\"red\"/></cache-container></infinispan>",
			"3: unsupported attribute colour of <local-cache>"},
		{"<infinispan>\n<cache-container>\n\n<distributed-cache name=\"a\" owners=\"two\"/></cache-container></infinispan>",
			`4: attribute owners of <distributed-cache>: "two" is not an integer`},
		{"<infinispan><cache-container>\n<local-cache name=\"a\">\n<memory when-full=\"SOMETIMES\"/></local-cache></cache-container></infinispan>",
			"3: attribute when-full of <memory>"},
		{"<infinispan><cache-container>\n<local-cache name=\"a\">\n<persistence>\n<rocksdb-store/></persistence></local-cache></cache-container></infinispan>",
			"4: <rocksdb-store> is not supported"},
		{"infinispan:\n  cacheContainer:\n    caches:\n      a:\n        localCache:\n          colour: red\n",
			"6: unsupported attribute colour of <local-cache>"},
		{"{\"infinispan\": {\n \"cacheContainer\": {\n  \"bogus\": {}\n }}}",
			"3: unsupported element <bogus> in <cache-container>"},
		{"<infinispan><cache-container>\n<local-cache name=\"${missing}\"/></cache-container></infinispan>",
			`2: property "missing" is not set and has no default`},
		{"<infinispan><cache-container default-cache=\"nope\"/></infinispan>", `default-cache "nope" is not defined`},
		{"<infinispan><cache-container><local-cache name=\"a\" configuration=\"b\"/><local-cache-configuration name=\"b\" configuration=\"a\"/></cache-container></infinispan>",
			"cycle"},
	}
	for _, tt := range tests {
		_, _, err := Parse([]byte(tt.doc), FormatAuto, nil)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: error %v, want it to contain %q", tt.doc, err, tt.want)
		}
	}
}

func TestExpressions(t *testing.T) {
	os.Setenv("HOTGRID_TEST_SEGMENTS", "32")
	defer os.Unsetenv("HOTGRID_TEST_SEGMENTS")
	doc := `<infinispan><cache-container><distributed-cache name="${cache.name:dflt}" segments="${env.HOTGRID_TEST_SEGMENTS}" owners="${a.owners,b.owners:${c.owners:1}}"/></cache-container></infinispan>`
	s, _, err := Parse([]byte(doc), FormatXML, map[string]string{"b.owners": "4"})
	if err != nil {
		t.Fatal(err)
	}
	c := s.Container.Caches[0]
	if c.Name != "dflt" || c.Segments != 32 || c.Owners != 4 {
		t.Fatalf("%+v", c)
	}
	s, _, err = Parse([]byte(doc), FormatXML, nil)
	if err != nil || s.Container.Caches[0].Owners != 1 {
		t.Fatalf("nested default: %v %+v", err, s)
	}
}

func TestBuiltinTemplates(t *testing.T) {
	ctr := &Container{}
	for _, n := range BuiltinTemplates() {
		c, ok := ctr.Template(n)
		if !ok || c.Validate() != nil {
			t.Errorf("%s: %v", n, ok)
		}
	}
	c, _ := ctr.Template("org.infinispan.REPL_ASYNC")
	if c.Mode != ModeReplicated || !c.Async {
		t.Fatalf("%+v", c)
	}
	child := NewCache("x", ModeDistributed)
	child.Parent = "org.infinispan.DIST_SYNC"
	child.Expiration.Lifespan = time.Second
	child.Set["expiration.lifespan"] = true
	r, err := ctr.Resolve(child)
	if err != nil || r.Expiration.Lifespan != time.Second || r.Name != "x" {
		t.Fatalf("%+v %v", r, err)
	}
}

func TestParseCacheFormats(t *testing.T) {
	docs := []string{
		`<distributed-cache name="x" mode="SYNC" owners="1"><encoding media-type="text/plain"/><expiration lifespan="1000"/></distributed-cache>`,
		`<infinispan><cache-container><distributed-cache name="x" owners="1"><encoding media-type="text/plain"/><expiration lifespan="1000"/></distributed-cache></cache-container></infinispan>`,
		`{"distributed-cache":{"mode":"SYNC","owners":1,"encoding":{"media-type":"text/plain"},"expiration":{"lifespan":1000}}}`,
		`{"x":{"distributed-cache":{"owners":"1","encoding":{"key":{"media-type":"text/plain"},"value":{"media-type":"text/plain"}},"expiration":{"lifespan":"1000"}}}}`,
		"distributedCache:\n  mode: SYNC\n  owners: 1\n  encoding:\n    mediaType: text/plain\n  expiration:\n    lifespan: 1000\n",
		"x:\n  distributedCache:\n    owners: 1\n    encoding:\n      mediaType: text/plain\n    expiration:\n      lifespan: 1000\n",
	}
	for _, d := range docs {
		c, err := ParseCache("x", []byte(d), nil)
		if err != nil {
			t.Errorf("%s: %v", d, err)
			continue
		}
		if c.Name != "x" || c.Mode != ModeDistributed || c.Owners != 1 || c.KeyMediaType != "text/plain" ||
			c.ValueMediaType != "text/plain" || c.Expiration.Lifespan != time.Second {
			t.Errorf("%s: %+v", d, c)
		}
	}
	if _, err := ParseCache("x", []byte(`{"unknown":{}}`), nil); err == nil {
		t.Error("a document without a cache was accepted")
	}
}

func TestRenderRoundTrip(t *testing.T) {
	c := NewCache("r", ModeDistributed)
	c.Owners, c.Segments, c.Statistics = 1, 128, true
	c.KeyMediaType, c.ValueMediaType = "text/plain", "application/octet-stream"
	c.Expiration.Lifespan, c.Expiration.MaxIdle = 5*time.Second, -1
	c.Memory.MaxCount, c.Memory.WhenFull = 100, WhenFullRemove
	for name, doc := range map[string][]byte{"json": c.JSON(), "xml": c.XML()} {
		back, err := ParseCache("r", doc, nil)
		if err != nil {
			t.Fatalf("%s: %v\n%s", name, err, doc)
		}
		back.Set, c.Set = nil, nil
		if !reflect.DeepEqual(back, c) {
			t.Errorf("%s round trip:\n got %+v\nwant %+v\n%s", name, back, c, doc)
		}
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"100": 100, "400MB": 400e6, "1GB": 1e9, "10KiB": 10240, "2MiB": 2 << 20, "5 KB": 5000} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "MB", "-1GB", "ten"} {
		if _, err := ParseSize(bad); err == nil {
			t.Errorf("ParseSize(%q) accepted", bad)
		}
	}
}

func TestDefault(t *testing.T) {
	s := Default()
	if s.Container.DefaultCache != "default" || len(s.Container.Caches) != 1 || s.Container.Caches[0].Mode != ModeDistributed ||
		s.SocketBindings.Bindings[0].Port != 11222 || s.Interfaces[0].Address != "127.0.0.1" {
		t.Fatalf("%+v", s)
	}
}

func FuzzParse(f *testing.F) {
	for _, n := range []string{"server.xml", "server.yaml", "server.json"} {
		data, _ := os.ReadFile(filepath.Join("testdata", n))
		f.Add(data)
	}
	f.Add([]byte(`{"distributed-cache":{"mode":"SYNC"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		Parse(data, FormatAuto, nil)
		ParseCache("x", data, nil)
	})
}

func TestPersistenceRoundTrip(t *testing.T) {
	docs := map[string]string{
		"xml": `<local-cache name="p"><persistence passivation="true">
  <file-store path="pdata" preload="true" purge="false">
    <data sync-writes="true"/>
    <write-behind modification-queue-size="64"/>
    <property name="durability">group</property>
  </file-store></persistence></local-cache>`,
		"json": `{"local-cache":{"persistence":{"passivation":true,"file-store":{"path":"pdata","preload":true,
  "data":{"sync-writes":true},"write-behind":{"modification-queue-size":64},"properties":{"durability":"group"}}}}}`,
		"yaml": "localCache:\n  persistence:\n    passivation: true\n    fileStore:\n      path: pdata\n      preload: true\n      data:\n        syncWrites: true\n      writeBehind:\n        modificationQueueSize: 64\n      properties:\n        durability: group\n",
	}
	for format, doc := range docs {
		c, err := ParseCache("p", []byte(doc), nil)
		if err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		check := func(where string, c *Cache) {
			p := c.Persistence
			if !p.Passivation || len(p.Stores) != 1 {
				t.Fatalf("%s %s: %+v", format, where, p)
			}
			st := p.Stores[0]
			if st.Kind != StoreFile || st.Path != "pdata" || !st.Preload || !st.SyncWrites ||
				st.WriteBehind == nil || st.WriteBehind.QueueSize != 64 || st.Properties["durability"] != "group" {
				t.Fatalf("%s %s: %+v", format, where, st)
			}
		}
		check("parsed", c)
		for _, back := range [][]byte{c.JSON(), c.XML()} {
			c2, err := ParseCache("p", back, nil)
			if err != nil {
				t.Fatalf("%s: reparse %s: %v", format, back, err)
			}
			check("re-parsed", c2)
		}
	}
}

func TestPersistenceErrors(t *testing.T) {
	for doc, want := range map[string]string{
		`<local-cache><persistence><single-file-store/></persistence></local-cache>`:                                                  "not supported",
		`<local-cache><persistence><file-store><property name="durability">never</property></file-store></persistence></local-cache>`: "durability",
		`<local-cache><persistence passivation="true"><file-store shared="true"/></persistence></local-cache>`:                        "shared",
		`<local-cache><persistence><string-keyed-jdbc-store/></persistence></local-cache>`:                                            "connection-url",
	} {
		_, err := ParseCache("x", []byte(doc), nil)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want an error containing %q", doc, err, want)
		}
	}
}

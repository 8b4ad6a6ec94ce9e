package server

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hotgrid/hotgrid/client"
	"github.com/hotgrid/hotgrid/hotrod/wire"
	"github.com/hotgrid/hotgrid/security/realm/realmtest"
	"github.com/hotgrid/hotgrid/security/tlsconf/tlstest"
)

// tlsNodeOptions shape the configuration startTLSNode writes.
type tlsNodeOptions struct {
	// mutual adds a truststore, a truststore realm and
	// require-ssl-client-auth, and offers EXTERNAL and CLIENT_CERT.
	mutual bool
	// sni adds a realm "b" with an identity of its own for host b.test;
	// the endpoint realm's certificate is then issued for a.test.
	sni bool
}

// tlsNode is a running node whose single port requires TLS.
type tlsNode struct {
	addr string
	// files are the endpoint realm's certificates, in the node's conf/.
	files *tlstest.Files
	pool  *x509.CertPool
	// sniFiles and sniPool are realm b's, with tlsNodeOptions.sni.
	sniFiles *tlstest.Files
	sniPool  *x509.CertPool
}

// startTLSNode writes certificates, a user alice (group admin, for client
// certificates) and conf/hotgrid.xml into a secure server root, and starts
// a node on it.
func startTLSNode(t *testing.T, o tlsNodeOptions) *tlsNode {
	t.Helper()
	root := secureRoot(t, realmtest.User{Name: "alice", Password: "alice-pw", Groups: []string{"admin"}})
	conf := filepath.Join(root, "conf")
	tn := &tlsNode{}
	gen := tlstest.Options{Clients: []string{"alice"}}
	if o.sni {
		gen.Hosts = []string{"a.test"}
		tn.sniFiles, tn.sniPool = generate(t, conf, tlstest.Options{Hosts: []string{"b.test"}, Prefix: "b-"})
	}
	tn.files, tn.pool = generate(t, conf, gen)
	if err := os.WriteFile(filepath.Join(conf, "hotgrid.xml"), []byte(tlsServerXML(o)), 0o644); err != nil {
		t.Fatal(err)
	}
	n := StartNode(t, Options{ServerRoot: root, ServerConfig: "hotgrid.xml"})
	tn.addr = n.Addr().String()
	return tn
}

func generate(t *testing.T, dir string, o tlstest.Options) (*tlstest.Files, *x509.CertPool) {
	t.Helper()
	f, err := tlstest.Generate(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	pool, err := f.CertPool()
	if err != nil {
		t.Fatal(err)
	}
	return f, pool
}

// tlsServerXML is the configuration shape test/security/run uses, with the
// port left to StartNode.
func tlsServerXML(o tlsNodeOptions) string {
	ssl := `<keystore path="server.p12" password="secret"/>`
	var trustRealm, endpointAttrs, encryption, realmB string
	sasl, rest := "SCRAM-SHA-512 SCRAM-SHA-256 PLAIN DIGEST-MD5", "DIGEST BASIC"
	if o.mutual {
		ssl += `<truststore path="truststore.p12" password="secret"/>`
		trustRealm = `<truststore-realm/>`
		endpointAttrs = `require-ssl-client-auth="true"`
		sasl += " EXTERNAL"
		rest += " CLIENT_CERT"
	}
	if o.sni {
		realmB = `<security-realm name="b"><server-identities><ssl><keystore path="b-server.p12" password="secret"/></ssl></server-identities></security-realm>`
		encryption = `<encryption><sni host-name="b.test" security-realm="b"/></encryption>`
	}
	return fmt.Sprintf(`<infinispan xmlns="urn:infinispan:config:15.0" xmlns:server="urn:infinispan:server:15.0">
  <cache-container name="default" default-cache="default" statistics="true">
    <security><authorization/></security>
    <distributed-cache name="default" mode="SYNC"/>
  </cache-container>
  <server xmlns="urn:infinispan:server:15.0">
    <interfaces><interface name="public"><inet-address value="127.0.0.1"/></interface></interfaces>
    <socket-bindings default-interface="public"><socket-binding name="default" port="11222"/></socket-bindings>
    <security><security-realms>
      <security-realm name="default">
        <server-identities><ssl>%s</ssl></server-identities>
        <properties-realm groups-attribute="Roles">
          <user-properties path="users.properties" relative-to="infinispan.server.config.path"/>
          <group-properties path="groups.properties" relative-to="infinispan.server.config.path"/>
        </properties-realm>
        %s
      </security-realm>
      %s
    </security-realms></security>
    <endpoints socket-binding="default" security-realm="default" %s>
      <hotrod-connector name="hotrod"><authentication><sasl mechanisms="%s" server-name="infinispan"/></authentication>%s</hotrod-connector>
      <rest-connector name="rest"><authentication mechanisms="%s"/></rest-connector>
    </endpoints>
  </server>
</infinispan>
`, ssl, trustRealm, realmB, endpointAttrs, sasl, encryption, rest)
}

// dialTLS completes a handshake with cfg and checks that the server chose
// the one ALPN protocol offered (or none when none was).
func dialTLS(t *testing.T, addr string, cfg *tls.Config) *tls.Conn {
	t.Helper()
	d := &net.Dialer{Timeout: 5 * time.Second}
	tc, err := tls.DialWithDialer(d, "tcp", addr, cfg)
	if err != nil {
		t.Fatalf("tls handshake (ALPN %q, server name %q): %v", cfg.NextProtos, cfg.ServerName, err)
	}
	want := ""
	if len(cfg.NextProtos) == 1 {
		want = cfg.NextProtos[0]
	}
	if got := tc.ConnectionState().NegotiatedProtocol; got != want {
		tc.Close()
		t.Fatalf("negotiated ALPN %q, want %q", got, want)
	}
	return tc
}

// exchange writes req and returns what arrives until the reply goes quiet
// or the connection ends; unlike roundTrip it tolerates a closed
// connection, for requests a protocol may refuse by hanging up.
func exchange(nc net.Conn, req string) (string, error) {
	if _, err := nc.Write([]byte(req)); err != nil {
		return "", err
	}
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 4096)
	k, err := nc.Read(buf)
	if err != nil {
		return "", err
	}
	nc.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	for err == nil {
		var m int
		m, err = nc.Read(buf[k:])
		k += m
	}
	return string(buf[:k]), nil
}

// respCmd encodes a RESP array command.
func respCmd(args ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	return b.String()
}

// respSession authenticates as admin with HELLO 3 and sets and gets key.
func respSession(t *testing.T, nc net.Conn, key string) {
	t.Helper()
	if got := roundTrip(t, nc, respCmd("HELLO", "3", "AUTH", "admin", "admin-pw")); !strings.HasPrefix(got, "%7") {
		t.Fatalf("HELLO 3 AUTH admin: %q", got)
	}
	if got := roundTrip(t, nc, respCmd("SET", key, "v-"+key)); got != "+OK\r\n" {
		t.Fatalf("SET %s: %q", key, got)
	}
	want := fmt.Sprintf("$%d\r\nv-%s\r\n", len(key)+2, key)
	if got := roundTrip(t, nc, respCmd("GET", key)); got != want {
		t.Fatalf("GET %s: %q, want %q", key, got, want)
	}
}

// httpsGet fetches path over tr and returns the response and its body.
func httpsGet(t *testing.T, tr *http.Transport, addr, path string, basic bool) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("GET", "https://"+addr+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if basic {
		req.SetBasicAuth("admin", "admin-pw")
	}
	hc := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

// TestTLSSinglePort checks, on one TLS node, how the single port routes
// connections: by ALPN, by detection when no ALPN protocol was offered, and
// not at all without a TLS handshake.
func TestTLSSinglePort(t *testing.T) {
	t.Parallel()
	tn := startTLSNode(t, tlsNodeOptions{})
	t.Run("ALPN", func(t *testing.T) { testALPNRouting(t, tn) })
	t.Run("no ALPN", func(t *testing.T) { testWithoutALPN(t, tn) })
	t.Run("plain TCP", func(t *testing.T) { testPlainConnectionIsRefused(t, tn) })
}

// testALPNRouting checks that the ALPN protocol, not the first bytes,
// picks the protocol of each connection, and that each serves
// authenticated requests over TLS.
func testALPNRouting(t *testing.T, tn *tlsNode) {
	tlsCfg := func(proto ...string) *tls.Config {
		return &tls.Config{RootCAs: tn.pool, NextProtos: proto}
	}

	t.Run("HR", func(t *testing.T) {
		dialTLS(t, tn.addr, tlsCfg("HR")).Close()
		ctx := context.Background()
		c, err := client.New(ctx, client.Options{Servers: []string{tn.addr}, Intelligence: 1,
			User: "admin", Password: "admin-pw", Mechanism: "SCRAM-SHA-256", TLS: &tls.Config{RootCAs: tn.pool}})
		if err != nil {
			t.Fatalf("hot rod over TLS: %v", err)
		}
		defer c.Close()
		k := c.Cache("default")
		if err := k.Set(ctx, []byte("hr"), []byte("v-hr")); err != nil {
			t.Fatal(err)
		}
		if v, ok, err := k.Get(ctx, []byte("hr")); err != nil || !ok || string(v) != "v-hr" {
			t.Fatalf("get hr: %q %v %v", v, ok, err)
		}
	})

	t.Run("RP", func(t *testing.T) {
		tc := dialTLS(t, tn.addr, tlsCfg("RP"))
		defer tc.Close()
		respSession(t, tc, "rp")
		// Detection would give "get k" to memcached; ALPN RP keeps it RESP.
		probe := dialTLS(t, tn.addr, tlsCfg("RP"))
		defer probe.Close()
		if got := roundTrip(t, probe, "get k\r\n"); !strings.HasPrefix(got, "-NOAUTH") {
			t.Fatalf("memcached-looking command on ALPN RP: %q, want RESP's -NOAUTH", got)
		}
	})

	t.Run("MB", func(t *testing.T) {
		tc := dialTLS(t, tn.addr, tlsCfg("MB"))
		defer tc.Close()
		cred := "admin admin-pw"
		if got := roundTrip(t, tc, fmt.Sprintf("set auth 0 0 %d\r\n%s\r\n", len(cred), cred)); got != "STORED\r\n" {
			t.Fatalf("memcached text authentication: %q", got)
		}
		if got := roundTrip(t, tc, "set mb 0 0 4\r\nv-mb\r\n"); got != "STORED\r\n" {
			t.Fatalf("set mb: %q", got)
		}
		if got := roundTrip(t, tc, "get mb\r\n"); got != "VALUE mb 0 4\r\nv-mb\r\nEND\r\n" {
			t.Fatalf("get mb: %q", got)
		}
		// Detection would give a RESP array to RESP; ALPN MB keeps it
		// memcached, which refuses each line before authentication.
		probe := dialTLS(t, tn.addr, tlsCfg("MB"))
		defer probe.Close()
		if got := roundTrip(t, probe, respCmd("PING")); !strings.HasPrefix(got, "CLIENT_ERROR unauthenticated\r\n") {
			t.Fatalf("RESP PING on ALPN MB: %q, want memcached's CLIENT_ERROR unauthenticated", got)
		}
	})

	for _, tc := range []struct {
		proto string
		major int
	}{{"h2", 2}, {"http/1.1", 1}} {
		t.Run(tc.proto, func(t *testing.T) {
			tr := &http.Transport{TLSClientConfig: tlsCfg(tc.proto), ForceAttemptHTTP2: tc.proto == "h2"}
			defer tr.CloseIdleConnections()
			resp, body := httpsGet(t, tr, tn.addr, "/rest/v2/container/health/status", false)
			if resp.StatusCode != 200 || body != "HEALTHY" {
				t.Fatalf("health: %d %q", resp.StatusCode, body)
			}
			if resp.ProtoMajor != tc.major || resp.TLS == nil || resp.TLS.NegotiatedProtocol != tc.proto {
				t.Fatalf("health served over %s (ALPN %q), want HTTP/%d with ALPN %s", resp.Proto, resp.TLS.NegotiatedProtocol, tc.major, tc.proto)
			}
			// BASIC is configured, and acceptable because the channel is TLS.
			resp, body = httpsGet(t, tr, tn.addr, "/rest/v2/caches", true)
			if resp.StatusCode != 200 || !strings.Contains(body, `"default"`) || resp.ProtoMajor != tc.major {
				t.Fatalf("GET /rest/v2/caches as admin with BASIC over %s: %d %q", resp.Proto, resp.StatusCode, body)
			}
		})
	}
}

// testWithoutALPN checks that a client offering no ALPN protocol has its
// decrypted stream detected as on a plain port.
func testWithoutALPN(t *testing.T, tn *tlsNode) {
	noALPN := &tls.Config{RootCAs: tn.pool}

	t.Run("resp", func(t *testing.T) {
		tc := dialTLS(t, tn.addr, noALPN)
		defer tc.Close()
		respSession(t, tc, "plain-alpn")
	})

	t.Run("hotrod raw", func(t *testing.T) {
		tc := dialTLS(t, tn.addr, noALPN)
		defer tc.Close()
		// PING is served before authentication.
		got := hotrodRoundTrip(t, tc, hotrodRequest(1, wire.OpPing, "", nil))
		if len(got) < 5 || !bytes.Equal(got[:5], []byte{wire.ResponseMagic, 1, wire.OpPing + 1, wire.StatusSuccess, 0}) {
			t.Fatalf("ping response % X", got)
		}
	})

	t.Run("hotrod client", func(t *testing.T) {
		// The client offers "HR" only when NextProtos is nil.
		ctx := context.Background()
		c, err := client.New(ctx, client.Options{Servers: []string{tn.addr}, Intelligence: 1,
			User: "admin", Password: "admin-pw", TLS: &tls.Config{RootCAs: tn.pool, NextProtos: []string{}}})
		if err != nil {
			t.Fatalf("hot rod over TLS without ALPN: %v", err)
		}
		defer c.Close()
		k := c.Cache("default")
		if err := k.Set(ctx, []byte("k"), []byte("v")); err != nil {
			t.Fatal(err)
		}
		if v, ok, err := k.Get(ctx, []byte("k")); err != nil || !ok || string(v) != "v" {
			t.Fatalf("get k: %q %v %v", v, ok, err)
		}
	})

	t.Run("http", func(t *testing.T) {
		tc := dialTLS(t, tn.addr, noALPN)
		defer tc.Close()
		got := roundTrip(t, tc, "GET /rest/v2/container/health/status HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
		if !strings.HasPrefix(got, "HTTP/1.1 200 ") || !strings.HasSuffix(got, "HEALTHY") {
			t.Fatalf("health over TLS without ALPN: %q", got)
		}
	})
}

// testPlainConnectionIsRefused checks that a TLS node serves nothing to a
// client that does not start with a TLS handshake.
func testPlainConnectionIsRefused(t *testing.T, tn *tlsNode) {
	nc := dialRaw(t, tn.addr)
	defer nc.Close()
	got, err := exchange(nc, respCmd("PING"))
	if err == nil || strings.Contains(got, "PONG") {
		t.Fatalf("plain RESP PING on a TLS node: reply %q, err %v; want the connection closed without a reply", got, err)
	}
	if _, err := (&http.Client{Timeout: 5 * time.Second}).Get("http://" + tn.addr + "/rest/v2/container/health/status"); err == nil {
		t.Fatal("plain HTTP on a TLS node got a response")
	}
}

// TestSNIPicksTheRealmIdentity checks that an SNI host name configured on
// the connector selects its realm's certificate, and that other names and
// none get the endpoint realm's.
func TestSNIPicksTheRealmIdentity(t *testing.T) {
	t.Parallel()
	tn := startTLSNode(t, tlsNodeOptions{sni: true})
	leafA, leafB := serverLeaf(t, tn.files), serverLeaf(t, tn.sniFiles)
	for _, c := range []struct {
		serverName string
		pool       *x509.CertPool
		want       *x509.Certificate
	}{
		{"b.test", tn.sniPool, leafB},
		{"a.test", tn.pool, leafA},
		{"other.test", nil, leafA},
		{"", tn.pool, leafA}, // an IP address: no SNI extension is sent
	} {
		t.Run("name="+c.serverName, func(t *testing.T) {
			cfg := &tls.Config{ServerName: c.serverName, RootCAs: c.pool, NextProtos: []string{"RP"}}
			if c.pool == nil {
				// No certificate covers other.test; only which one is
				// served matters.
				cfg.InsecureSkipVerify = true
			}
			tc := dialTLS(t, tn.addr, cfg)
			defer tc.Close()
			got := tc.ConnectionState().PeerCertificates[0]
			if !got.Equal(c.want) {
				t.Fatalf("server name %q: served %q (serial %x), want %q (serial %x)",
					c.serverName, got.Subject.CommonName, got.SerialNumber, c.want.Subject.CommonName, c.want.SerialNumber)
			}
			// Realm b only supplies the certificate: users still come from
			// the endpoint realm.
			respSession(t, tc, "sni")
		})
	}
}

// serverLeaf loads the server certificate f currently holds.
func serverLeaf(t *testing.T, f *tlstest.Files) *x509.Certificate {
	t.Helper()
	pair, err := tls.LoadX509KeyPair(f.ServerCert, f.ServerKey)
	if err != nil {
		t.Fatal(err)
	}
	return pair.Leaf
}

// TestTLSReloadsCertificates checks that a node picks up a reissued server
// certificate without a restart, and that connections made before keep
// working.
func TestTLSReloadsCertificates(t *testing.T) {
	t.Parallel()
	tn := startTLSNode(t, tlsNodeOptions{})
	old := serverLeaf(t, tn.files)
	cfg := &tls.Config{RootCAs: tn.pool, NextProtos: []string{"RP"}}
	open := dialTLS(t, tn.addr, cfg)
	defer open.Close()
	if got := open.ConnectionState().PeerCertificates[0]; !got.Equal(old) {
		t.Fatalf("served serial %x, want %x from %s", got.SerialNumber, old.SerialNumber, tn.files.ServerP12)
	}
	respSession(t, open, "before")

	if err := tn.files.ReissueServer(); err != nil {
		t.Fatal(err)
	}
	reissued := serverLeaf(t, tn.files)
	// The node polls its files every tlsconf.DefaultReloadInterval (5 s).
	deadline := time.Now().Add(15 * time.Second)
	var served *x509.Certificate
	for {
		tc := dialTLS(t, tn.addr, cfg)
		served = tc.ConnectionState().PeerCertificates[0]
		tc.Close()
		if !served.Equal(old) || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if !served.Equal(reissued) {
		t.Fatalf("15 s after reissuing %s new handshakes get serial %x, want %x (old %x): the certificate was not reloaded",
			tn.files.ServerP12, served.SerialNumber, reissued.SerialNumber, old.SerialNumber)
	}
	// The connection made with the old certificate is unaffected.
	respSession(t, open, "after")
}

// TestMutualTLS checks require-ssl-client-auth with a truststore realm: no
// client certificate, no connection; with one, REST authenticates by
// CLIENT_CERT and Hot Rod by SASL EXTERNAL, as the certificate's CN.
func TestMutualTLS(t *testing.T) {
	t.Parallel()
	tn := startTLSNode(t, tlsNodeOptions{mutual: true})
	alice, err := tn.files.ClientCertificate("alice")
	if err != nil {
		t.Fatal(err)
	}
	withCert := func(proto ...string) *tls.Config {
		return &tls.Config{RootCAs: tn.pool, Certificates: []tls.Certificate{alice}, NextProtos: proto}
	}

	t.Run("no client certificate", func(t *testing.T) {
		for _, proto := range []string{"RP", "h2"} {
			tc, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", tn.addr,
				&tls.Config{RootCAs: tn.pool, NextProtos: []string{proto}})
			var got string
			if err == nil {
				// With TLS 1.3 the client finishes its handshake before
				// the server checks the certificate; the alert arrives on
				// the first read.
				got, err = exchange(tc, respCmd("PING"))
				tc.Close()
			}
			if err == nil {
				t.Fatalf("ALPN %s without a client certificate was served: %q", proto, got)
			}
			if !strings.Contains(err.Error(), "certificate") {
				t.Errorf("ALPN %s without a client certificate failed with %v, want a certificate alert", proto, err)
			}
		}
	})

	t.Run("rest CLIENT_CERT", func(t *testing.T) {
		for _, proto := range []string{"h2", "http/1.1"} {
			tr := &http.Transport{TLSClientConfig: withCert(proto), ForceAttemptHTTP2: proto == "h2"}
			resp, body := httpsGet(t, tr, tn.addr, "/rest/v2/caches", false)
			tr.CloseIdleConnections()
			if resp.StatusCode != 200 || !strings.Contains(body, `"default"`) {
				t.Fatalf("GET /rest/v2/caches with alice's certificate over %s: %d %q", resp.Proto, resp.StatusCode, body)
			}
		}
	})

	t.Run("hotrod EXTERNAL", func(t *testing.T) {
		tc := dialTLS(t, tn.addr, withCert("HR"))
		defer tc.Close()
		got := hotrodRoundTrip(t, tc, hotrodRequest(1, wire.OpAuthMechList, "", nil))
		if mechs := decodeMechList(t, got); !slices.Contains(mechs, "EXTERNAL") {
			t.Fatalf("AUTH_MECH_LIST with a client certificate: %q, want EXTERNAL among them", mechs)
		}
		get := hotrodRequest(2, wire.OpGet, "default", wire.AppendString(nil, "k"))
		if got := hotrodRoundTrip(t, tc, get); len(got) < 4 || got[3] != wire.StatusServerError {
			t.Fatalf("GET before authentication: % X, want status %02X", got, wire.StatusServerError)
		}
		// EXTERNAL with an empty authorization identity completes at once.
		auth := wire.AppendBytes(wire.AppendString(nil, "EXTERNAL"), nil)
		want := []byte{wire.ResponseMagic, 3, wire.OpAuth + 1, wire.StatusSuccess, 0, 1, 0}
		if got := hotrodRoundTrip(t, tc, hotrodRequest(3, wire.OpAuth, "", auth)); !bytes.Equal(got, want) {
			t.Fatalf("AUTH EXTERNAL response % X, want % X (completed)", got, want)
		}
		put := wire.AppendString(nil, "k")
		put = append(put, 0x77) // lifespan and max-idle: the cache's defaults
		put = wire.AppendString(put, "v")
		want = []byte{wire.ResponseMagic, 4, wire.OpPut + 1, wire.StatusSuccess, 0}
		if got := hotrodRoundTrip(t, tc, hotrodRequest(4, wire.OpPut, "default", put)); !bytes.Equal(got, want) {
			t.Fatalf("PUT as alice: % X, want % X", got, want)
		}
		get[1] = 5
		want = []byte{wire.ResponseMagic, 5, wire.OpGet + 1, wire.StatusSuccess, 0, 1, 'v'}
		if got := hotrodRoundTrip(t, tc, get); !bytes.Equal(got, want) {
			t.Fatalf("GET as alice: % X, want % X", got, want)
		}
	})

	t.Run("hotrod EXTERNAL as another identity", func(t *testing.T) {
		// An authorization identity other than the certificate's CN is
		// refused.
		tc := dialTLS(t, tn.addr, withCert("HR"))
		defer tc.Close()
		auth := wire.AppendBytes(wire.AppendString(nil, "EXTERNAL"), []byte("admin"))
		if got := hotrodRoundTrip(t, tc, hotrodRequest(1, wire.OpAuth, "", auth)); len(got) < 4 || got[3] != wire.StatusServerError {
			t.Fatalf("AUTH EXTERNAL as admin with alice's certificate: % X, want status %02X", got, wire.StatusServerError)
		}
	})
}

// hotrodRequest encodes a Hot Rod 3.0 request: message id id (below 128),
// basic intelligence, no topology, no media types, then body.
func hotrodRequest(id, op byte, cache string, body []byte) []byte {
	b := []byte{wire.RequestMagic, id, 0x1E, op}
	b = wire.AppendString(b, cache)
	b = append(b, 0x00, 0x01, 0x00, 0x00, 0x00) // flags, intelligence, topology id, key and value media types
	return append(b, body...)
}

// decodeMechList reads an AUTH_MECH_LIST response.
func decodeMechList(t *testing.T, resp []byte) []string {
	t.Helper()
	if len(resp) < 5 || resp[0] != wire.ResponseMagic || resp[2] != wire.OpAuthMechList+1 || resp[3] != wire.StatusSuccess {
		t.Fatalf("AUTH_MECH_LIST response % X", resp)
	}
	d := wire.Decoder{Buf: resp, Pos: 5}
	n, err := d.VInt()
	var mechs []string
	for i := int32(0); err == nil && i < n; i++ {
		var m []byte
		m, err = d.Bytes("mechanism")
		mechs = append(mechs, string(m))
	}
	if err != nil {
		t.Fatalf("AUTH_MECH_LIST response % X: %v", resp, err)
	}
	return mechs
}

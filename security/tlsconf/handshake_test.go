package tlsconf

import (
	"crypto/tls"
	"slices"
	"testing"

	"github.com/hotgrid/hotgrid/security/tlsconf/tlstest"
)

func TestSNI(t *testing.T) {
	a := generate(t, tlstest.Options{Hosts: []string{"a.example"}, Prefix: "a-"})
	b := generate(t, tlstest.Options{Hosts: []string{"b.example", "*.b.example"}, Prefix: "b-"})
	c := newConfig(t, Options{Identities: []Identity{
		{CertFile: a.ServerCert, KeyFile: a.ServerKey},
		{KeystorePath: b.ServerP12, Password: b.Password, HostNames: []string{"realm-b.example", "*.wild.example"}},
	}})
	addr := serve(t, c.TLSConfig())
	tests := []struct {
		serverName string
		want       string // CN of the served certificate
	}{
		{"", "a.example"},                // no SNI: default
		{"a.example", "a.example"},       // certificate SAN
		{"realm-b.example", "b.example"}, // exact HostNames
		{"REALM-B.example.", "b.example"},
		{"x.wild.example", "b.example"},   // wildcard HostNames
		{"b.example", "b.example"},        // certificate SAN of the second identity
		{"x.b.example", "b.example"},      // certificate wildcard SAN
		{"unknown.example", "a.example"},  // fallback to the default
		{"x.y.wild.example", "a.example"}, // wildcard covers one label only
	}
	for _, tt := range tests {
		t.Run(tt.serverName, func(t *testing.T) {
			cfg := &tls.Config{ServerName: tt.serverName, InsecureSkipVerify: true}
			conn, err := roundTrip(addr, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if cn := peer(conn).Subject.CommonName; cn != tt.want {
				t.Errorf("served %q, want %q", cn, tt.want)
			}
		})
	}
	// A verifying client accepts the certificate chosen for its name.
	cfg := clientConfig(t, b, "realm-b.example")
	cfg.ServerName = "b.example"
	conn, err := roundTrip(addr, cfg)
	if err != nil {
		t.Fatalf("verified handshake: %v", err)
	}
	conn.Close()
}

func TestALPN(t *testing.T) {
	f := generate(t, tlstest.Options{})
	c := newConfig(t, Options{
		Identities: []Identity{{KeystorePath: f.ServerP12, Password: f.Password}},
		NextProtos: []string{"h2", "http/1.1", "HR", "RP", "MB"},
	})
	addr := serve(t, c.TLSConfig())
	for _, tt := range []struct {
		offer []string
		want  string
		fails bool
	}{
		{[]string{"HR"}, "HR", false},
		{[]string{"RP", "http/1.1"}, "http/1.1", false}, // server preference order
		{[]string{"MB"}, "MB", false},
		{nil, "", false},
		{[]string{"http/1.1"}, "http/1.1", false},
		{[]string{"spdy/3"}, "", true},
	} {
		cfg := clientConfig(t, f, "localhost")
		cfg.NextProtos = tt.offer
		conn, err := roundTrip(addr, cfg)
		if tt.fails {
			if err == nil {
				conn.Close()
				t.Errorf("offer %v: handshake succeeded", tt.offer)
			}
			continue
		}
		if err != nil {
			t.Errorf("offer %v: %v", tt.offer, err)
			continue
		}
		if got := conn.ConnectionState().NegotiatedProtocol; got != tt.want {
			t.Errorf("offer %v: negotiated %q, want %q", tt.offer, got, tt.want)
		}
		conn.Close()
	}
}

func TestClientAuth(t *testing.T) {
	f := generate(t, tlstest.Options{Clients: []string{"alice"}})
	stranger := generate(t, tlstest.Options{Clients: []string{"mallory"}})
	alice, err := f.ClientCertificate("alice")
	if err != nil {
		t.Fatal(err)
	}
	mallory, err := stranger.ClientCertificate("mallory")
	if err != nil {
		t.Fatal(err)
	}
	for _, mode := range []ClientAuth{ClientAuthNone, ClientAuthRequested, ClientAuthRequired} {
		c := newConfig(t, Options{
			Identities:         []Identity{{KeystorePath: f.ServerP12, Password: f.Password}},
			TruststorePath:     f.Truststore,
			TruststorePassword: f.Password,
			ClientAuth:         mode,
		})
		addr := serve(t, c.TLSConfig())
		for _, tt := range []struct {
			name  string
			certs []tls.Certificate
			ok    map[ClientAuth]bool
		}{
			{"no certificate", nil, map[ClientAuth]bool{ClientAuthNone: true, ClientAuthRequested: true}},
			{"trusted certificate", []tls.Certificate{alice}, map[ClientAuth]bool{ClientAuthNone: true, ClientAuthRequested: true, ClientAuthRequired: true}},
			{"other CA", []tls.Certificate{mallory}, map[ClientAuth]bool{ClientAuthNone: true}},
		} {
			for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
				cfg := clientConfig(t, f, "localhost")
				cfg.Certificates = tt.certs
				cfg.MaxVersion = v
				conn, err := roundTrip(addr, cfg)
				want := tt.ok[mode]
				if (err == nil) != want {
					t.Errorf("%s, %s, TLS %x: err = %v, want success %v", mode, tt.name, v, err, want)
				}
				if err != nil {
					continue
				}
				peers := conn.ConnectionState().PeerCertificates
				if len(peers) == 0 {
					t.Errorf("%s, %s: no server certificate", mode, tt.name)
				}
				conn.Close()
			}
		}
	}
}

func TestMinVersion(t *testing.T) {
	f := generate(t, tlstest.Options{})
	c := newConfig(t, Options{Identities: []Identity{{KeystorePath: f.ServerP12, Password: f.Password}}})
	if got := c.TLSConfig().MinVersion; got != tls.VersionTLS12 {
		t.Errorf("default MinVersion %x", got)
	}
	addr := serve(t, c.TLSConfig())
	cfg := clientConfig(t, f, "localhost")
	cfg.MinVersion, cfg.MaxVersion = tls.VersionTLS11, tls.VersionTLS11
	if conn, err := roundTrip(addr, cfg); err == nil {
		conn.Close()
		t.Error("TLS 1.1 handshake succeeded")
	}
	c13 := newConfig(t, Options{Identities: []Identity{{KeystorePath: f.ServerP12, Password: f.Password}}, MinVersion: tls.VersionTLS13})
	addr = serve(t, c13.TLSConfig())
	cfg = clientConfig(t, f, "localhost")
	cfg.MaxVersion = tls.VersionTLS12
	if conn, err := roundTrip(addr, cfg); err == nil {
		conn.Close()
		t.Error("TLS 1.2 handshake succeeded against MinVersion 1.3")
	}
	if !slices.Equal(c13.TLSConfig().NextProtos, nil) {
		t.Error("unexpected NextProtos")
	}
}

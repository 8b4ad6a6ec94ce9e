package config

import (
	"slices"
	"testing"
)

// TestSecurityModel reads every security element hotgrid supports from a
// server configuration.
func TestSecurityModel(t *testing.T) {
	doc := `<infinispan>
  <cache-container name="default">
    <security><authorization><common-name-role-mapper/>
      <role name="reader" permissions="READ BULK_READ"/><role name="boss" permissions="ALL"/>
    </authorization></security>
    <local-cache name="c"><security><authorization roles="reader boss"/></security></local-cache>
  </cache-container>
  <server>
    <security><security-realms>
      <security-realm name="main">
        <server-identities><ssl>
          <keystore path="server.p12" relative-to="infinispan.server.config.path" password="secret" alias="srv"/>
          <truststore path="trust.p12" password="tpw"/>
          <engine enabled-protocols="TLSv1.3"/>
        </ssl></server-identities>
        <properties-realm groups-attribute="Roles">
          <user-properties path="users.properties"/><group-properties path="groups.properties"/>
        </properties-realm>
        <truststore-realm/>
      </security-realm>
      <security-realm name="other"><server-identities><ssl><keystore path="b.pem"/></ssl></server-identities></security-realm>
    </security-realms></security>
    <endpoints socket-binding="default" security-realm="main" require-ssl-client-auth="true" metrics-auth="false">
      <hotrod-connector name="hotrod"><authentication><sasl mechanisms="SCRAM-SHA-512 PLAIN" server-name="grid" qop="auth"/></authentication>
        <encryption><sni host-name="b.test" security-realm="other"/></encryption></hotrod-connector>
      <rest-connector name="rest"><authentication mechanisms="DIGEST BASIC"/></rest-connector>
    </endpoints>
  </server>
</infinispan>`
	s, _, err := Parse([]byte(doc), FormatXML, nil)
	if err != nil {
		t.Fatal(err)
	}
	a := s.Container.Authorization
	if a == nil || a.Mapper != "common-name" || len(a.Roles) != 2 || a.Roles[0] != (RoleDef{"reader", "READ BULK_READ"}) {
		t.Fatalf("authorization: %+v", a)
	}
	if c := s.Container.Caches[0]; !slices.Equal(c.Authorization.Roles, []string{"reader", "boss"}) {
		t.Fatalf("cache roles: %+v", c.Authorization)
	}
	r := s.SecurityRealms[0]
	if r.TLS == nil || r.TLS.Keystore != (FileRef{"server.p12", "infinispan.server.config.path"}) || r.TLS.KeystorePassword != "secret" ||
		r.TLS.Alias != "srv" || r.TLS.Truststore.Path != "trust.p12" || r.TLS.TruststorePassword != "tpw" ||
		!slices.Equal(r.TLS.Protocols, []string{"TLSv1.3"}) || !r.TruststoreRealm || r.Properties == nil {
		t.Fatalf("realm: %+v %+v", r, r.TLS)
	}
	e := s.Endpoints
	if !e.RequireClientCert || e.MetricsAuth || len(e.SNI) != 1 || e.SNI[0] != (SNI{"b.test", "other"}) {
		t.Fatalf("endpoints: %+v", e)
	}
	if hr := e.Connectors[0]; !slices.Equal(hr.Mechanisms, []string{"SCRAM-SHA-512", "PLAIN"}) || hr.ServerName != "grid" {
		t.Fatalf("hotrod connector: %+v", hr)
	}
	if rc := e.Connectors[1]; !slices.Equal(rc.Mechanisms, []string{"DIGEST", "BASIC"}) {
		t.Fatalf("rest connector: %+v", rc)
	}

	// metrics-auth defaults to true.
	s, _, err = Parse([]byte(`<infinispan><server><endpoints socket-binding="default"/></server></infinispan>`), FormatXML, nil)
	if err != nil || !s.Endpoints.MetricsAuth {
		t.Fatalf("metrics-auth default: %v %+v", err, s.Endpoints)
	}
	for _, bad := range []string{
		`<infinispan><server><security><security-realms><security-realm name="x"><ldap-realm/></security-realm></security-realms></security></server></infinispan>`,
		`<infinispan><server><endpoints><hotrod-connector><authentication><sasl qop="auth-conf"/></authentication></hotrod-connector></endpoints></server></infinispan>`,
		`<infinispan><server><security><security-realms><security-realm name="x"><server-identities><ssl/></server-identities></security-realm></security-realms></security></server></infinispan>`,
	} {
		if _, _, err := Parse([]byte(bad), FormatXML, nil); err == nil {
			t.Errorf("accepted: %s", bad)
		}
	}
}

// TestCacheAuthorizationRoundTrip checks a runtime cache keeps its roles
// through the JSON and XML renderers, in every input format.
func TestCacheAuthorizationRoundTrip(t *testing.T) {
	docs := map[string]string{
		"xml":  `<local-cache name="c"><security><authorization roles="a b"/></security></local-cache>`,
		"json": `{"local-cache":{"security":{"authorization":{"enabled":true,"roles":["a","b"]}}}}`,
		"yaml": "localCache:\n  security:\n    authorization:\n      roles:\n        - a\n        - b\n",
	}
	for format, doc := range docs {
		c, err := ParseCache("c", []byte(doc), nil)
		if err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		for _, back := range [][]byte{nil, c.JSON(), c.XML()} {
			got := c
			if back != nil {
				if got, err = ParseCache("c", back, nil); err != nil {
					t.Fatalf("%s: reparse %s: %v", format, back, err)
				}
			}
			if !slices.Equal(got.Authorization.Roles, []string{"a", "b"}) || got.Authorization.Disabled {
				t.Fatalf("%s %s: %+v", format, back, got.Authorization)
			}
		}
	}
}

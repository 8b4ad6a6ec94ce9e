package server

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/hotgrid/hotgrid/config"
	"github.com/hotgrid/hotgrid/security"
	"github.com/hotgrid/hotgrid/security/authz"
	"github.com/hotgrid/hotgrid/security/realm"
	"github.com/hotgrid/hotgrid/security/tlsconf"
)

// ALPN protocol ids of the single port, as Infinispan's router offers them.
var alpnProtocols = []string{"h2", "http/1.1", "HR", "RP", "MB"}

// nodeSecurity is what the node's endpoints enforce.
type nodeSecurity struct {
	guard  *security.Guard // nil: no authentication
	policy *authz.Policy   // nil: no authorization
	tls    *tlsconf.Config // nil: plain TCP only
	// tlsConfig is tls.TLSConfig(), made once: every handshake reads the
	// current certificates through it.
	tlsConfig *tls.Config
	// restMechs are the REST connector's configured mechanisms.
	restMechs []string
}

// resolve turns a realm file reference into a path: relative paths resolve
// against the property relative-to names (SERVER_ROOT/conf by default).
func resolve(ref config.FileRef, props map[string]string, serverRoot string) string {
	p := ref.Path
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	if ref.RelativeTo != "" {
		if base, ok := props[ref.RelativeTo]; ok {
			return filepath.Join(base, p)
		}
	}
	if serverRoot != "" {
		return filepath.Join(serverRoot, "conf", p)
	}
	return p
}

// findRealm returns the named realm of the configuration.
func findRealm(cfg *config.Server, name string) *config.SecurityRealm {
	for i := range cfg.SecurityRealms {
		if cfg.SecurityRealms[i].Name == name || (name == "" && i == 0) {
			return &cfg.SecurityRealms[i]
		}
	}
	return nil
}

// setupSecurity reads the realm, roles and TLS identities the endpoints
// use. With no realm in the configuration, SERVER_ROOT/conf/users.properties
// and groups.properties form the default realm (as the default Infinispan
// server configuration declares), with Infinispan's default roles. A realm
// without users means no authentication; Start refuses that on a
// non-loopback address unless AllowUnauthenticated is set.
func (n *Node) setupSecurity(props map[string]string, defaultConfig bool) (*nodeSecurity, error) {
	cfg := n.cfg
	sec := &nodeSecurity{}
	var (
		rlm       *realm.Realm
		realmCfg  = findRealm(cfg, cfg.Endpoints.SecurityRealm)
		saslMechs []string
		server    string
	)
	for _, c := range cfg.Endpoints.Connectors {
		switch c.Protocol {
		case "rest":
			sec.restMechs = c.Mechanisms
		case "hotrod":
			saslMechs, server = c.Mechanisms, c.ServerName
		}
	}
	switch {
	case realmCfg != nil && realmCfg.Properties != nil:
		pr := realmCfg.Properties
		users := resolve(config.FileRef{Path: pr.UsersPath, RelativeTo: pr.UsersRelative}, props, n.opts.ServerRoot)
		groups := resolve(config.FileRef{Path: pr.GroupsPath, RelativeTo: pr.GroupsRelative}, props, n.opts.ServerRoot)
		r, err := realm.Load(users, groups)
		if err != nil {
			return nil, fmt.Errorf("security realm %q: %w", realmCfg.Name, err)
		}
		rlm = r
	case realmCfg == nil && n.opts.ServerRoot != "":
		users, groups := realm.Paths(n.opts.ServerRoot, "", "")
		if _, err := os.Stat(users); err == nil {
			r, err := realm.Load(users, groups)
			if err != nil {
				return nil, fmt.Errorf("security realm in %s: %w", filepath.Dir(users), err)
			}
			rlm = r
		}
	}
	if a := cfg.Container.Authorization; a != nil || (defaultConfig && rlm != nil) {
		var roles []authz.Role
		mapper := authz.MapperCluster
		if a != nil {
			for _, rd := range a.Roles {
				p, err := authz.ParsePermissions(rd.Permissions)
				if err != nil {
					return nil, fmt.Errorf("role %q: %w", rd.Name, err)
				}
				roles = append(roles, authz.Role{Name: rd.Name, Permissions: p})
			}
			if a.Mapper != "" {
				mapper = authz.Mapper(a.Mapper)
			}
		}
		p, err := authz.NewPolicy(roles, mapper)
		if err != nil {
			return nil, err
		}
		sec.policy = p
	}
	if realmCfg != nil && realmCfg.TLS != nil {
		c, err := n.setupTLS(realmCfg, props)
		if err != nil {
			return nil, err
		}
		sec.tls, sec.tlsConfig = c, c.TLSConfig()
	}
	if rlm == nil || rlm.Empty() {
		if sec.policy != nil {
			n.log.Warn("authorization is configured but no users are defined: every endpoint is open and authorization is not enforced")
			sec.policy = nil
		}
		return sec, nil
	}
	g, err := security.New(security.Options{
		Realm:              rlm,
		Policy:             sec.policy,
		SASLMechanisms:     saslMechs,
		ServerName:         server,
		ClientCertificates: realmCfg != nil && realmCfg.TruststoreRealm,
		Logger:             n.log,
	})
	if err != nil {
		return nil, err
	}
	sec.guard = g
	return sec, nil
}

// setupTLS loads the endpoint realm's server identity, the identities of
// the realms SNI names, and the truststore.
func (n *Node) setupTLS(r *config.SecurityRealm, props map[string]string) (*tlsconf.Config, error) {
	ids := []tlsconf.Identity{{
		KeystorePath: resolve(r.TLS.Keystore, props, n.opts.ServerRoot),
		Password:     r.TLS.KeystorePassword,
		Alias:        r.TLS.Alias,
	}}
	for _, s := range n.cfg.Endpoints.SNI {
		sr := findRealm(n.cfg, s.SecurityRealm)
		if sr == nil || sr.TLS == nil {
			return nil, fmt.Errorf("sni %q: security realm %q has no ssl server identity", s.HostName, s.SecurityRealm)
		}
		ids = append(ids, tlsconf.Identity{
			KeystorePath: resolve(sr.TLS.Keystore, props, n.opts.ServerRoot),
			Password:     sr.TLS.KeystorePassword,
			Alias:        sr.TLS.Alias,
			HostNames:    []string{s.HostName},
		})
	}
	o := tlsconf.Options{Identities: ids, NextProtos: alpnProtocols, Logger: n.log}
	if r.TLS.Truststore.Path != "" {
		o.TruststorePath = resolve(r.TLS.Truststore, props, n.opts.ServerRoot)
		o.TruststorePassword = r.TLS.TruststorePassword
		o.ClientAuth = tlsconf.ClientAuthRequested
		if n.cfg.Endpoints.RequireClientCert {
			o.ClientAuth = tlsconf.ClientAuthRequired
		}
	} else if n.cfg.Endpoints.RequireClientCert {
		return nil, errors.New("require-ssl-client-auth needs a truststore in the security realm's server identities")
	}
	if p := r.TLS.Protocols; len(p) == 1 && strings.EqualFold(p[0], "TLSv1.3") {
		o.MinVersion = tls.VersionTLS13
	}
	c, err := tlsconf.New(o)
	if err != nil {
		return nil, fmt.Errorf("security realm %q: tls: %w", r.Name, err)
	}
	return c, nil
}

// isLoopback reports whether host (an address or name from the
// configuration) is a loopback address.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// errOpenNode explains why a node without identities does not start on a
// network address.
func errOpenNode(addr string) error {
	return fmt.Errorf("refusing to serve %s without authentication: no users are defined. "+
		"Create one with `hotgrid user create NAME -p PASSWORD -g admin --server-root DIR` and start with that --server-root, "+
		"or pass --allow-unauthenticated to serve an open node on a trusted network", addr)
}

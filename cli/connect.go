package cli

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"

	"github.com/hotgrid/hotgrid/security/httpauth"
)

// connection is how the CLI reaches the node: its address, credentials and
// TLS settings, shared by Hot Rod and REST.
type connection struct {
	server         string
	user, password string
	tls            *tls.Config // nil: plain TCP
}

func connectOptions(server, user, password, caFile string) (connection, error) {
	c := connection{server: server, user: user, password: password}
	if c.user != "" && c.password == "" {
		c.password = os.Getenv("HOTGRID_PASSWORD")
	}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return c, fmt.Errorf("--tls-ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return c, fmt.Errorf("--tls-ca: %s holds no PEM certificate", caFile)
		}
		c.tls = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return c, nil
}

// httpClient returns a client for the node's REST API that answers its
// authentication challenges.
func (c connection) httpClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	if c.tls != nil {
		t.TLSClientConfig = c.tls.Clone()
		t.ForceAttemptHTTP2 = true
	}
	if c.user == "" {
		return &http.Client{Transport: t}
	}
	return &http.Client{Transport: &httpauth.Transport{User: c.user, Password: c.password, Base: t}}
}

// baseURL is the REST root on the node's single port.
func (c connection) baseURL() string {
	if c.tls != nil {
		return "https://" + c.server
	}
	return "http://" + c.server
}

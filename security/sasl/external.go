package sasl

import (
	"crypto/x509"
	"fmt"
	"unicode/utf8"

	"github.com/hotgrid/hotgrid/security/realm"
)

// externalServer is EXTERNAL (RFC 4422 appendix A): the TLS layer already
// authenticated the client by its certificate, and the one client message
// is the authorization identity it asks for (empty for none).
//
// Unlike PLAIN and SCRAM, an empty first message is not taken as "no
// initial response yet": for EXTERNAL it means an empty authzid, and the
// Java Hot Rod client, whose EXTERNAL client is complete once it has sent
// that empty initial response, expects the server to finish right away.
type externalServer struct {
	creds Credentials
	certs []*x509.Certificate
}

func (s *externalServer) step(response []byte) ([]byte, *realm.Identity, error) {
	if len(response) > maxMessage || !utf8.Valid(response) {
		return nil, nil, fmt.Errorf("authorization identity: %w", ErrMalformed)
	}
	if len(s.certs) == 0 || s.certs[0] == nil {
		return nil, nil, fmt.Errorf("no client certificate: %w", ErrAuthFailed)
	}
	name := s.certs[0].Subject.CommonName
	if name == "" {
		return nil, nil, fmt.Errorf("client certificate has no common name: %w", ErrAuthFailed)
	}
	if authzid := string(response); authzid != "" && authzid != name {
		return nil, nil, fmt.Errorf("authorization identity differs from certificate name: %w", ErrAuthFailed)
	}
	return nil, identity(s.creds, name), nil
}

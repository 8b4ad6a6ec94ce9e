package sasl

import (
	"bytes"
	"fmt"
	"unicode/utf8"

	"github.com/hotgrid/hotgrid/security/realm"
)

// plainServer is PLAIN (RFC 4616): one message "authzid NUL authcid NUL
// passwd", checked with Credentials.Verify.
type plainServer struct {
	creds Credentials
	// waited records that the client sent an empty initial response and was
	// given an empty challenge; a second empty message is an error.
	waited bool
}

func (s *plainServer) step(response []byte) ([]byte, *realm.Identity, error) {
	if len(response) == 0 {
		if s.waited {
			return nil, nil, fmt.Errorf("empty message: %w", ErrMalformed)
		}
		s.waited = true
		return []byte{}, nil, nil
	}
	authzid, authcid, password, err := parsePlain(response)
	if err != nil {
		return nil, nil, err
	}
	if authzid != "" && authzid != authcid {
		return nil, nil, fmt.Errorf("authorization identity differs from authentication identity: %w", ErrAuthFailed)
	}
	id, ok := s.creds.Verify(authcid, password)
	if !ok {
		return nil, nil, errInvalidCredentials
	}
	return nil, &id, nil
}

// parsePlain splits a PLAIN message into its three UTF-8 fields; authcid
// and passwd must not be empty.
func parsePlain(msg []byte) (authzid, authcid, password string, err error) {
	if len(msg) > maxMessage {
		return "", "", "", fmt.Errorf("message of %d bytes: %w", len(msg), ErrMalformed)
	}
	parts := bytes.Split(msg, []byte{0})
	if len(parts) != 3 {
		return "", "", "", fmt.Errorf("want 3 NUL-separated fields, got %d: %w", len(parts), ErrMalformed)
	}
	if len(parts[1]) == 0 || len(parts[2]) == 0 {
		return "", "", "", fmt.Errorf("empty user or password: %w", ErrMalformed)
	}
	for _, p := range parts {
		if !utf8.Valid(p) {
			return "", "", "", fmt.Errorf("field not UTF-8: %w", ErrMalformed)
		}
	}
	return string(parts[0]), string(parts[1]), string(parts[2]), nil
}

package httpauth

import (
	"errors"
	"fmt"
	"strings"
)

// errMalformed is wrapped by every parse error. Parse errors name a
// directive at most, never a value.
var errMalformed = errors.New("httpauth: malformed digest credentials")

// Digest directive bits, for digestParams.seen.
const (
	dUsername = 1 << iota
	dRealm
	dNonce
	dURI
	dResponse
	dAlgorithm
	dCnonce
	dOpaque
	dQop
	dNC
	dUserhash
	dUsernameStar
)

// digestRequired are the directives RFC 7616 section 3.4 makes mandatory
// (qop, and with it cnonce and nc, is no longer optional there).
const digestRequired = dUsername | dRealm | dNonce | dURI | dResponse | dQop | dCnonce | dNC

// digestDirective maps a directive name, in any case, to its bit (0 for
// directives this package does not use).
func digestDirective(name string) int {
	switch strings.ToLower(name) {
	case "username":
		return dUsername
	case "realm":
		return dRealm
	case "nonce":
		return dNonce
	case "uri":
		return dURI
	case "response":
		return dResponse
	case "algorithm":
		return dAlgorithm
	case "cnonce":
		return dCnonce
	case "opaque":
		return dOpaque
	case "qop":
		return dQop
	case "nc":
		return dNC
	case "userhash":
		return dUserhash
	case "username*":
		return dUsernameStar
	}
	return 0
}

// digestParams are the directives of a Digest Authorization header. The
// strings are slices of the header unless a quoted value held escapes.
type digestParams struct {
	username, realm, nonce, uri, response string
	algorithm, cnonce, opaque, qop, nc    string
	userhash                              string
	seen                                  int
}

// set stores value under the directive bit d.
func (p *digestParams) set(d int, value string) {
	switch d {
	case dUsername:
		p.username = value
	case dRealm:
		p.realm = value
	case dNonce:
		p.nonce = value
	case dURI:
		p.uri = value
	case dResponse:
		p.response = value
	case dAlgorithm:
		p.algorithm = value
	case dCnonce:
		p.cnonce = value
	case dOpaque:
		p.opaque = value
	case dQop:
		p.qop = value
	case dNC:
		p.nc = value
	case dUserhash:
		p.userhash = value
	}
}

// directiveName is the name of bit d, for error messages.
func directiveName(d int) string {
	names := [...]string{"username", "realm", "nonce", "uri", "response", "algorithm",
		"cnonce", "opaque", "qop", "nc", "userhash", "username*"}
	for i, n := range names {
		if d&(1<<i) != 0 {
			return n
		}
	}
	return "?"
}

// parseDigest parses the auth-params after "Digest " (RFC 7616 section 3.4,
// RFC 9110 section 11.2): name BWS "=" BWS (token / quoted-string), comma
// separated with optional whitespace and empty list elements. Names are
// case-insensitive; a known directive given twice, a missing required one,
// username* (extended usernames are not supported) and any syntax error are
// rejected; unknown directives are ignored.
func parseDigest(s string) (digestParams, error) {
	var p digestParams
	err := forEachParam(s, func(name, value string) error {
		d := digestDirective(name)
		if d == 0 {
			return nil
		}
		if p.seen&d != 0 {
			return fmt.Errorf("%w: duplicate %s", errMalformed, directiveName(d))
		}
		p.seen |= d
		p.set(d, value)
		return nil
	})
	if err != nil {
		return p, err
	}
	if p.seen&dUsernameStar != 0 {
		return p, fmt.Errorf("%w: username* is not supported", errMalformed)
	}
	if missing := digestRequired &^ p.seen; missing != 0 {
		return p, fmt.Errorf("%w: missing %s", errMalformed, directiveName(missing))
	}
	return p, nil
}

// forEachParam walks an auth-param list (name=token or name="quoted",
// comma-separated, empty elements allowed), calling fn for each; it stops
// at the first syntax error or error from fn.
func forEachParam(s string, fn func(name, value string) error) error {
	i := 0
	for {
		// Empty list elements and whitespace between elements.
		for i < len(s) && (s[i] == ',' || isSpace(s[i])) {
			i++
		}
		if i == len(s) {
			return nil
		}
		start := i
		for i < len(s) && isTchar(s[i]) {
			i++
		}
		name := s[start:i]
		if name == "" {
			return fmt.Errorf("%w: expected a directive name at offset %d", errMalformed, i)
		}
		i = skipSpace(s, i)
		if i == len(s) || s[i] != '=' {
			return fmt.Errorf("%w: expected '=' at offset %d", errMalformed, i)
		}
		i = skipSpace(s, i+1)
		var value string
		if i < len(s) && s[i] == '"' {
			var err error
			if value, i, err = quotedString(s, i); err != nil {
				return err
			}
		} else {
			start = i
			for i < len(s) && isTchar(s[i]) {
				i++
			}
			if i == start {
				return fmt.Errorf("%w: expected a value at offset %d", errMalformed, i)
			}
			value = s[start:i]
		}
		i = skipSpace(s, i)
		if i < len(s) && s[i] != ',' {
			return fmt.Errorf("%w: expected ',' at offset %d", errMalformed, i)
		}
		if err := fn(name, value); err != nil {
			return err
		}
	}
}

// quotedString reads the quoted-string starting at s[i] == '"' and returns
// its unescaped content and the offset after the closing quote. It
// allocates only when the string holds a quoted-pair.
func quotedString(s string, i int) (string, int, error) {
	i++
	start := i
	var b []byte // nil until the first backslash
	for i < len(s) {
		c := s[i]
		switch {
		case c == '"':
			if b == nil {
				return s[start:i], i + 1, nil
			}
			return string(b), i + 1, nil
		case c == '\\':
			if i+1 == len(s) || !isQuotedPairChar(s[i+1]) {
				return "", i, fmt.Errorf("%w: bad escape at offset %d", errMalformed, i)
			}
			if b == nil {
				b = append(make([]byte, 0, len(s)-start), s[start:i]...)
			}
			b = append(b, s[i+1])
			i += 2
		case isQdtext(c):
			if b != nil {
				b = append(b, c)
			}
			i++
		default:
			return "", i, fmt.Errorf("%w: control character at offset %d", errMalformed, i)
		}
	}
	return "", i, fmt.Errorf("%w: unterminated quoted string", errMalformed)
}

func skipSpace(s string, i int) int {
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	return i
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' }

// isTchar reports whether c is an RFC 9110 tchar.
func isTchar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// isQdtext reports whether c may appear unescaped in a quoted-string.
func isQdtext(c byte) bool {
	return c == '\t' || c == ' ' || c == 0x21 || (0x23 <= c && c <= 0x5B) || (0x5D <= c && c <= 0x7E) || c >= 0x80
}

// isQuotedPairChar reports whether c may follow a backslash.
func isQuotedPairChar(c byte) bool {
	return c == '\t' || c == ' ' || (0x21 <= c && c <= 0x7E) || c >= 0x80
}

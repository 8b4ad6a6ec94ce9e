package sasl

import (
	"fmt"
	"strings"
)

// directive is one key=value element of a DIGEST-MD5 challenge or response.
type directive struct {
	key   string // lower-cased
	value string // unquoted and unescaped
}

// parseDirectives parses the comma-separated list of RFC 2831 section 7.1:
// key=token or key="quoted string" (with backslash escapes), optional linear
// white space around every element, '=' and ',', and empty elements
// (",,"). Unquoted values are taken leniently: anything up to white space or
// a comma, except '"' and '='.
func parseDirectives(b []byte) ([]directive, error) {
	var ds []directive
	i, n := 0, len(b)
	for {
		i = skipLWS(b, i)
		if i == n {
			return ds, nil
		}
		if b[i] == ',' {
			i++
			continue
		}
		start := i
		for i < n && isTokenByte(b[i]) {
			i++
		}
		if i == start {
			return nil, fmt.Errorf("directive key expected at offset %d: %w", i, ErrMalformed)
		}
		key := strings.ToLower(string(b[start:i]))
		if i = skipLWS(b, i); i == n || b[i] != '=' {
			return nil, fmt.Errorf("directive %q: '=' expected: %w", key, ErrMalformed)
		}
		i = skipLWS(b, i+1)
		var value string
		if i < n && b[i] == '"' {
			var sb strings.Builder
			i++
			for ; i < n && b[i] != '"'; i++ {
				if b[i] == '\\' {
					if i++; i == n {
						break
					}
				}
				sb.WriteByte(b[i])
			}
			if i == n {
				return nil, fmt.Errorf("directive %q: unterminated quoted string: %w", key, ErrMalformed)
			}
			i++ // closing quote
			value = sb.String()
		} else {
			start = i
			for i < n && isTokenByte(b[i]) || i < n && b[i] == '=' {
				i++
			}
			if i == start {
				return nil, fmt.Errorf("directive %q: value expected: %w", key, ErrMalformed)
			}
			value = string(b[start:i])
		}
		if i = skipLWS(b, i); i < n && b[i] != ',' {
			return nil, fmt.Errorf("directive %q: ',' expected at offset %d: %w", key, i, ErrMalformed)
		}
		ds = append(ds, directive{key: key, value: value})
	}
}

// skipLWS returns the index of the first byte at or after i that is not
// linear white space.
func skipLWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}

// isTokenByte reports whether c may appear in a key or unquoted value:
// anything but controls, white space and the list's own punctuation.
func isTokenByte(c byte) bool {
	return c > ' ' && c != 0x7f && c != ',' && c != '"' && c != '=' && c != '\\'
}

// quote renders s as a quoted string, escaping '"' and '\'.
func quote(s string) string {
	var sb strings.Builder
	sb.Grow(len(s) + 2)
	sb.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			sb.WriteByte('\\')
		}
		sb.WriteByte(s[i])
	}
	sb.WriteByte('"')
	return sb.String()
}

package realm

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// property is one key=value pair of a Java properties file, with the
// (1-based) line on which its logical line starts.
type property struct {
	key, value string
	line       int
}

// comment is one comment line (without its leading '#' or '!').
type comment struct {
	text string
	line int
}

// errMalformedEscape reports a \u escape without four hex digits, which
// java.util.Properties.load rejects too.
var errMalformedEscape = errors.New("malformed \\uxxxx escape")

// parseProperties reads the java.util.Properties text format: natural lines
// end in \n, \r or \r\n; a line whose first non-blank character is '#' or
// '!' is a comment; a logical line continues on the next natural line when
// it ends in an odd number of backslashes (the continuation's leading blanks
// are dropped); the key ends at the first unescaped '=', ':' or blank, then
// blanks and one optional '=' or ':' are skipped; escapes are \t \n \r \f,
// \uXXXX (UTF-16, surrogate pairs joined), and \c for any other c.
// On a malformed escape it returns the line number where the logical line
// starts. It never panics, whatever the input.
//
// This is a configuration file read at startup and on change, not a hot
// path: it favours plain code over avoiding allocations.
func parseProperties(data []byte) ([]property, []comment, int, error) {
	var props []property
	var comments []comment
	line := 0
	var logical []byte
	start := 0
	cont := false
	for len(data) > 0 {
		// Cut one natural line.
		i := bytes.IndexAny(data, "\r\n")
		var nat []byte
		if i < 0 {
			nat, data = data, nil
		} else {
			nat = data[:i]
			if data[i] == '\r' && i+1 < len(data) && data[i+1] == '\n' {
				data = data[i+2:]
			} else {
				data = data[i+1:]
			}
		}
		line++
		trimmed := bytes.TrimLeft(nat, " \t\f")
		if !cont {
			if len(trimmed) == 0 {
				continue
			}
			if trimmed[0] == '#' || trimmed[0] == '!' {
				comments = append(comments, comment{text: string(trimmed[1:]), line: line})
				continue
			}
			logical = logical[:0]
			start = line
		}
		// A line ending in an odd number of backslashes continues.
		n := 0
		for j := len(trimmed) - 1; j >= 0 && trimmed[j] == '\\'; j-- {
			n++
		}
		if n%2 == 1 {
			logical = append(logical, trimmed[:len(trimmed)-1]...)
			cont = true
			if len(data) > 0 {
				continue
			}
		} else {
			logical = append(logical, trimmed...)
			cont = false
		}
		p, err := splitProperty(logical)
		if err != nil {
			return nil, nil, start, err
		}
		p.line = start
		props = append(props, p)
		cont = false
	}
	return props, comments, 0, nil
}

// splitProperty splits one logical line into its unescaped key and value.
func splitProperty(l []byte) (property, error) {
	keyEnd := len(l)
	valueStart := len(l)
	hasSep := false
	escaped := false
	for i := 0; i < len(l); i++ {
		c := l[i]
		if escaped {
			escaped = false
			continue
		}
		if c == '\\' {
			escaped = true
			continue
		}
		if c == '=' || c == ':' {
			keyEnd, valueStart, hasSep = i, i+1, true
			break
		}
		if c == ' ' || c == '\t' || c == '\f' {
			keyEnd, valueStart = i, i+1
			break
		}
	}
	for valueStart < len(l) {
		c := l[valueStart]
		if c != ' ' && c != '\t' && c != '\f' {
			if hasSep || (c != '=' && c != ':') {
				break
			}
			hasSep = true
		}
		valueStart++
	}
	key, err := unescape(l[:keyEnd])
	if err != nil {
		return property{}, err
	}
	value, err := unescape(l[valueStart:])
	if err != nil {
		return property{}, err
	}
	return property{key: key, value: value}, nil
}

// unescape applies the escapes of the properties format. Invalid UTF-8 is
// kept byte for byte (replaced by U+FFFD only when converted to runes).
func unescape(s []byte) (string, error) {
	if bytes.IndexByte(s, '\\') < 0 {
		return string(s), nil
	}
	var b strings.Builder
	b.Grow(len(s))
	var high rune // a pending UTF-16 high surrogate from a \u escape
	flush := func() {
		if high != 0 {
			b.WriteRune(utf8.RuneError)
			high = 0
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 == len(s) {
			flush()
			b.WriteByte(c)
			continue
		}
		i++
		c = s[i]
		switch c {
		case 't':
			flush()
			b.WriteByte('\t')
		case 'n':
			flush()
			b.WriteByte('\n')
		case 'r':
			flush()
			b.WriteByte('\r')
		case 'f':
			flush()
			b.WriteByte('\f')
		case 'u':
			var v rune
			if i+4 >= len(s) {
				return "", errMalformedEscape
			}
			for _, h := range s[i+1 : i+5] {
				v <<= 4
				switch {
				case h >= '0' && h <= '9':
					v |= rune(h - '0')
				case h >= 'a' && h <= 'f':
					v |= rune(h-'a') + 10
				case h >= 'A' && h <= 'F':
					v |= rune(h-'A') + 10
				default:
					return "", errMalformedEscape
				}
			}
			i += 4
			switch {
			case utf16.IsSurrogate(v) && v < 0xdc00:
				flush()
				high = v
			case utf16.IsSurrogate(v) && high != 0:
				b.WriteRune(utf16.DecodeRune(high, v))
				high = 0
			default:
				flush()
				b.WriteRune(v)
			}
		default:
			flush()
			b.WriteByte(c)
		}
	}
	flush()
	return b.String(), nil
}

// escape writes s in the form java.util.Properties.store(Writer, …) uses:
// '\\', '=', ':', '#', '!' and spaces (in keys, or at the start of a value)
// are backslash-escaped and everything else is written as UTF-8, except
// control characters: store writes \t \n \r \f, which Infinispan's own
// users.properties parser reads as the letters, so they become \uXXXX,
// which every parser reads alike.
func escape(b *strings.Builder, s string, isKey bool) {
	for i, r := range s {
		switch r {
		case '\\':
			b.WriteString(`\\`)
		case ' ':
			if isKey || i == 0 {
				b.WriteString(`\ `)
			} else {
				b.WriteByte(' ')
			}
		case '=', ':', '#', '!':
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			if r < 0x20 || r == 0x7f {
				fmt.Fprintf(b, `\u%04X`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
}

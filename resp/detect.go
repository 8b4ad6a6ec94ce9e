package resp

import "bytes"

// Detect reports whether a connection whose first bytes are prefix speaks
// RESP, or whether more bytes are needed to tell. Unlike Infinispan's
// detector (which only claims HELLO, AUTH, COMMAND and SELECT), it accepts
// whatever a Redis client sends first.
//
// What it claims:
//   - a multibulk command: "*<count>\r\n$" — no other protocol on the
//     single port starts with '*';
//   - an inline command: a complete first line whose first word is a
//     command this server knows (case-insensitive) and which does not
//     contain " HTTP/" (so "GET / HTTP/1.1" stays HTTP). A first word that
//     is also a memcached text command ("get", "set", "incr", "quit" …) is
//     claimed only when written in upper case, as memcached commands are
//     always lower case: "get key\r\n" and "set k 0 0 1\r\n" stay memcached,
//     "GET key\r\n" is RESP.
//
// needMore is true while the prefix is consistent with a RESP start but too
// short to decide. The rule does not depend on the order in which the
// router asks the detectors.
func Detect(prefix []byte) (match bool, needMore bool) {
	if len(prefix) == 0 {
		return false, true
	}
	if prefix[0] == '*' {
		i := 1
		for i < len(prefix) && prefix[i] >= '0' && prefix[i] <= '9' && i < 12 {
			i++
		}
		if i == 1 {
			if len(prefix) == 1 {
				return false, true
			}
			return prefix[1] == '-', false // "*-1\r\n" is a (null) RESP command too
		}
		rest := prefix[i:]
		want := "\r\n$"
		for j := 0; j < len(want); j++ {
			if j == len(rest) {
				return false, true
			}
			if rest[j] != want[j] {
				return false, false
			}
		}
		return true, false
	}
	end := 0
	for end < len(prefix) && prefix[end] != ' ' && prefix[end] != '\t' && prefix[end] != '\r' && prefix[end] != '\n' {
		end++
	}
	word := prefix[:end]
	if end == len(prefix) {
		// The first word is still arriving: wait while it can become a
		// command name.
		if end > maxNameLen {
			return false, false
		}
		var low [maxNameLen]byte
		lw := lower(low[:0], word)
		for name := range commandNames {
			if len(name) >= len(lw) && name[:len(lw)] == string(lw) {
				return false, true
			}
		}
		return false, false
	}
	if len(word) == 0 || len(word) > maxNameLen {
		return false, false
	}
	var low [maxNameLen]byte
	lw := lower(low[:0], word)
	if _, ok := commandNames[string(lw)]; !ok {
		return false, false
	}
	if memcachedWords[string(word)] {
		return false, false
	}
	nl := bytes.IndexByte(prefix, '\n')
	if nl < 0 {
		return false, len(prefix) < maxInline
	}
	if bytes.Contains(prefix[:nl], []byte(" HTTP/")) {
		return false, false
	}
	return true, false
}

// memcachedWords are the memcached text commands (lower case, as memcached
// requires); RESP leaves these words to memcached's detector.
var memcachedWords = map[string]bool{
	"get": true, "gets": true, "gat": true, "gats": true, "set": true, "add": true,
	"replace": true, "append": true, "prepend": true, "cas": true, "delete": true,
	"incr": true, "decr": true, "touch": true, "flush_all": true, "version": true,
	"verbosity": true, "stats": true, "quit": true, "mn": true, "mg": true, "ms": true,
	"md": true, "ma": true, "me": true,
}

// maxNameLen bounds command names (the longest is "zremrangebyscore").
const maxNameLen = 24

// lower appends the ASCII lower-case form of b to dst.
func lower(dst, b []byte) []byte {
	for _, c := range b {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

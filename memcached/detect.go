package memcached

import "bytes"

// Detect reports whether a connection whose first bytes are prefix speaks
// memcached, or whether more bytes are needed to tell.
//
// What it claims:
//   - binary: the first byte is 0x80 (the request magic);
//   - text: a first line (ending in "\n", usually "\r\n") whose first word
//     is a lower-case memcached command with the arguments memcached's
//     syntax requires:
//     get|gets <key>+; gat|gats <exptime> <key>+;
//     set|add|replace|append|prepend <key> <flags> <exptime> <bytes> [noreply];
//     cas <key> <flags> <exptime> <bytes> <cas> [noreply];
//     incr|decr <key> <number> [noreply]; touch <key> <exptime> [noreply];
//     delete <key> [0] [noreply]; flush_all [delay] [noreply];
//     verbosity [anything]; version; stats [args]; quit;
//     mn; mg|md|ma|me <key> [flags]; ms <key> <datalen> [flags].
//     Words are separated by single or repeated spaces.
//
// Upper-case words are never claimed (HTTP's "GET / HTTP/1.1", RESP inline
// commands written in upper case). Lower-case RESP inline commands whose
// arguments do not fit memcached's syntax are left alone too ("set k v",
// "incr k", "append k v", "touch k", "get" without a key), but those that do
// fit are claimed: "get k\r\n", "quit\r\n", "incr k 5\r\n" and
// "touch k 10\r\n" are memcached. A first line longer than 2048 bytes is
// claimed only if it starts with "get " or "gets " (a large multi-get).
// needMore is true while the prefix is too short to decide.
func Detect(prefix []byte) (match bool, needMore bool) {
	if len(prefix) == 0 {
		return false, true
	}
	if prefix[0] == binaryRequestMagic {
		return true, false
	}
	// The first word must be a command, or a prefix of one while the
	// word is incomplete.
	end := 0
	for end < len(prefix) && prefix[end] != ' ' && prefix[end] != '\r' && prefix[end] != '\n' {
		end++
	}
	word := prefix[:end]
	if end == len(prefix) {
		if end > len("flush_all") {
			return false, false
		}
		for _, w := range commandWords {
			if len(word) < len(w) && w[:len(word)] == string(word) {
				return false, true
			}
			if string(word) == w {
				return false, true
			}
		}
		return false, false
	}
	if !isCommandWord(word) {
		return false, false
	}
	nl := bytes.IndexByte(prefix, '\n')
	if nl < 0 {
		if len(prefix) > maxLineLen {
			return isGetLine(prefix), false
		}
		return false, true
	}
	line := prefix[:nl]
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	return validLine(line), false
}

var commandWords = []string{
	"get", "gets", "gat", "gats", "set", "add", "replace", "append", "prepend", "cas",
	"delete", "incr", "decr", "touch", "flush_all", "version", "verbosity", "stats",
	"quit", "mn", "mg", "ms", "md", "ma", "me",
}

func isCommandWord(w []byte) bool {
	for _, c := range commandWords {
		if string(w) == c {
			return true
		}
	}
	return false
}

// validLine checks a complete first line against the command's syntax.
func validLine(line []byte) bool {
	var toks [maxTokens + 1][]byte
	n := 0
	rest := line
	for n <= maxTokens {
		t, r := nextToken(rest)
		if t == nil {
			break
		}
		toks[n] = t
		n++
		rest = r
	}
	if n == 0 {
		return false
	}
	args := toks[1:n]
	noreply := len(args) > 0 && string(args[len(args)-1]) == "noreply"
	num := func(b []byte) bool { _, ok := parseUint(b, 64); return ok }
	signed := func(b []byte) bool { _, ok := parseInt(b); return ok }
	switch string(toks[0]) {
	case "get", "gets":
		return len(args) >= 1
	case "gat", "gats":
		return len(args) >= 2 && signed(args[0])
	case "set", "add", "replace", "append", "prepend":
		return (len(args) == 4 || len(args) == 5 && noreply) &&
			num(args[1]) && signed(args[2]) && num(args[3])
	case "cas":
		return (len(args) == 5 || len(args) == 6 && noreply) &&
			num(args[1]) && signed(args[2]) && num(args[3]) && num(args[4])
	case "incr", "decr":
		return (len(args) == 2 || len(args) == 3 && noreply) && num(args[1])
	case "touch":
		return (len(args) == 2 || len(args) == 3 && noreply) && signed(args[1])
	case "delete":
		return len(args) >= 1 && len(args) <= 3
	case "flush_all":
		return len(args) <= 2
	case "verbosity":
		// Any verbosity line is memcached's, even a malformed one that
		// it answers with ERROR (memccapable opens with one); no other
		// protocol has the word.
		return true
	case "version", "stats", "quit", "mn":
		return true
	case "mg", "md", "ma", "me":
		return len(args) >= 1
	case "ms":
		return len(args) >= 2 && num(args[1])
	}
	return false
}

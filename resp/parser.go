package resp

import "bytes"

// Protocol limits, as Redis applies them.
const (
	// maxInline bounds an inline command and a header line.
	maxInline = 64 << 10
	// maxArgs bounds the number of arguments of one command.
	maxArgs = 1 << 20
)

// protoError is a protocol error: it is answered and the connection is
// closed, because the stream cannot be resynchronised.
type protoError string

func (e protoError) Error() string { return string(e) }

// parser splits the input into commands. Arguments alias the read buffer
// (args is scratch reused for every command), so a command must be fully
// executed before the buffer is compacted or refilled. Parsing is
// resumable: an incomplete multibulk command keeps the offsets of the
// arguments already seen, so a large command that arrives in many reads is
// not re-scanned from its start each time.
type parser struct {
	maxBulk int

	args [][]byte
	offs []int // start, end offsets of complete arguments, relative to the command start
	// State of the command being parsed: pos is the offset of the next
	// byte to parse; nargs is the multibulk count, or 0 before the header.
	pos   int
	nargs int
	// need is how many bytes (from the command start) the pending argument
	// needs, so that the connection can grow its buffer in one step.
	need int
}

func (p *parser) reset() {
	p.pos, p.nargs, p.need = 0, 0, 0
	p.offs = p.offs[:0]
}

// parse parses one command at the start of buf. It returns the number of
// bytes consumed (0 if the command is incomplete) and the arguments; a
// complete command with no arguments (an empty line, "*0") has n > 0 and
// no args.
func (p *parser) parse(buf []byte) (n int, args [][]byte, err error) {
	if len(buf) == 0 {
		return 0, nil, nil
	}
	if buf[0] != '*' {
		return p.inline(buf)
	}
	if p.nargs == 0 {
		line, next, ok := headerLine(buf, 1)
		if !ok {
			if len(buf) > maxInline {
				return 0, nil, protoError("ERR Protocol error: too big mbulk count string")
			}
			return 0, nil, nil
		}
		cnt, ok := parseDecimal(line)
		if !ok || cnt > maxArgs {
			return 0, nil, protoError("ERR Protocol error: invalid multibulk length")
		}
		if cnt <= 0 {
			p.reset()
			return next, nil, nil
		}
		p.nargs = int(cnt)
		p.pos = next
		p.offs = p.offs[:0]
	}
	for len(p.offs) < 2*p.nargs {
		if p.pos >= len(buf) {
			p.need = p.pos + 1
			return 0, nil, nil
		}
		if buf[p.pos] != '$' {
			c := buf[p.pos]
			p.reset()
			return 0, nil, protoError("ERR Protocol error: expected '$', got '" + string(rune(c)) + "'")
		}
		line, next, ok := headerLine(buf, p.pos+1)
		if !ok {
			if len(buf)-p.pos > maxInline {
				p.reset()
				return 0, nil, protoError("ERR Protocol error: too big bulk count string")
			}
			p.need = 0
			return 0, nil, nil
		}
		l, ok := parseDecimal(line)
		if !ok || l < 0 || l > int64(p.maxBulk) {
			p.reset()
			return 0, nil, protoError("ERR Protocol error: invalid bulk length")
		}
		end := next + int(l)
		if end+2 > len(buf) {
			p.need = end + 2
			return 0, nil, nil
		}
		p.offs = append(p.offs, next, end)
		p.pos = end + 2
	}
	n = p.pos
	args = p.argSlices(buf)
	p.reset()
	return n, args, nil
}

func (p *parser) argSlices(buf []byte) [][]byte {
	p.args = p.args[:0]
	for i := 0; i < len(p.offs); i += 2 {
		s, e := p.offs[i], p.offs[i+1]
		p.args = append(p.args, buf[s:e:e])
	}
	return p.args
}

// headerLine returns the bytes from start up to the next CRLF and the
// offset after it.
func headerLine(buf []byte, start int) (line []byte, next int, ok bool) {
	i := bytes.IndexByte(buf[start:], '\r')
	if i < 0 || start+i+1 >= len(buf) {
		return nil, 0, false
	}
	return buf[start : start+i], start + i + 2, true
}

// parseDecimal parses a header count: an optional '-' and digits.
func parseDecimal(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	neg := b[0] == '-'
	if neg {
		b = b[1:]
		if len(b) == 0 {
			return 0, false
		}
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

// inline parses an inline command: a line of space-separated arguments,
// with Redis' double and single quoting. Quoted arguments are unescaped in
// place (unescaping only shortens them).
func (p *parser) inline(buf []byte) (int, [][]byte, error) {
	nl := bytes.IndexByte(buf, '\n')
	if nl < 0 {
		if len(buf) > maxInline {
			return 0, nil, protoError("ERR Protocol error: too big inline request")
		}
		return 0, nil, nil
	}
	line := buf[:nl]
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	p.offs = p.offs[:0]
	i := 0
	for {
		for i < len(line) && isSpace(line[i]) {
			i++
		}
		if i == len(line) {
			break
		}
		start := i
		switch line[i] {
		case '"':
			w := i
			i++
			closed := false
			for i < len(line) {
				c := line[i]
				if c == '\\' && i+3 < len(line) && line[i+1] == 'x' && isHex(line[i+2]) && isHex(line[i+3]) {
					line[w] = unhex(line[i+2])<<4 | unhex(line[i+3])
					i += 4
				} else if c == '\\' && i+1 < len(line) {
					switch line[i+1] {
					case 'n':
						c = '\n'
					case 'r':
						c = '\r'
					case 't':
						c = '\t'
					case 'b':
						c = '\b'
					case 'a':
						c = '\a'
					default:
						c = line[i+1]
					}
					line[w] = c
					i += 2
				} else if c == '"' {
					i++
					if i < len(line) && !isSpace(line[i]) {
						return 0, nil, protoError("ERR Protocol error: unbalanced quotes in request")
					}
					closed = true
					break
				} else {
					line[w] = c
					i++
				}
				w++
			}
			if !closed {
				return 0, nil, protoError("ERR Protocol error: unbalanced quotes in request")
			}
			p.offs = append(p.offs, start, w)
		case '\'':
			w := i
			i++
			closed := false
			for i < len(line) {
				c := line[i]
				if c == '\\' && i+1 < len(line) && line[i+1] == '\'' {
					line[w] = '\''
					i += 2
				} else if c == '\'' {
					i++
					if i < len(line) && !isSpace(line[i]) {
						return 0, nil, protoError("ERR Protocol error: unbalanced quotes in request")
					}
					closed = true
					break
				} else {
					line[w] = c
					i++
				}
				w++
			}
			if !closed {
				return 0, nil, protoError("ERR Protocol error: unbalanced quotes in request")
			}
			p.offs = append(p.offs, start, w)
		default:
			for i < len(line) && !isSpace(line[i]) {
				i++
			}
			p.offs = append(p.offs, start, i)
		}
		if len(p.offs) > 2*maxArgs {
			return 0, nil, protoError("ERR Protocol error: invalid multibulk length")
		}
	}
	args := p.argSlices(buf)
	p.offs = p.offs[:0]
	return nl + 1, args, nil
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

package realm

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestParseProperties(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []property
	}{
		{"a=b", []property{{"a", "b", 1}}},
		{"a:b\r\nc = d\re\tf", []property{{"a", "b", 1}, {"c", "d", 2}, {"e", "f", 3}}},
		{"  # comment\n! other\n\nk\\:ey\\=x=v\\:1\\=2", []property{{"k:ey=x", "v:1=2", 4}}},
		{"key\\ with\\ spaces = value with spaces ", []property{{"key with spaces", "value with spaces ", 1}}},
		{"u=\\u00fc\\u00EF\\uD83D\\uDE00", []property{{"u", "üï😀", 1}}},
		{"esc=\\t\\n\\r\\f\\\\\\x", []property{{"esc", "\t\n\r\f\\x", 1}}},
		{"long=one, \\\n    two, \\\r\n\tthree\nnext", []property{{"long", "one, two, three", 1}, {"next", "", 4}}},
		{"even=ends\\\\\nx=y", []property{{"even", "ends\\", 1}, {"x", "y", 2}}},
		{"onlykey", []property{{"onlykey", "", 1}}},
		{"k==v", []property{{"k", "=v", 1}}},
		{"k :  v", []property{{"k", "v", 1}}},
		{"# c \\\nk=v", []property{{"k", "v", 2}}},
		{"tail=x\\", []property{{"tail", "x", 1}}},
	} {
		got, _, _, err := parseProperties([]byte(tc.in))
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if len(got) != len(tc.want) {
			t.Errorf("%q: got %+v, want %+v", tc.in, got, tc.want)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("%q: entry %d = %+v, want %+v", tc.in, i, got[i], tc.want[i])
			}
		}
	}
}

func TestParsePropertiesMalformed(t *testing.T) {
	for _, in := range []string{"a=\\u12", "ok=1\n\nb=\\uZZZZ", "x\\u0=1"} {
		_, _, line, err := parseProperties([]byte(in))
		if !errors.Is(err, errMalformedEscape) {
			t.Errorf("%q: err %v", in, err)
		}
		if line == 0 {
			t.Errorf("%q: no line", in)
		}
	}
	if _, _, line, _ := parseProperties([]byte("ok=1\n\nb=\\uZZZZ")); line != 3 {
		t.Errorf("line %d, want 3", line)
	}
}

func TestEscapeRoundTrip(t *testing.T) {
	for _, s := range []string{"", "plain", " lead", "a b", "k:v=w#x!y\\z", "tab\tnl\ncr\rff\f\x00\x1f\x7f",
		"üñí©ødé 😀", "scram-sha-1:AAA==;digest-md5:BBB=;", "#start", "!bang", "trailing\\"} {
		for _, isKey := range []bool{true, false} {
			var b strings.Builder
			escape(&b, s, isKey)
			esc := b.String()
			if strings.ContainsAny(esc, "\n\r") {
				t.Errorf("%q escaped to several lines: %q", s, esc)
			}
			var line string
			if isKey {
				line = esc + "=v"
			} else {
				line = "k=" + esc
			}
			props, _, _, err := parseProperties([]byte(line))
			if err != nil || len(props) != 1 {
				t.Fatalf("%q: %v %+v", line, err, props)
			}
			got := props[0].value
			if isKey {
				got = props[0].key
			}
			if got != s {
				t.Errorf("round trip of %q via %q gave %q", s, esc, got)
			}
		}
	}
}

// FuzzParseProperties feeds arbitrary bytes, whole and split at random
// points and rejoined with every line terminator: parse or fail, never
// panic, and whatever parses must survive escape and parse again.
func FuzzParseProperties(f *testing.F) {
	for _, s := range []string{"a=b", "#$REALM_NAME=default$\n#$ALGORITHM=encrypted$\nadmin=scram-sha-1\\:BYGc\\=;",
		"k\\\n  v", "\\u00", "\\uD83D\\uDE00=x", "a b c\r\nd:e\rf\\"} {
		f.Add([]byte(s), uint64(1))
	}
	f.Fuzz(func(t *testing.T, data []byte, seed uint64) {
		r := rand.New(rand.NewPCG(seed, seed))
		var chunks [][]byte
		for rest := data; len(rest) > 0; {
			n := 1 + r.IntN(len(rest))
			chunks = append(chunks, rest[:n])
			rest = rest[n:]
		}
		for _, in := range [][]byte{data, bytes.Join(chunks, []byte("\n")), bytes.Join(chunks, []byte("\r\n")), bytes.Join(chunks, []byte("\\\n"))} {
			props, _, _, err := parseProperties(in)
			if err != nil {
				continue
			}
			var b strings.Builder
			for _, p := range props {
				escape(&b, p.key, true)
				b.WriteByte('=')
				escape(&b, p.value, false)
				b.WriteByte('\n')
			}
			again, _, _, err := parseProperties([]byte(b.String()))
			if err != nil {
				t.Fatalf("re-parse of %q: %v", b.String(), err)
			}
			if len(again) != len(props) {
				t.Fatalf("re-parse: %d entries, want %d", len(again), len(props))
			}
			for i := range props {
				// Invalid UTF-8 comes back as one U+FFFD per bad byte.
				if want := string([]rune(props[i].key)); again[i].key != want {
					t.Fatalf("key %q became %q", props[i].key, again[i].key)
				}
				if want := string([]rune(props[i].value)); again[i].value != want {
					t.Fatalf("value %q became %q", props[i].value, again[i].value)
				}
			}
		}
	})
}

package httpauth

import (
	"errors"
	"strings"
	"testing"
)

const validParams = `username="Mufasa", realm="http-auth@example.org", uri="/dir/index.html", algorithm=MD5, ` +
	`nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", nc=00000001, cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", ` +
	`qop=auth, response="8ca523f5e9506fed4657c9700eebdbec", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"`

func TestParseDigest(t *testing.T) {
	p, err := parseDigest(validParams)
	if err != nil {
		t.Fatal(err)
	}
	if p.username != "Mufasa" || p.realm != "http-auth@example.org" || p.uri != "/dir/index.html" || p.algorithm != "MD5" ||
		p.nc != "00000001" || p.qop != "auth" || p.response != "8ca523f5e9506fed4657c9700eebdbec" || p.opaque == "" {
		t.Errorf("parsed %+v", p)
	}

	// Whitespace, empty elements, upper-case names, quoted tokens (as
	// Python requests sends qop and algorithm), escapes, unknown directives.
	p, err = parseDigest(" ,USERNAME = \"a\\\"b\\\\c\" ,,\trealm=\"r\" , nonce=n, uri=\"/x?y=1\", response=\"00\", " +
		"qop=\"auth\", nc=00000001, cnonce=\"c\", algorithm=\"SHA-256\", foo=bar, foo=\"baz\", userhash=false ,")
	if err != nil {
		t.Fatal(err)
	}
	if p.username != `a"b\c` || p.qop != "auth" || p.algorithm != "SHA-256" || p.uri != "/x?y=1" || p.userhash != "false" {
		t.Errorf("parsed %+v", p)
	}

	for _, tc := range []struct{ name, in, errText string }{
		{"empty", "", "missing username"},
		{"duplicate", validParams + `, realm="x"`, "duplicate realm"},
		{"duplicate case", validParams + `, Nonce="x"`, "duplicate nonce"},
		{"missing response", strings.Replace(validParams, `response=`, `resp=`, 1), "missing response"},
		{"missing nc", strings.Replace(validParams, `nc=`, `nx=`, 1), "missing nc"},
		{"missing qop", strings.Replace(validParams, `qop=auth`, `x=auth`, 1), "missing qop"},
		{"unterminated", `username="abc`, "unterminated"},
		{"bad escape end", `username="abc\`, "bad escape"},
		{"control", "username=\"a\x01b\"", "control character"},
		{"newline", "username=\"a\nb\"", "control character"},
		{"no value", `username=, realm="r"`, "expected a value"},
		{"no equals", `username "a"`, "expected '='"},
		{"junk after value", `username="a" "b"`, "expected ','"},
		{"junk name", `="a"`, "expected a directive name"},
		{"username star", validParams + `, username*=UTF-8''J%C3%A4s`, "username*"},
	} {
		_, err := parseDigest(tc.in)
		if !errors.Is(err, errMalformed) || !strings.Contains(err.Error(), tc.errText) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.errText)
		}
	}
}

// TestParseDigestAllocs keeps the escape-free path allocation-free.
func TestParseDigestAllocs(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() { _, _ = parseDigest(validParams) }); n != 0 {
		t.Errorf("%v allocations", n)
	}
}

// TestParseDigestErrorsHideValues: errors name directives, never values.
func TestParseDigestErrorsHideValues(t *testing.T) {
	_, err := parseDigest(`username="topsecret", response="deadbeef", response="cafebabe"`)
	if err == nil || strings.Contains(err.Error(), "deadbeef") || strings.Contains(err.Error(), "cafebabe") || strings.Contains(err.Error(), "topsecret") {
		t.Errorf("error %v", err)
	}
}

func FuzzParseDigest(f *testing.F) {
	f.Add(validParams)
	f.Add(`username="a\"b", realm="r", nonce=n, uri="/", response=x, qop="auth", nc=00000001, cnonce=c`)
	f.Add(`,,, a=b,`)
	f.Add(`username="`)
	f.Fuzz(func(t *testing.T, s string) {
		p, err := parseDigest(s)
		if err != nil {
			if !errors.Is(err, errMalformed) {
				t.Fatalf("error %v does not wrap errMalformed", err)
			}
			return
		}
		if p.seen&digestRequired != digestRequired {
			t.Fatalf("accepted without required directives: %q", s)
		}
	})
}

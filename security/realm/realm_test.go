package realm

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestPacked(t *testing.T) {
	for _, tc := range []struct {
		v    int
		want string
	}{{0, "00"}, {1, "01"}, {12, "0c"}, {127, "807f"}, {128, "8100"}, {4096, "a000"}, {16383, "80ff7f"}, {20000, "819c20"}} {
		got := hex.EncodeToString(appendPacked(nil, tc.v))
		if got != tc.want {
			t.Errorf("packed(%d) = %s, want %s", tc.v, got, tc.want)
		}
		v, rest, ok := readPacked(appendPacked(nil, tc.v))
		if !ok || v != tc.v || len(rest) != 0 {
			t.Errorf("readPacked(packed(%d)) = %d %v", tc.v, v, ok)
		}
	}
}

// The documentation's sample value (proc_cli_user_create.adoc) begins
// "scram-sha-1\:BYGcIAwvf6b": spec 5, 20000 iterations, 12-byte salt 2f 7f a6….
func TestEncodingMatchesInfinispanSample(t *testing.T) {
	salt := []byte{0x2f, 0x7f, 0xa6, 0xc0, 4, 5, 6, 7, 8, 9, 10, 11}
	sp, err := scramSaltedPassword(ScramSHA1, "x", salt, scramIterations)
	if err != nil {
		t.Fatal(err)
	}
	c := credential{algorithm: ScramSHA1, hash: sp, salt: salt, iterations: scramIterations}
	if enc := c.encode(); !strings.HasPrefix(enc, "scram-sha-1:BYGcIAwvf6b") {
		t.Errorf("encoded %s", enc)
	}
}

func hmacOf(h func() hash.Hash, key []byte, msg string) []byte {
	m := hmac.New(h, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

// scramProof computes a SCRAM ClientProof and ServerSignature from a salted
// password (RFC 5802 section 3).
func scramProof(h func() hash.Hash, salted []byte, authMessage string) (proof, serverSig []byte) {
	clientKey := hmacOf(h, salted, "Client Key")
	d := h()
	d.Write(clientKey)
	stored := d.Sum(nil)
	sig := hmacOf(h, stored, authMessage)
	proof = make([]byte, len(clientKey))
	for i := range proof {
		proof[i] = clientKey[i] ^ sig[i]
	}
	return proof, hmacOf(h, hmacOf(h, salted, "Server Key"), authMessage)
}

// TestScramVectors checks the salted password through the exchanges of
// RFC 5802 (SCRAM-SHA-1) and RFC 7677 (SCRAM-SHA-256).
func TestScramVectors(t *testing.T) {
	for _, tc := range []struct {
		alg, salt, cnonce, snonce, proof, server string
		h                                        func() hash.Hash
	}{
		{ScramSHA1, "QSXCR+Q6sek8bf92", "fyko+d2lbbFgONRv9qkxdawL", "3rfcNHYJY1ZVvWVs7j",
			"v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=", "rmF9pqV8S7suAoZWja4dJRkFsKQ=", sha1.New},
		{ScramSHA256, "W22ZaJ0SNY7soEsUEjb6gQ==", "rOprNGfwEbeRWgbNEkqO", "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0",
			"dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=", "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=", sha256.New},
	} {
		salt, _ := base64.StdEncoding.DecodeString(tc.salt)
		sp, err := scramSaltedPassword(tc.alg, "pencil", salt, 4096)
		if err != nil {
			t.Fatal(err)
		}
		nonce := tc.cnonce + tc.snonce
		auth := fmt.Sprintf("n=user,r=%s,r=%s,s=%s,i=4096,c=biws,r=%s", tc.cnonce, nonce, tc.salt, nonce)
		proof, server := scramProof(tc.h, sp, auth)
		if got := base64.StdEncoding.EncodeToString(proof); got != tc.proof {
			t.Errorf("%s: proof %s, want %s", tc.alg, got, tc.proof)
		}
		if got := base64.StdEncoding.EncodeToString(server); got != tc.server {
			t.Errorf("%s: server signature %s, want %s", tc.alg, got, tc.server)
		}
	}
}

// TestDigestMD5Vector checks H(user:realm:password) through RFC 2831's
// example exchange (section 4), and RFC 2617's HA1 for Mufasa.
func TestDigestMD5Vector(t *testing.T) {
	d, err := userRealmDigest(DigestMD5, "chris", "elwood.innosoft.com", "secret")
	if err != nil {
		t.Fatal(err)
	}
	md := func(parts ...[]byte) []byte {
		h := md5.Sum(bytes.Join(parts, nil))
		return h[:]
	}
	hexs := func(b []byte) []byte { return []byte(hex.EncodeToString(b)) }
	a1 := md(d, []byte(":OA6MG9tEQGm2hh:OA6MHXh6VqTrRk"))
	a2 := md([]byte("AUTHENTICATE:imap/elwood.innosoft.com"))
	resp := hexs(md(hexs(a1), []byte(":OA6MG9tEQGm2hh:00000001:OA6MHXh6VqTrRk:auth:"), hexs(a2)))
	if string(resp) != "d388dad90d4bbd760a152321f2143af7" {
		t.Errorf("response %s", resp)
	}
	if got := legacyDigest("Mufasa", "testrealm@host.com", "Circle Of Life"); got != "939e7578ed9e3c518a452acee763bce9" {
		t.Errorf("HA1 %s", got)
	}
}

// testdata/users.properties was written by gen_users.py (Python's hashlib,
// independent of this package) in the layout of Infinispan's user tool.
func TestInfinispanFormatSample(t *testing.T) {
	r, err := Load("testdata/users.properties", "testdata/groups.properties")
	if err != nil {
		t.Fatal(err)
	}
	if r.Name() != "default" || r.Storage() != StorageEncrypted || r.Empty() {
		t.Fatalf("name %q storage %q empty %v", r.Name(), r.Storage(), r.Empty())
	}
	if got := r.Users(); !slices.Equal(got, []string{"a:b=c d", "admin", "ünïcode"}) {
		t.Errorf("users %q", got)
	}
	id, ok := r.Verify("admin", "changeme")
	if !ok || id.Name != "admin" || !slices.Equal(id.Groups, []string{"admin", "ops"}) {
		t.Errorf("admin: %+v %v", id, ok)
	}
	// Every stored credential, not just the one Verify picks, matches.
	s := r.cur.Load()
	for _, c := range s.accounts["admin"].creds {
		if !c.verify("changeme") || c.verify("changeMe") {
			t.Errorf("%s credential does not verify", c.algorithm)
		}
	}
	if len(s.accounts["admin"].creds) != len(DefaultAlgorithms) {
		t.Errorf("%d credentials", len(s.accounts["admin"].creds))
	}
	// NFKC: the ligature "ﬁsh" was hashed as "fish" for SCRAM.
	for _, c := range s.accounts["ünïcode"].creds {
		if !c.verify("\ufb01sh") {
			t.Errorf("ünïcode %s", c.algorithm)
		}
	}
	if _, ok := r.Verify("ünïcode", "\ufb01sh"); !ok {
		t.Error("ünïcode")
	}
	if id, ok := r.Verify("a:b=c d", "p@ss:word=1"); !ok || len(id.Groups) != 0 {
		t.Errorf("escaped user: %+v %v", id, ok)
	}
	for _, bad := range [][2]string{{"admin", "wrong"}, {"admin", ""}, {"nobody", "changeme"}, {"Admin", "changeme"}} {
		if _, ok := r.Verify(bad[0], bad[1]); ok {
			t.Errorf("%q/%q verified", bad[0], bad[1])
		}
	}
	c, err := r.Credential("admin", "SCRAM-SHA-256")
	if err != nil || c.Iterations != 20000 || len(c.Salt) != 12 || len(c.SaltedPassword) != 32 {
		t.Errorf("scram credential %+v %v", c, err)
	}
	if want, _ := scramSaltedPassword(ScramSHA256, "changeme", c.Salt, 20000); !bytes.Equal(want, c.SaltedPassword) {
		t.Error("salted password")
	}
	c, err = r.Credential("admin", "digest-md5")
	want := md5.Sum([]byte("admin:default:changeme"))
	if err != nil || !bytes.Equal(c.Digest, want[:]) || c.DigestRealm != "default" || c.DigestUser != "admin" {
		t.Errorf("digest credential %+v %v", c, err)
	}
	if _, err := r.Credential("admin", "PLAIN"); !errors.Is(err, ErrNoCredential) {
		t.Errorf("PLAIN on encrypted: %v", err)
	}
	if _, err := r.Credential("ünïcode", "SCRAM-SHA-512"); !errors.Is(err, ErrNoCredential) {
		t.Errorf("missing algorithm: %v", err)
	}
	if _, err := r.Credential("nobody", "PLAIN"); !errors.Is(err, ErrNoSuchUser) {
		t.Errorf("nobody: %v", err)
	}
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestClearAndDigestFiles(t *testing.T) {
	dir := t.TempDir()
	users, groups := filepath.Join(dir, "users.properties"), filepath.Join(dir, "groups.properties")
	writeFile(t, users, "# hand written, no header\nalice = secret \nbob:pa\\:ss\n")
	writeFile(t, groups, "alice=admin , ops,\ncarol=readers\n")
	r, err := Load(users, groups)
	if err != nil {
		t.Fatal(err)
	}
	if id, ok := r.Verify("alice", "secret"); !ok || !slices.Equal(id.Groups, []string{"admin", "ops"}) {
		t.Errorf("alice %+v %v", id, ok)
	}
	if _, ok := r.Verify("bob", "pa:ss"); !ok {
		t.Error("bob")
	}
	if _, ok := r.Verify("carol", ""); ok {
		t.Error("carol (groups only) verified")
	}
	if id, ok := r.Identity("carol"); !ok || id.Groups[0] != "readers" {
		t.Errorf("carol identity %+v", id)
	}
	if c, err := r.Credential("alice", "PLAIN"); err != nil || c.Password != "secret" {
		t.Errorf("plain %v", err)
	}
	c1, _ := r.Credential("alice", "SCRAM-SHA-256-PLUS")
	c2, _ := r.Credential("alice", "SCRAM-SHA-256")
	if want, _ := scramSaltedPassword(ScramSHA256, "secret", c1.Salt, c1.Iterations); !bytes.Equal(want, c1.SaltedPassword) || !bytes.Equal(c1.Salt, c2.Salt) {
		t.Error("derived scram credential")
	}
	if c, _ := r.Credential("alice", "DIGEST-SHA-256"); hex.EncodeToString(c.Digest) != fmt.Sprintf("%x", sha256.Sum256([]byte("alice:default:secret"))) {
		t.Error("derived digest")
	}

	writeFile(t, users, "#$REALM_NAME=ApplicationRealm$\n#$ALGORITHM=digest$\nalice="+legacyDigest("alice", "ApplicationRealm", "secret")+"\n")
	if changed, err := r.Reload(); !changed || err != nil {
		t.Fatalf("reload %v %v", changed, err)
	}
	if _, ok := r.Verify("alice", "secret"); !ok || r.Name() != "ApplicationRealm" {
		t.Error("digest alice")
	}
	if _, ok := r.Verify("alice", "Secret"); ok {
		t.Error("digest wrong password")
	}
	if c, err := r.Credential("alice", "DIGEST-MD5"); err != nil || c.DigestRealm != "ApplicationRealm" {
		t.Errorf("digest credential %v", err)
	}
	if changed, err := r.Reload(); changed || err != nil {
		t.Errorf("unchanged reload %v %v", changed, err)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	users := filepath.Join(dir, "users.properties")
	for _, tc := range []struct{ data, want string }{
		{"#$ALGORITHM=encrypted$\nok=scram-sha-1\\:BYGcIAwAAQIDBAUGBwgJCgso5H0yjF8JQrSMNmAHWyLmn7QQ5g\\=\\=;\nbad=scram-sha-1\\:AAAA;", "users.properties:3:"},
		{"#$ALGORITHM=encrypted$\n\nbad=nope-1\\:AAAA;", "users.properties:3:"},
		{"#$ALGORITHM=encrypted$\nbad=no colon", "users.properties:2:"},
		{"#$ALGORITHM=digest$\nbad=abc", "users.properties:2:"},
		{"#$ALGORITHM=rot13$\n", "users.properties:1:"},
		{"x=\\u00", "users.properties:1:"},
	} {
		writeFile(t, users, tc.data)
		_, err := Load(users, "")
		if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, ErrMalformed) {
			t.Errorf("%q: %v", tc.data, err)
			continue
		}
		if strings.Contains(err.Error(), "AAAA") || strings.Contains(err.Error(), "abc") {
			t.Errorf("error shows the stored value: %v", err)
		}
	}
	r, err := Load(filepath.Join(dir, "missing"), filepath.Join(dir, "missing2"))
	if err != nil || !r.Empty() {
		t.Errorf("missing files: %v", err)
	}
	// A failed reload keeps the previous contents.
	writeFile(t, users, "a=b\n")
	r, _ = Load(users, "")
	writeFile(t, users, "a=\\u0\n")
	if _, err := r.Reload(); err == nil {
		t.Error("bad reload accepted")
	}
	if _, ok := r.Verify("a", "b"); !ok {
		t.Error("lost previous contents")
	}
}

func TestPaths(t *testing.T) {
	u, g := Paths("", "", "")
	if u != filepath.Join("server", "conf", "users.properties") || g != filepath.Join("server", "conf", "groups.properties") {
		t.Errorf("%s %s", u, g)
	}
	u, g = Paths("/srv/root", "my-users.properties", "/etc/g.properties")
	if u != "/srv/root/conf/my-users.properties" || g != "/etc/g.properties" {
		t.Errorf("%s %s", u, g)
	}
}

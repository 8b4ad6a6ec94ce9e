package realm

import (
	"crypto/md5"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"math/bits"
	"strings"

	"golang.org/x/text/unicode/norm"
)

// Password algorithms as Elytron names them (org.wildfly.security.password.
// interfaces.ScramDigestPassword, DigestPassword and ClearPassword).
const (
	ScramSHA1       = "scram-sha-1"
	ScramSHA256     = "scram-sha-256"
	ScramSHA384     = "scram-sha-384"
	ScramSHA512     = "scram-sha-512"
	DigestMD5       = "digest-md5"
	DigestSHA       = "digest-sha"
	DigestSHA256    = "digest-sha-256"
	DigestSHA384    = "digest-sha-384"
	DigestSHA512    = "digest-sha-512"
	DigestSHA512256 = "digest-sha-512-256"
	Clear           = "clear"
)

// DefaultAlgorithms are the credentials Infinispan 15's user tool
// (org.infinispan.cli.user.UserTool.DEFAULT_ALGORITHMS) stores for each user
// when no algorithm is given. Infinispan 16.1 dropped scram-sha-1,
// digest-md5 and digest-sha; hotgrid speaks Infinispan 15, whose clients may
// still use DIGEST-MD5, so it keeps them.
var DefaultAlgorithms = []string{
	ScramSHA1, ScramSHA256, ScramSHA384, ScramSHA512,
	DigestMD5, DigestSHA, DigestSHA256, DigestSHA384, DigestSHA512,
}

// Elytron's defaults for new SCRAM credentials (ScramDigestPassword.
// DEFAULT_SALT_SIZE and DEFAULT_ITERATION_COUNT).
const (
	scramSaltSize   = 12
	scramIterations = 20000
)

// BasicPasswordSpecEncoding identifiers; Elytron says they never change.
const (
	specClear          = 1
	specDigest         = 2
	specIteratedSalted = 5
)

// maxIterations bounds the iteration count a file may ask for, so that a
// corrupt or hostile file cannot make Verify spin for minutes.
const maxIterations = 10_000_000

var (
	errUnknownAlgorithm = errors.New("unknown password algorithm")
	errBadCredential    = errors.New("malformed credential")
)

// credential is one stored password form.
type credential struct {
	algorithm string
	// clear holds the password of a clear credential.
	clear string
	// hash is the digest of a digest-* credential or the salted password
	// of a scram-* one.
	hash []byte
	// user and realm are bound into a digest-* credential.
	user, realm string
	// salt and iterations parameterise a scram-* credential.
	salt       []byte
	iterations int
}

// isScram reports whether alg names a SCRAM credential.
func isScram(alg string) bool { return strings.HasPrefix(alg, "scram-") }

// isDigest reports whether alg names a DIGEST (H(user:realm:password)) credential.
func isDigest(alg string) bool { return strings.HasPrefix(alg, "digest-") }

// hashFor returns the hash function behind an Elytron algorithm name.
func hashFor(alg string) (func() hash.Hash, bool) {
	switch alg {
	case ScramSHA1, DigestSHA:
		return sha1.New, true
	case ScramSHA256, DigestSHA256:
		return sha256.New, true
	case ScramSHA384, DigestSHA384:
		return sha512.New384, true
	case ScramSHA512, DigestSHA512:
		return sha512.New, true
	case DigestSHA512256:
		return sha512.New512_256, true
	case DigestMD5:
		return md5.New, true
	}
	return nil, false
}

// checkAlgorithm returns errUnknownAlgorithm unless alg can be generated.
func checkAlgorithm(alg string) error {
	if alg == Clear {
		return nil
	}
	if _, ok := hashFor(alg); !ok {
		return fmt.Errorf("%w %q", errUnknownAlgorithm, alg)
	}
	return nil
}

// scramSaltedPassword is SCRAM's Hi(Normalize(password), salt, i), which is
// PBKDF2 with the HMAC of the mechanism's hash and one block of output.
// Elytron (ScramDigestPasswordImpl.scramDigest) normalises the password with
// java.text.Normalizer NFKC before encoding it in UTF-8, and zero-pads the
// HMAC key to the block size, which HMAC does anyway.
func scramSaltedPassword(alg, password string, salt []byte, iterations int) ([]byte, error) {
	h, ok := hashFor(alg)
	if !ok || !isScram(alg) {
		return nil, fmt.Errorf("%w %q", errUnknownAlgorithm, alg)
	}
	if iterations < 1 || iterations > maxIterations {
		return nil, errBadCredential
	}
	return pbkdf2.Key(h, norm.NFKC.String(password), salt, iterations, h().Size())
}

// userRealmDigest is H(user ":" realm ":" password) over UTF-8, as DIGEST-MD5
// (RFC 2831's H(A1) prefix) and Elytron's DigestUtil.userRealmPasswordDigest
// compute it; the password is not normalised.
func userRealmDigest(alg, user, realm, password string) ([]byte, error) {
	h, ok := hashFor(alg)
	if !ok || !isDigest(alg) {
		return nil, fmt.Errorf("%w %q", errUnknownAlgorithm, alg)
	}
	d := h()
	d.Write([]byte(user))
	d.Write([]byte{':'})
	d.Write([]byte(realm))
	d.Write([]byte{':'})
	d.Write([]byte(password))
	return d.Sum(nil), nil
}

// newCredential derives a credential of algorithm alg from a clear password,
// with a fresh random salt for SCRAM.
func newCredential(alg, user, realm, password string) (credential, error) {
	switch {
	case alg == Clear:
		return credential{algorithm: Clear, clear: password}, nil
	case isScram(alg):
		salt := make([]byte, scramSaltSize)
		rand.Read(salt)
		sp, err := scramSaltedPassword(alg, password, salt, scramIterations)
		if err != nil {
			return credential{}, err
		}
		return credential{algorithm: alg, hash: sp, salt: salt, iterations: scramIterations}, nil
	case isDigest(alg):
		d, err := userRealmDigest(alg, user, realm, password)
		if err != nil {
			return credential{}, err
		}
		return credential{algorithm: alg, hash: d, user: user, realm: realm}, nil
	}
	return credential{}, fmt.Errorf("%w %q", errUnknownAlgorithm, alg)
}

// verify checks password against c in time independent of where they differ.
func (c *credential) verify(password string) bool {
	switch {
	case c.algorithm == Clear:
		return equalSecret(c.clear, password)
	case isScram(c.algorithm):
		sp, err := scramSaltedPassword(c.algorithm, password, c.salt, c.iterations)
		return err == nil && subtle.ConstantTimeCompare(sp, c.hash) == 1
	case isDigest(c.algorithm):
		d, err := userRealmDigest(c.algorithm, c.user, c.realm, password)
		return err == nil && subtle.ConstantTimeCompare(d, c.hash) == 1
	}
	return false
}

// equalSecret compares two secrets in constant time, length included:
// ConstantTimeCompare returns early on different lengths, so compare hashes.
func equalSecret(a, b string) bool {
	ha, hb := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
	return subtle.ConstantTimeCompare(ha[:], hb[:]) == 1
}

// Encrypted-form encoding.
//
// Infinispan's user tool (cli/src/main/java/org/infinispan/cli/user/
// UserTool.java, encryptPassword) writes each credential as
//
//	algorithm ":" base64(BasicPasswordSpecEncoding.encode(password)) ";"
//
// and the server (server/runtime/.../security/realm/
// EncryptedPropertiesSecurityRealm.java, load) splits the value on ';' and
// each part at its first ':'. Elytron's BasicPasswordSpecEncoding
// (credential/base/src/main/java/org/wildfly/security/password/spec/
// BasicPasswordSpecEncoding.java) lays the bytes out as
//
//	clear:            0x01 UTF-8(password)
//	digest-*:         0x02 packed(len(user)) user packed(len(realm)) realm H(user:realm:password)
//	iterated salted:  0x05 packed(iterations) packed(len(salt)) salt Hi(password, salt, iterations)
//
// where packed is wildfly-common's ByteStringBuilder.appendPackedUnsignedBE:
// big-endian groups of 7 bits, 0x80 on every byte but the last, with
// ceil((bitlen+1)/7) bytes — so a value whose bit length is a multiple of 7
// gets a leading 0x80 (127 is 0x80 0x7f). ByteIterator.getPackedBE32 reads
// any such form. SCRAM credentials use a 12-byte random salt and 20000
// iterations: the documentation's sample "scram-sha-1\:BYGcIAwvf6b..." starts
// 0x05 0x81 0x9c 0x20 0x0c, i.e. spec 5, 20000 iterations, 12-byte salt.
// Base64 is the standard alphabet with padding.

// appendPacked appends v as appendPackedUnsignedBE(int) does.
func appendPacked(b []byte, v int) []byte {
	if v > 0 {
		size := (bits.Len32(uint32(v)) + 7) / 7
		for s := (size - 1) * 7; s > 0; s -= 7 {
			b = append(b, byte(0x80|(v>>s)&0x7f))
		}
	}
	return append(b, byte(v&0x7f))
}

// readPacked reads a packed unsigned value, bounded to 31 bits.
func readPacked(b []byte) (int, []byte, bool) {
	v := 0
	for i, c := range b {
		if v > 0x00ff_ffff {
			return 0, nil, false
		}
		v = v<<7 | int(c&0x7f)
		if c&0x80 == 0 {
			return v, b[i+1:], true
		}
	}
	return 0, nil, false
}

// encode renders c as algorithm ":" base64 (without the ';').
func (c *credential) encode() string {
	var b []byte
	switch {
	case c.algorithm == Clear:
		b = append([]byte{specClear}, c.clear...)
	case isDigest(c.algorithm):
		b = append(b, specDigest)
		b = appendPacked(b, len(c.user))
		b = append(b, c.user...)
		b = appendPacked(b, len(c.realm))
		b = append(b, c.realm...)
		b = append(b, c.hash...)
	default:
		b = append(b, specIteratedSalted)
		b = appendPacked(b, c.iterations)
		b = appendPacked(b, len(c.salt))
		b = append(b, c.salt...)
		b = append(b, c.hash...)
	}
	return c.algorithm + ":" + base64.StdEncoding.EncodeToString(b)
}

// decodeCredential parses one algorithm ":" base64 part.
func decodeCredential(part string) (credential, error) {
	alg, enc, ok := strings.Cut(strings.TrimSpace(part), ":")
	if !ok {
		return credential{}, errBadCredential
	}
	alg = strings.TrimSpace(alg)
	if err := checkAlgorithm(alg); err != nil {
		return credential{}, err
	}
	enc = strings.TrimSpace(enc)
	raw, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		raw, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(enc, "="))
		if err != nil {
			return credential{}, errBadCredential
		}
	}
	if len(raw) == 0 {
		return credential{}, errBadCredential
	}
	c := credential{algorithm: alg}
	spec, rest := raw[0], raw[1:]
	switch {
	case alg == Clear && spec == specClear:
		c.clear = string(rest)
	case isDigest(alg) && spec == specDigest:
		var n int
		if n, rest, ok = readPacked(rest); !ok || n > len(rest) {
			return credential{}, errBadCredential
		}
		c.user, rest = string(rest[:n]), rest[n:]
		if n, rest, ok = readPacked(rest); !ok || n > len(rest) {
			return credential{}, errBadCredential
		}
		c.realm, c.hash = string(rest[:n]), rest[n:]
	case isScram(alg) && spec == specIteratedSalted:
		var n int
		if c.iterations, rest, ok = readPacked(rest); !ok || c.iterations < 1 || c.iterations > maxIterations {
			return credential{}, errBadCredential
		}
		if n, rest, ok = readPacked(rest); !ok || n > len(rest) {
			return credential{}, errBadCredential
		}
		c.salt, c.hash = rest[:n], rest[n:]
	default:
		return credential{}, errBadCredential
	}
	if c.algorithm != Clear {
		h, _ := hashFor(alg)
		if len(c.hash) != h().Size() {
			return credential{}, errBadCredential
		}
	}
	return c, nil
}

// decodeEncrypted parses an encrypted users.properties value: credentials
// separated (and usually terminated) by ';'.
func decodeEncrypted(value string) ([]credential, error) {
	var creds []credential
	for part := range strings.SplitSeq(value, ";") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		c, err := decodeCredential(part)
		if err != nil {
			return nil, err
		}
		creds = append(creds, c)
	}
	if len(creds) == 0 {
		return nil, errBadCredential
	}
	return creds, nil
}

// encodeEncrypted derives one credential per algorithm and renders them as
// Infinispan's user tool does, each followed by ';'.
func encodeEncrypted(user, realm, password string, algorithms []string) (string, error) {
	var b strings.Builder
	for _, alg := range algorithms {
		c, err := newCredential(alg, user, realm, password)
		if err != nil {
			return "", err
		}
		b.WriteString(c.encode())
		b.WriteByte(';')
	}
	return b.String(), nil
}

// legacyDigest is the value WildFly's add-user and Elytron's
// LegacyPropertiesSecurityRealm (plain-text="false") use: lower-case hex of
// MD5(user:realm:password).
func legacyDigest(user, realm, password string) string {
	d, _ := userRealmDigest(DigestMD5, user, realm, password)
	return hex.EncodeToString(d)
}

// decodeLegacyDigest parses a hex MD5 digest value.
func decodeLegacyDigest(user, realm, value string) (credential, error) {
	d, err := hex.DecodeString(strings.TrimSpace(value))
	if err != nil || len(d) != md5.Size {
		return credential{}, errBadCredential
	}
	return credential{algorithm: DigestMD5, hash: d, user: user, realm: realm}, nil
}

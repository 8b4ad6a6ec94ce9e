package realm

import (
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// Sentinel errors. Errors from this package name files and lines, never
// passwords or hashes.
var (
	// ErrNoSuchUser means the realm has no such user.
	ErrNoSuchUser = errors.New("realm: no such user")
	// ErrUserExists means a user of that name is already defined.
	ErrUserExists = errors.New("realm: user already exists")
	// ErrNoCredential means the user exists but no stored form serves the
	// mechanism (for example PLAIN against an encrypted entry).
	ErrNoCredential = errors.New("realm: no credential for mechanism")
	// ErrMalformed means a realm file does not parse.
	ErrMalformed = errors.New("realm: malformed file")
	// ErrUnknownAlgorithm means a password algorithm is not supported.
	ErrUnknownAlgorithm = errUnknownAlgorithm
	// ErrIncompatible means a password form does not match the form the
	// users file already uses (clear, encrypted or digest).
	ErrIncompatible = errors.New("realm: incompatible password storage")
	// ErrWrongRealm means a realm name differs from the one in the file.
	ErrWrongRealm = errors.New("realm: different realm name")
)

// ParseError locates a problem in a realm file.
type ParseError struct {
	File string
	Line int // 0 when the problem is not on one line
	Err  error
}

func (e *ParseError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.File, e.Err)
}

func (e *ParseError) Unwrap() []error { return []error{ErrMalformed, e.Err} }

// Identity is an authenticated user: its name and the groups
// groups.properties gives it (role mapping turns groups into roles).
type Identity struct {
	Name   string
	Groups []string
}

// Credential is what a SASL or HTTP mechanism needs to authenticate a user
// without being handed the password: exactly one group of fields is set,
// according to the mechanism asked for.
type Credential struct {
	// Password is the clear password (PLAIN, or any mechanism when the
	// file stores passwords in clear).
	Password string
	// Digest is H(user:realm:password) for DIGEST-MD5 and DIGEST-SHA-*;
	// DigestUser and DigestRealm are the user and realm bound into it.
	Digest      []byte
	DigestUser  string
	DigestRealm string
	// SaltedPassword, Salt and Iterations are SCRAM's
	// Hi(Normalize(password), salt, i).
	SaltedPassword []byte
	Salt           []byte
	Iterations     int
}

// Storage is how users.properties stores passwords, as its
// "#$ALGORITHM=…$" header line says.
type Storage string

// Password storage forms.
const (
	// StorageDefault lets the file decide; a new file gets encrypted.
	StorageDefault Storage = ""
	// StorageClear stores passwords in clear ("#$ALGORITHM=clear$").
	StorageClear Storage = "clear"
	// StorageEncrypted stores Elytron-encoded credentials
	// ("#$ALGORITHM=encrypted$"), Infinispan's default since version 12.
	StorageEncrypted Storage = "encrypted"
	// StorageDigest stores hex MD5(user:realm:password), the form of
	// WildFly's add-user and Elytron's legacy properties realm. Its header,
	// "#$ALGORITHM=digest$", is hotgrid's: Infinispan knows only clear and
	// encrypted.
	StorageDigest Storage = "digest"
)

// DefaultRealmName is the realm name used when the users file names none.
const DefaultRealmName = "default"

// account is one user as loaded.
type account struct {
	creds  []credential
	groups []string
	// inUsers is false for users found only in groups.properties: they
	// have groups but cannot authenticate, as in Infinispan.
	inUsers bool
}

// state is one immutable load of the files.
type state struct {
	name     string
	storage  Storage
	accounts map[string]*account
	users    int
	usersFI  fs.FileInfo
	groupsFI fs.FileInfo

	// derived caches SCRAM credentials computed from clear passwords, so a
	// login does not pay for 20000 iterations each time.
	mu      sync.Mutex
	derived map[string]credential
}

// Realm is a properties realm: users.properties and groups.properties as
// Infinispan's server reads them. It is safe for concurrent use; Reload
// swaps in a new load atomically.
type Realm struct {
	usersPath, groupsPath string
	cur                   atomic.Pointer[state]
	reload                sync.Mutex
	dummy                 credential
}

// Load reads a users file and a groups file (groupsPath may be empty). A
// missing file counts as empty, so a fresh server root has an empty realm.
func Load(usersPath, groupsPath string) (*Realm, error) {
	r := &Realm{usersPath: usersPath, groupsPath: groupsPath}
	salt := make([]byte, scramSaltSize)
	rand.Read(salt)
	// Unknown users are checked against this so that their timing looks
	// like a known user's with a cheap credential.
	r.dummy = credential{algorithm: DigestSHA256, hash: make([]byte, sha256.Size), user: string(salt)}
	s, err := load(usersPath, groupsPath)
	if err != nil {
		return nil, err
	}
	r.cur.Store(s)
	return r, nil
}

// Reload re-reads the files if either changed (another inode, size or
// modification time) since the last load, and reports whether it did. On
// error the realm keeps its previous contents.
func (r *Realm) Reload() (bool, error) {
	r.reload.Lock()
	defer r.reload.Unlock()
	old := r.cur.Load()
	if !changed(old.usersFI, r.usersPath) && !changed(old.groupsFI, r.groupsPath) {
		return false, nil
	}
	s, err := load(r.usersPath, r.groupsPath)
	if err != nil {
		return false, err
	}
	r.cur.Store(s)
	return true, nil
}

// changed reports whether the file at path differs from fi.
func changed(fi fs.FileInfo, path string) bool {
	if path == "" {
		return false
	}
	now, err := os.Stat(path)
	if err != nil {
		return fi != nil
	}
	return fi == nil || !os.SameFile(fi, now) || fi.Size() != now.Size() || !fi.ModTime().Equal(now.ModTime())
}

// Name is the realm name from the users file header, or "default".
func (r *Realm) Name() string { return r.cur.Load().name }

// Storage is the password form of the users file.
func (r *Realm) Storage() Storage { return r.cur.Load().storage }

// Empty reports whether the users file defines no user, which Infinispan
// uses to tell that authentication cannot succeed yet.
func (r *Realm) Empty() bool { return r.cur.Load().users == 0 }

// Users lists the users of the users file, sorted.
func (r *Realm) Users() []string {
	s := r.cur.Load()
	var names []string
	for n, a := range s.accounts {
		if a.inUsers {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return names
}

// Identity returns a user's identity without authenticating it, for
// mechanisms that authenticate elsewhere (EXTERNAL, client certificates).
func (r *Realm) Identity(user string) (Identity, bool) {
	a, ok := r.cur.Load().accounts[user]
	if !ok {
		return Identity{}, false
	}
	return Identity{Name: user, Groups: slices.Clone(a.groups)}, true
}

// Verify checks a user's password against the stored form, in constant time
// for each form: clear (compared through SHA-256, so length does not leak),
// digest (H(user:realm:password) recomputed) and every encrypted credential
// (a SCRAM one by recomputing the salted password). With several encrypted
// credentials it checks the cheapest strong one. An empty password never
// verifies.
func (r *Realm) Verify(user, password string) (Identity, bool) {
	s := r.cur.Load()
	a, ok := s.accounts[user]
	if !ok || len(a.creds) == 0 || password == "" {
		r.dummy.verify(password)
		return Identity{}, false
	}
	c := pickVerifier(a.creds)
	if !c.verify(password) {
		return Identity{}, false
	}
	return Identity{Name: user, Groups: slices.Clone(a.groups)}, true
}

// verifyOrder ranks credential algorithms for Verify: digests cost one hash,
// SCRAM thousands, so prefer the strongest digest.
var verifyOrder = []string{Clear, DigestSHA512, DigestSHA512256, DigestSHA384, DigestSHA256, DigestSHA,
	ScramSHA512, ScramSHA384, ScramSHA256, ScramSHA1, DigestMD5}

func pickVerifier(creds []credential) *credential {
	for _, alg := range verifyOrder {
		for i := range creds {
			if creds[i].algorithm == alg {
				return &creds[i]
			}
		}
	}
	return &creds[0]
}

// Credential returns what mechanism (a SASL name such as "PLAIN",
// "DIGEST-MD5", "DIGEST-SHA-256", "SCRAM-SHA-256" or "SCRAM-SHA-256-PLUS",
// case-insensitive) needs for user. A clear password serves every mechanism
// (digests and SCRAM credentials are derived from it, SCRAM with a salt fixed
// for the life of this load); encrypted and digest entries serve only the
// mechanisms they hold a credential for. It returns ErrNoSuchUser or
// ErrNoCredential.
func (r *Realm) Credential(user, mechanism string) (Credential, error) {
	s := r.cur.Load()
	a, ok := s.accounts[user]
	if !ok {
		return Credential{}, ErrNoSuchUser
	}
	mech := strings.ToLower(strings.TrimSuffix(strings.ToUpper(mechanism), "-PLUS"))
	var clear *credential
	for i := range a.creds {
		c := &a.creds[i]
		if c.algorithm == Clear {
			clear = c
			continue
		}
		if c.algorithm == mech {
			return c.export(), nil
		}
	}
	if clear == nil {
		return Credential{}, ErrNoCredential
	}
	switch {
	case mech == "plain":
		return Credential{Password: clear.clear}, nil
	case isDigest(mech):
		c, err := newCredential(mech, user, s.name, clear.clear)
		if err != nil {
			return Credential{}, ErrNoCredential
		}
		return c.export(), nil
	case isScram(mech):
		if _, ok := hashFor(mech); !ok {
			return Credential{}, ErrNoCredential
		}
		key := user + "\x00" + mech
		s.mu.Lock()
		defer s.mu.Unlock()
		c, ok := s.derived[key]
		if !ok {
			var err error
			if c, err = newCredential(mech, user, s.name, clear.clear); err != nil {
				return Credential{}, ErrNoCredential
			}
			if s.derived == nil {
				s.derived = make(map[string]credential)
			}
			s.derived[key] = c
		}
		return c.export(), nil
	}
	return Credential{}, ErrNoCredential
}

// export copies c into the public form.
func (c *credential) export() Credential {
	switch {
	case c.algorithm == Clear:
		return Credential{Password: c.clear}
	case isDigest(c.algorithm):
		return Credential{Digest: slices.Clone(c.hash), DigestUser: c.user, DigestRealm: c.realm}
	default:
		return Credential{SaltedPassword: slices.Clone(c.hash), Salt: slices.Clone(c.salt), Iterations: c.iterations}
	}
}

// header is what the "#$REALM_NAME=…$" and "#$ALGORITHM=…$" comment lines
// of a users file say.
type header struct {
	name, algorithm string
	algLine         int
}

// readHeader finds the header lines the way Infinispan does: a '#' comment
// containing the marker, the value running to the next '$'.
func readHeader(comments []comment) header {
	var h header
	for _, c := range comments {
		if v, ok := marker(c.text, "$REALM_NAME="); ok {
			h.name = v
		} else if v, ok := marker(c.text, "$ALGORITHM="); ok {
			h.algorithm, h.algLine = strings.ToLower(v), c.line
		}
	}
	return h
}

func marker(text, prefix string) (string, bool) {
	_, after, ok := strings.Cut(text, prefix)
	if !ok {
		return "", false
	}
	v, _, ok := strings.Cut(after, "$")
	return v, ok
}

// readFile reads a properties file; a missing file reads as empty.
func readFile(path string) ([]property, []comment, fs.FileInfo, error) {
	if path == "" {
		return nil, nil, nil, nil
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil, nil
	}
	if err != nil {
		return nil, nil, nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, nil, err
	}
	// A realm file is small; the limit keeps a wrong path (a device, a
	// huge log) from exhausting memory.
	const maxSize = 64 << 20
	data, err := io.ReadAll(io.LimitReader(f, maxSize+1))
	if err != nil {
		return nil, nil, nil, err
	}
	if len(data) > maxSize {
		return nil, nil, nil, &ParseError{File: path, Err: errors.New("larger than 64 MiB")}
	}
	props, comments, line, err := parseProperties(data)
	if err != nil {
		return nil, nil, nil, &ParseError{File: path, Line: line, Err: err}
	}
	return props, comments, fi, nil
}

// splitGroups splits a groups.properties value as Infinispan does
// (trim, split on commas with surrounding blanks, drop empty names).
func splitGroups(v string) []string {
	var gs []string
	for g := range strings.SplitSeq(v, ",") {
		if g = strings.TrimSpace(g); g != "" {
			gs = append(gs, g)
		}
	}
	return gs
}

// load reads both files into a new state.
func load(usersPath, groupsPath string) (*state, error) {
	uprops, ucomments, ufi, err := readFile(usersPath)
	if err != nil {
		return nil, fmt.Errorf("load realm: %w", err)
	}
	gprops, _, gfi, err := readFile(groupsPath)
	if err != nil {
		return nil, fmt.Errorf("load realm: %w", err)
	}
	h := readHeader(ucomments)
	s := &state{name: h.name, accounts: make(map[string]*account), usersFI: ufi, groupsFI: gfi}
	if s.name == "" {
		s.name = DefaultRealmName
	}
	switch Storage(h.algorithm) {
	case "", StorageClear:
		s.storage = StorageClear
	case StorageEncrypted, StorageDigest:
		s.storage = Storage(h.algorithm)
	default:
		return nil, fmt.Errorf("load realm: %w", &ParseError{File: usersPath, Line: h.algLine, Err: errUnknownAlgorithm})
	}
	groups := make(map[string][]string, len(gprops))
	for _, p := range gprops {
		groups[p.key] = splitGroups(p.value)
	}
	for _, p := range uprops {
		var creds []credential
		value := strings.TrimSpace(p.value)
		switch s.storage {
		case StorageClear:
			creds = []credential{{algorithm: Clear, clear: value}}
		case StorageEncrypted:
			creds, err = decodeEncrypted(value)
		case StorageDigest:
			var c credential
			c, err = decodeLegacyDigest(p.key, s.name, value)
			creds = []credential{c}
		}
		if err != nil {
			// The error text names the problem, never the value.
			return nil, fmt.Errorf("load realm: %w", &ParseError{File: usersPath, Line: p.line, Err: fmt.Errorf("user %q: %w", p.key, err)})
		}
		if _, dup := s.accounts[p.key]; !dup {
			s.users++
		}
		// As with java.util.Properties, a later line wins.
		s.accounts[p.key] = &account{creds: creds, groups: groups[p.key], inUsers: true}
	}
	for name, gs := range groups {
		if _, ok := s.accounts[name]; !ok {
			s.accounts[name] = &account{groups: gs}
		}
	}
	return s, nil
}

// Paths resolves the realm files the way Infinispan's user tool and
// DESIGN.md's contract do: a relative server root resolves against the
// working directory ("server" when empty), and a relative or empty users or
// groups file resolves in SERVER_ROOT/conf.
func Paths(serverRoot, usersFile, groupsFile string) (users, groups string) {
	if serverRoot == "" {
		serverRoot = "server"
	}
	conf := filepath.Join(serverRoot, "conf")
	resolve := func(f, def string) string {
		if f == "" {
			f = def
		}
		if filepath.IsAbs(f) {
			return f
		}
		return filepath.Join(conf, f)
	}
	return resolve(usersFile, "users.properties"), resolve(groupsFile, "groups.properties")
}

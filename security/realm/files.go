package realm

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Files is an editable copy of a users.properties and groups.properties
// pair, with the operations of Infinispan's `user` tool
// (org.infinispan.cli.user.UserTool). Changes stay in memory until Save.
// A Files is not safe for concurrent use.
type Files struct {
	usersPath, groupsPath string
	name                  string  // realm name from the header; "" when none
	storage               Storage // StorageDefault when the file has no header and no users
	users                 map[string]string
	groups                map[string]string
	now                   func() time.Time
}

// Open reads the files for editing. Missing files are empty. A users file
// with entries but no "#$ALGORITHM=…$" line holds clear passwords (that is
// how Infinispan's server reads it), so new users get clear passwords too
// unless encrypt-all converts it.
func Open(usersPath, groupsPath string) (*Files, error) {
	f := &Files{usersPath: usersPath, groupsPath: groupsPath,
		users: make(map[string]string), groups: make(map[string]string), now: time.Now}
	uprops, ucomments, _, err := readFile(usersPath)
	if err != nil {
		return nil, err
	}
	gprops, _, _, err := readFile(groupsPath)
	if err != nil {
		return nil, err
	}
	h := readHeader(ucomments)
	f.name = h.name
	switch Storage(h.algorithm) {
	case "":
		if len(uprops) > 0 {
			f.storage = StorageClear
		}
	case StorageClear, StorageEncrypted, StorageDigest:
		f.storage = Storage(h.algorithm)
	default:
		return nil, &ParseError{File: usersPath, Line: h.algLine, Err: errUnknownAlgorithm}
	}
	for _, p := range uprops {
		f.users[p.key] = p.value
	}
	for _, p := range gprops {
		f.groups[p.key] = p.value
	}
	return f, nil
}

// RealmName is the realm name the file declares, or "default".
func (f *Files) RealmName() string {
	if f.name == "" {
		return DefaultRealmName
	}
	return f.name
}

// Storage is the password form of the users file (StorageDefault for a
// new, empty file).
func (f *Files) Storage() Storage { return f.storage }

// Users lists the users, sorted.
func (f *Files) Users() []string {
	names := make([]string, 0, len(f.users))
	for n := range f.users {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Groups lists every group any user belongs to, sorted and unique.
func (f *Files) Groups() []string {
	var all []string
	for _, v := range f.groups {
		all = append(all, splitGroups(v)...)
	}
	slices.Sort(all)
	return slices.Compact(all)
}

// UserGroups returns the groups of user, or ErrNoSuchUser.
func (f *Files) UserGroups(user string) ([]string, error) {
	if _, ok := f.users[user]; !ok {
		return nil, fmt.Errorf("user %q: %w", user, ErrNoSuchUser)
	}
	return splitGroups(f.groups[user]), nil
}

// PasswordOptions say how to store a password.
type PasswordOptions struct {
	// Realm is the realm name bound into digests; empty means the file's
	// (or "default"). A name different from the file's is ErrWrongRealm.
	Realm string
	// Storage forces a form; it must agree with the file's unless the file
	// is new.
	Storage Storage
	// Algorithms are the encrypted credentials to store; nil means
	// DefaultAlgorithms.
	Algorithms []string
}

// checkRealm returns the realm name to use, as UserTool.checkRealm does.
func (f *Files) checkRealm(name string) (string, error) {
	switch {
	case name == "":
		return f.RealmName(), nil
	case f.name == "" || f.name == name:
		return name, nil
	}
	return "", fmt.Errorf("%w: %q, the file has %q", ErrWrongRealm, name, f.name)
}

// checkStorage returns the form to write, as UserTool.checkEncryption does:
// a new file takes what is asked (encrypted by default), an existing one
// only its own form.
func (f *Files) checkStorage(s Storage) (Storage, error) {
	switch {
	case s == StorageDefault && f.storage == StorageDefault:
		return StorageEncrypted, nil
	case s == StorageDefault:
		return f.storage, nil
	case f.storage == StorageDefault || f.storage == s:
		return s, nil
	}
	return "", fmt.Errorf("%w: %s passwords asked, the file holds %s passwords", ErrIncompatible, s, f.storage)
}

// storedValue renders a password in form s.
func storedValue(user, realm, password string, s Storage, algorithms []string) (string, error) {
	switch s {
	case StorageClear:
		return password, nil
	case StorageDigest:
		return legacyDigest(user, realm, password), nil
	}
	if algorithms == nil {
		algorithms = DefaultAlgorithms
	}
	for _, a := range algorithms {
		if err := checkAlgorithm(a); err != nil {
			return "", err
		}
	}
	return encodeEncrypted(user, realm, password, algorithms)
}

// setPassword stores password for user after the realm and storage checks.
func (f *Files) setPassword(user, password string, o PasswordOptions) error {
	if password == "" {
		return fmt.Errorf("user %q: empty password", user)
	}
	name, err := f.checkRealm(o.Realm)
	if err != nil {
		return err
	}
	s, err := f.checkStorage(o.Storage)
	if err != nil {
		return err
	}
	v, err := storedValue(user, name, password, s, o.Algorithms)
	if err != nil {
		return err
	}
	f.users[user] = v
	f.storage = s
	f.name = name
	return nil
}

// Create adds a user with a password and groups (nil for none).
func (f *Files) Create(user, password string, groups []string, o PasswordOptions) error {
	if user == "" {
		return fmt.Errorf("empty user name")
	}
	if _, ok := f.users[user]; ok {
		return fmt.Errorf("user %q: %w", user, ErrUserExists)
	}
	if err := f.setPassword(user, password, o); err != nil {
		return err
	}
	f.groups[user] = strings.Join(groups, ",")
	return nil
}

// SetPassword changes a user's password.
func (f *Files) SetPassword(user, password string, o PasswordOptions) error {
	if _, ok := f.users[user]; !ok {
		return fmt.Errorf("user %q: %w", user, ErrNoSuchUser)
	}
	return f.setPassword(user, password, o)
}

// SetGroups replaces a user's groups.
func (f *Files) SetGroups(user string, groups []string) error {
	if _, ok := f.users[user]; !ok {
		return fmt.Errorf("user %q: %w", user, ErrNoSuchUser)
	}
	f.groups[user] = strings.Join(groups, ",")
	return nil
}

// Remove deletes a user and its groups.
func (f *Files) Remove(user string) error {
	if _, ok := f.users[user]; !ok {
		return fmt.Errorf("user %q: %w", user, ErrNoSuchUser)
	}
	delete(f.users, user)
	delete(f.groups, user)
	return nil
}

// EncryptAll converts a clear users file to the encrypted form
// (algorithms nil means DefaultAlgorithms). An encrypted or empty file is
// left alone, as Infinispan does; a digest file cannot be converted, since
// it has no passwords.
func (f *Files) EncryptAll(algorithms []string) error {
	switch f.storage {
	case StorageEncrypted, StorageDefault:
		return nil
	case StorageDigest:
		return fmt.Errorf("%w: digest passwords cannot be encrypted", ErrIncompatible)
	}
	name := f.RealmName()
	enc := make(map[string]string, len(f.users))
	for u, p := range f.users {
		v, err := storedValue(u, name, strings.TrimSpace(p), StorageEncrypted, algorithms)
		if err != nil {
			return err
		}
		enc[u] = v
	}
	f.users = enc
	f.storage = StorageEncrypted
	f.name = name
	return nil
}

// Save writes both files the way java.util.Properties.store does, as
// Infinispan's tool writes them: the users file starts
//
//	#$REALM_NAME=default$
//	#$ALGORITHM=encrypted$
//	#Mon Jan 02 15:04:05 UTC 2006
//
// and the groups file with the date line; entries follow one per line,
// sorted. Each file is written to a temporary file in the same directory,
// synced, given mode 0600 and renamed over the old one, so a reader (the
// server reloading) sees either the old or the new file, never a part.
// The conf directory is created (mode 0700) if missing.
func (f *Files) Save() error {
	s := f.storage
	if s == StorageDefault {
		s = StorageEncrypted
	}
	date := "#" + f.now().Format("Mon Jan 02 15:04:05 MST 2006") + "\n"
	var ub strings.Builder
	ub.WriteString("#$REALM_NAME=")
	ub.WriteString(commentSafe(f.RealmName()))
	ub.WriteString("$\n#$ALGORITHM=")
	ub.WriteString(string(s))
	ub.WriteString("$\n")
	ub.WriteString(date)
	writeEntries(&ub, f.users)
	var gb strings.Builder
	gb.WriteString(date)
	writeEntries(&gb, f.groups)
	if err := writeAtomic(f.usersPath, ub.String()); err != nil {
		return err
	}
	if f.groupsPath == "" {
		return nil
	}
	return writeAtomic(f.groupsPath, gb.String())
}

// commentSafe keeps a realm name on its comment line.
func commentSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == '$' {
			return '_'
		}
		return r
	}, s)
}

func writeEntries(b *strings.Builder, m map[string]string) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		escape(b, k, true)
		b.WriteByte('=')
		escape(b, m[k], false)
		b.WriteByte('\n')
	}
}

// writeAtomic replaces path with data: temporary file, fsync, rename, and
// an fsync of the directory so the rename survives a crash.
func writeAtomic(path, data string) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err = tmp.Chmod(0o600); err != nil {
		return err
	}
	if _, err = tmp.WriteString(data); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	if d, derr := os.Open(dir); derr == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

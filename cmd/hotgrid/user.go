package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/hotgrid/hotgrid/security/realm"
)

const userUsage = `Usage: hotgrid user <command> [options]

Manages the properties realm (SERVER_ROOT/conf/users.properties and
groups.properties), as Infinispan's "user" command does.

Commands:
  create USER -p PASS [-g G1,G2] [-a ALGS] [--plain|--digest] [-r REALM]
                       add a user (alias: add)
  describe USER        show a user's realm and groups
  remove USER          remove a user (alias: rm)
  password USER -p PASS [-a ALGS] [--plain|--digest]
                       change a user's password
  groups USER -g G1,G2 set a user's groups
  ls [-g|--groups]     list users (or all groups) as a JSON array
  encrypt-all [-a ALGS] convert clear passwords to the encrypted form

Options of every command:
  -s, --server-root DIR   server root (default "server"); files live in DIR/conf
  -f, --users-file F      users file (relative: in SERVER_ROOT/conf)
  -w, --groups-file F     groups file (relative: in SERVER_ROOT/conf)

Passwords are encrypted by default (scram-sha-1/-256/-384/-512, digest-md5,
digest-sha, digest-sha-256/-384/-512; choose with -a A1,A2);
--plain (--plain-text) stores them in clear, --digest as hex MD5(user:realm:password).
`

// userCmd holds the options of one `hotgrid user` invocation.
type userCmd struct {
	serverRoot, usersFile, groupsFile string
	password, groups, algorithms      string
	realmName                         string
	plain, digest, listGroups         bool
}

// runUser runs `hotgrid user ARGS` and returns the exit status.
func runUser(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stdout, userUsage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	sub := args[0]
	switch sub {
	case "add":
		sub = "create"
	case "rm":
		sub = "remove"
	}
	var c userCmd
	fs := flag.NewFlagSet("hotgrid user "+sub, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	str := func(p *string, def string, names ...string) {
		for _, n := range names {
			fs.StringVar(p, n, def, "")
		}
	}
	boolean := func(p *bool, names ...string) {
		for _, n := range names {
			fs.BoolVar(p, n, false, "")
		}
	}
	str(&c.serverRoot, "server", "s", "server-root")
	str(&c.usersFile, "", "f", "users-file")
	str(&c.groupsFile, "", "w", "groups-file")
	switch sub {
	case "create", "password":
		str(&c.password, "", "p", "password")
		str(&c.algorithms, "", "a", "algorithms")
		str(&c.realmName, "", "r", "realm", "realm-name")
		boolean(&c.plain, "plain", "plain-text")
		boolean(&c.digest, "digest")
		if sub == "create" {
			str(&c.groups, "", "g", "groups")
		}
	case "groups":
		str(&c.groups, "", "g", "groups")
	case "ls":
		boolean(&c.listGroups, "g", "groups")
	case "encrypt-all":
		str(&c.algorithms, "", "a", "algorithms")
	case "describe", "remove":
	default:
		fmt.Fprintf(stderr, "hotgrid user: unknown command %q\n\n%s", args[0], userUsage)
		return 2
	}
	pos, err := parseInterleaved(fs, args[1:])
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, userUsage)
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "hotgrid user %s: %v\n", sub, err)
		return 2
	}
	if err := c.run(sub, pos, stdout); err != nil {
		fmt.Fprintf(stderr, "hotgrid user %s: %v\n", sub, err)
		return 1
	}
	return 0
}

// parseInterleaved parses flags before and after positional arguments
// (`create USER -p PASS` as well as `create -p PASS USER`), as Infinispan's
// command parser accepts.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// list splits a comma-separated option value; nil when empty.
func list(s string) []string {
	var out []string
	for v := range strings.SplitSeq(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

func (c *userCmd) run(sub string, pos []string, stdout io.Writer) error {
	want := 1
	if sub == "ls" || sub == "encrypt-all" {
		want = 0
	}
	if len(pos) != want {
		if want == 0 {
			return fmt.Errorf("unexpected argument %q", pos[0])
		}
		return errors.New("expects one user name")
	}
	usersPath, groupsPath := realm.Paths(c.serverRoot, c.usersFile, c.groupsFile)
	f, err := realm.Open(usersPath, groupsPath)
	if err != nil {
		return err
	}
	opts := realm.PasswordOptions{Realm: c.realmName, Algorithms: list(c.algorithms)}
	switch {
	case c.plain && c.digest:
		return errors.New("--plain and --digest exclude each other")
	case c.plain:
		opts.Storage = realm.StorageClear
	case c.digest:
		opts.Storage = realm.StorageDigest
	}
	if (sub == "create" || sub == "password") && c.password == "" {
		return errors.New("a password is required (-p PASS)")
	}
	switch sub {
	case "create":
		err = f.Create(pos[0], c.password, list(c.groups), opts)
	case "password":
		err = f.SetPassword(pos[0], c.password, opts)
	case "groups":
		if c.groups == "" {
			return errors.New("groups are required (-g G1,G2)")
		}
		err = f.SetGroups(pos[0], list(c.groups))
	case "remove":
		err = f.Remove(pos[0])
	case "encrypt-all":
		err = f.EncryptAll(opts.Algorithms)
	case "describe":
		groups, err := f.UserGroups(pos[0])
		if err != nil {
			return err
		}
		// Infinispan's format: { username: "u", realm: "r", groups = [g1, g2] }
		fmt.Fprintf(stdout, "{ username: %q, realm: %q, groups = [%s] }\n", pos[0], f.RealmName(), strings.Join(groups, ", "))
		return nil
	case "ls":
		items := f.Users()
		if c.listGroups {
			items = f.Groups()
		}
		if items == nil {
			items = []string{}
		}
		b, _ := json.Marshal(items)
		fmt.Fprintf(stdout, "%s\n", b)
		return nil
	}
	if err != nil {
		return err
	}
	return f.Save()
}

// Package realm is hotgrid's properties realm: the users.properties and
// groups.properties files of an Infinispan server, read for authentication
// (Load, Verify, Credential) and edited by `hotgrid user` (Open, Save).
//
// # File formats
//
// Both files are java.util.Properties text (UTF-8). groups.properties maps a
// user to a comma-separated list of groups: "admin=admin,ops". users.properties
// maps a user to a password and starts with two header comments that
// Infinispan's user tool writes (cli/src/main/java/org/infinispan/cli/user/
// UserTool.java) and its server reads (server/runtime/src/main/java/org/
// infinispan/server/security/realm/EncryptedPropertiesSecurityRealm.java):
//
//	#$REALM_NAME=default$
//	#$ALGORITHM=encrypted$
//	#Wed Jul 31 08:32:08 CEST 2024
//	admin=scram-sha-1\:BYGcIAwvf6b...;scram-sha-256\:...;digest-md5\:...;
//
// The ALGORITHM line selects the form of every value:
//
//   - clear (or no ALGORITHM line): the password itself (`--plain`).
//   - encrypted: credentials "algorithm:base64;" one after the other, each
//     the Elytron BasicPasswordSpecEncoding of a password (see credential.go
//     for the byte layout, the packed integers and the defaults: 12-byte
//     salt, 20000 iterations). By default Infinispan 15 stores scram-sha-1,
//     -256, -384, -512, digest-md5, digest-sha, -256, -384 and -512.
//   - digest (hotgrid's name; `--digest`): lower-case hex of
//     MD5(user:realm:password), the value WildFly's add-user writes and
//     Elytron's LegacyPropertiesSecurityRealm reads with plain-text="false".
//     Infinispan's own realm does not read it.
//
// Keys and values use the properties escapes (\: \= \# \! \\ \t \n \uXXXX),
// which is why ':' and '=' appear as "\:" and "\=" in encrypted values.
// Infinispan's server reads users.properties with its own line parser,
// without continuation lines and with "\t" read as 't'; this package reads
// both files as java.util.Properties does and writes only what both
// parsers read alike (control characters as \uXXXX).
//
// Realm files resolve relative to SERVER_ROOT/conf (Paths), like
// Infinispan's relative-to="infinispan.server.config.path".
package realm

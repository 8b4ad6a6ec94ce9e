// Package tlsconf is the runtime side of an Infinispan server identity: it
// loads the server certificates of one or more security realms
// (<server-identities><ssl><keystore .../>) and the truststore, and serves
// them to crypto/tls listeners, picking an identity per connection by SNI.
//
// Certificates live behind an atomic pointer: TLSConfig returns a
// *tls.Config whose GetConfigForClient reads the current set on every
// handshake, so Reload (or Watch, which polls the files) swaps certificates
// and trusted CAs without rebuilding listeners. Connections already
// established keep the certificate they were set up with.
//
// # Keystore formats
//
// A keystore is a PKCS#12 file (.p12/.pfx, as written by keytool, openssl or
// tlstest) or a PEM file holding a certificate chain and an unencrypted
// private key; a certificate and key may also come as two PEM files. PKCS#12
// is read with software.sslmate.com/src/go-pkcs12, which handles the PBES2
// AES + HMAC-SHA256 stores Java 17's keytool writes.
//
// That library decodes a store as a whole and has no notion of aliases, so
// alias selection is built on what it exposes:
//   - a store with one key entry: the key is used and Alias, when given, is
//     checked against the entry's friendly name;
//   - a store with several key entries: the entry whose friendly name is
//     Alias (case-insensitive, as Java treats PKCS#12 aliases) is used, or the
//     first one when Alias is empty. This works for stores holding only key
//     entries; a store mixing several key entries with trusted certificate
//     entries cannot be split by the library and is rejected with a hint to
//     export the wanted entry (keytool -importkeystore -srcalias NAME).
//
// A truststore is a PKCS#12 file of trusted certificate entries (keytool
// -importcert, tlstest's truststore.p12), a PKCS#12 keystore whose
// certificates are then all trusted, or a PEM bundle.
package tlsconf

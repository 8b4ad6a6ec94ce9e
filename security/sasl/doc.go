// Package sasl implements the server side of the SASL mechanisms hotgrid's
// Hot Rod (AUTH) and memcached binary (SASL_AUTH, SASL_STEP) endpoints
// offer: PLAIN (RFC 4616), DIGEST-MD5 (RFC 2831, qop=auth only), SCRAM-SHA-1,
// SCRAM-SHA-256, SCRAM-SHA-384 and SCRAM-SHA-512 (RFC 5802 and RFC 7677,
// without channel binding) and EXTERNAL (RFC 4422 appendix A, with the
// identity taken from the TLS client certificate).
//
// A protocol handler calls NewServer with the mechanism the client chose and
// feeds each client message to Server.Step, sending back the challenge it
// returns, until Step reports done or an error. Credentials come from a
// realm (see package security/realm); the mechanisms never see a stored
// password unless the realm keeps passwords in clear.
//
// Failures are reported as errors wrapping ErrAuthFailed, with the same text
// for an unknown user and a wrong password, so that neither the error nor
// the message flow tells an attacker which user names exist. Error texts
// never contain passwords or hashes.
package sasl

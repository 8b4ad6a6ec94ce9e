package tlsconf

import (
	"crypto/tls"
	"slices"
	"strings"
)

// pick chooses the identity for an SNI server name: an exact HostNames
// match, then a wildcard HostNames match, then an identity whose
// certificate covers the name, then the default (first) identity.
func (s *state) pick(serverName string) *tls.Certificate {
	name := normalizeHost(serverName)
	if name == "" {
		return s.ids[0].cert
	}
	for _, l := range s.ids {
		if slices.Contains(l.hostNames, name) {
			return l.cert
		}
	}
	for _, l := range s.ids {
		for _, h := range l.hostNames {
			if wildcardMatch(h, name) {
				return l.cert
			}
		}
	}
	for _, l := range s.ids {
		if l.cert.Leaf.VerifyHostname(name) == nil {
			return l.cert
		}
	}
	return s.ids[0].cert
}

// normalizeHost lower-cases a host name and drops a trailing dot.
func normalizeHost(h string) string {
	return strings.ToLower(strings.TrimSuffix(strings.TrimSpace(h), "."))
}

// wildcardMatch reports whether pattern "*.example.com" covers name
// "a.example.com"; the star stands for exactly one label.
func wildcardMatch(pattern, name string) bool {
	suffix, ok := strings.CutPrefix(pattern, "*")
	if !ok || !strings.HasPrefix(suffix, ".") {
		return false
	}
	label, ok := strings.CutSuffix(name, suffix)
	return ok && label != "" && !strings.Contains(label, ".")
}

package sasl

import (
	"errors"
	"slices"
	"testing"

	"github.com/hotgrid/hotgrid/security/realm"
)

func TestMechanisms(t *testing.T) {
	all := []string{ScramSHA512, ScramSHA384, ScramSHA256, ScramSHA1, DigestMD5, Plain}
	for _, tc := range []struct {
		storage  realm.Storage
		external bool
		want     []string
	}{
		{realm.StorageClear, false, all},
		{realm.StorageEncrypted, false, all},
		{realm.StorageDefault, false, all},
		{realm.StorageDigest, false, []string{DigestMD5, Plain}},
		{realm.StorageClear, true, append([]string{External}, all...)},
		{realm.StorageDigest, true, []string{External, DigestMD5, Plain}},
	} {
		if got := Mechanisms(tc.storage, tc.external); !slices.Equal(got, tc.want) {
			t.Errorf("Mechanisms(%q, %v) = %q, want %q", tc.storage, tc.external, got, tc.want)
		}
		for _, m := range tc.want {
			if _, err := NewServer(m, passwordCreds{}, Options{}); err != nil {
				t.Errorf("NewServer(%q): %v", m, err)
			}
		}
	}
}

func TestNewServer(t *testing.T) {
	for _, tc := range []struct {
		mech, want string
		err        error
	}{
		{"plain", Plain, nil},
		{"Scram-Sha-384", ScramSHA384, nil},
		{"digest-md5", DigestMD5, nil},
		{"external", External, nil},
		{"SCRAM-SHA-256-PLUS", "", ErrUnsupportedMechanism},
		{"GSSAPI", "", ErrUnsupportedMechanism},
		{"", "", ErrUnsupportedMechanism},
	} {
		s, err := NewServer(tc.mech, passwordCreds{}, Options{})
		if !errors.Is(err, tc.err) {
			t.Errorf("NewServer(%q): %v, want %v", tc.mech, err, tc.err)
			continue
		}
		if err == nil && s.Mechanism() != tc.want {
			t.Errorf("NewServer(%q).Mechanism() = %q", tc.mech, s.Mechanism())
		}
	}
}

// TestStepAfterEnd checks the rules common to all mechanisms: after success
// an empty Step is accepted and anything else fails; after a failure every
// Step fails.
func TestStepAfterEnd(t *testing.T) {
	creds := passwordCreds{"alice": "wonderland"}
	s := mustServer(t, Plain, creds, Options{})
	if _, done, err := s.Step([]byte("\x00alice\x00wonderland")); !done || err != nil {
		t.Fatalf("done %v err %v", done, err)
	}
	for range 2 {
		ch, done, err := s.Step(nil)
		if ch != nil || !done || err != nil {
			t.Fatalf("empty step after success: %q %v %v", ch, done, err)
		}
	}
	if s.Identity().Name != "alice" {
		t.Fatalf("identity %+v", s.Identity())
	}
	_, done, err := s.Step([]byte("x"))
	checkErr(t, err, ErrMalformed)
	if done || s.Identity().Name != "" {
		t.Fatalf("after a bad step: done %v identity %+v", done, s.Identity())
	}
	_, _, err = s.Step(nil)
	checkErr(t, err, ErrAuthFailed)

	s = mustServer(t, Plain, creds, Options{})
	_, _, err = s.Step([]byte("\x00alice\x00wrong"))
	checkErr(t, err, ErrAuthFailed)
	_, done, err = s.Step([]byte("\x00alice\x00wonderland"))
	checkErr(t, err, ErrAuthFailed)
	if done || s.Identity().Name != "" {
		t.Fatalf("after failure: done %v identity %+v", done, s.Identity())
	}
}

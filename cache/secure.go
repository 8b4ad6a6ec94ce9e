package cache

import (
	"context"

	"github.com/hotgrid/hotgrid/security/authz"
)

// secured is the authorization layer: every operation checks that the
// subject in its context holds the permission Infinispan's secure cache asks
// for (SecureCacheImpl) before it reaches the cache below. Protocols put the
// subject in the context once a connection authenticates, so the same rules
// hold for every protocol.
type secured struct {
	Cache
	policy *authz.Policy
	roles  authz.RoleSet
}

func (s *secured) check(ctx context.Context, p authz.Permission) error {
	if s.policy.Allowed(ctx, s.roles, p) {
		return nil
	}
	return s.policy.Check(ctx, s.Cache.Name(), s.roles, p)
}

func (s *secured) Get(ctx context.Context, key []byte) (Entry, bool, error) {
	if err := s.check(ctx, authz.Read); err != nil {
		return Entry{}, false, err
	}
	return s.Cache.Get(ctx, key)
}

func (s *secured) Put(ctx context.Context, key, value []byte, w Write) (Entry, bool, error) {
	if err := s.check(ctx, authz.Write); err != nil {
		return Entry{}, false, err
	}
	return s.Cache.Put(ctx, key, value, w)
}

func (s *secured) PutIfAbsent(ctx context.Context, key, value []byte, w Write) (Entry, bool, error) {
	if err := s.check(ctx, authz.Write); err != nil {
		return Entry{}, false, err
	}
	return s.Cache.PutIfAbsent(ctx, key, value, w)
}

func (s *secured) Replace(ctx context.Context, key, value []byte, w Write) (Entry, bool, error) {
	if err := s.check(ctx, authz.Write); err != nil {
		return Entry{}, false, err
	}
	return s.Cache.Replace(ctx, key, value, w)
}

func (s *secured) ReplaceIfVersion(ctx context.Context, key, value []byte, version int64, w Write) (Entry, CondResult, error) {
	if err := s.check(ctx, authz.Write); err != nil {
		return Entry{}, CondMismatch, err
	}
	return s.Cache.ReplaceIfVersion(ctx, key, value, version, w)
}

func (s *secured) Remove(ctx context.Context, key []byte, w Write) (Entry, bool, error) {
	if err := s.check(ctx, authz.Write); err != nil {
		return Entry{}, false, err
	}
	return s.Cache.Remove(ctx, key, w)
}

func (s *secured) RemoveIfVersion(ctx context.Context, key []byte, version int64, w Write) (Entry, CondResult, error) {
	if err := s.check(ctx, authz.Write); err != nil {
		return Entry{}, CondMismatch, err
	}
	return s.Cache.RemoveIfVersion(ctx, key, version, w)
}

// Compute reads and writes, so it needs both permissions (INCR, APPEND and
// CAS return what they wrote).
func (s *secured) Compute(ctx context.Context, key []byte, fn ComputeFunc) (Entry, bool, error) {
	if err := s.check(ctx, authz.Read|authz.Write); err != nil {
		return Entry{}, false, err
	}
	return s.Cache.Compute(ctx, key, fn)
}

func (s *secured) ContainsKey(ctx context.Context, key []byte) (bool, error) {
	if err := s.check(ctx, authz.Read); err != nil {
		return false, err
	}
	return s.Cache.ContainsKey(ctx, key)
}

func (s *secured) Size(ctx context.Context) (int64, error) {
	if err := s.check(ctx, authz.BulkRead); err != nil {
		return 0, err
	}
	return s.Cache.Size(ctx)
}

func (s *secured) Clear(ctx context.Context) error {
	if err := s.check(ctx, authz.BulkWrite); err != nil {
		return err
	}
	return s.Cache.Clear(ctx)
}

func (s *secured) Segment(ctx context.Context, segment int, buf []Entry) ([]Entry, error) {
	if err := s.check(ctx, authz.BulkRead); err != nil {
		return buf, err
	}
	return s.Cache.Segment(ctx, segment, buf)
}

// Authorize checks, for the operations of the Cache interface that take no
// context (listeners, statistics) and for protocol-level operations on a
// cache (admin tasks, configuration), that ctx's subject holds p on c. It
// allows everything on a cache without the authorization layer.
func Authorize(ctx context.Context, c Cache, p authz.Permission) error {
	if m, ok := c.(*managed); ok {
		c = m.Cache
	}
	s, ok := c.(*secured)
	if !ok {
		return nil
	}
	return s.check(ctx, p)
}

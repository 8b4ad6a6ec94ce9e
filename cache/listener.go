package cache

import "sync/atomic"

// EventType is the kind of a cache event.
type EventType uint8

// Event types, as Hot Rod names them.
const (
	EventCreated EventType = iota + 1
	EventModified
	EventRemoved
	EventExpired
)

func (t EventType) String() string {
	switch t {
	case EventCreated:
		return "created"
	case EventModified:
		return "modified"
	case EventRemoved:
		return "removed"
	case EventExpired:
		return "expired"
	}
	return "unknown"
}

// Event is a change to one entry. Its byte slices are shared with the
// container and valid after the call returns (they are never modified), but
// the Event struct itself is reused: copy what you keep.
type Event struct {
	Type  EventType
	Key   []byte
	Value []byte // new value (created, modified); removed value otherwise
	Meta  Metadata
	// Prev is the previous value for modified events, or nil.
	Prev     []byte
	PrevMeta Metadata
}

// Listener receives cache events. OnEvent is called while the entry's
// segment is locked, so that events for one key arrive in the order of the
// writes; it must not block or call back into the cache.
type Listener interface {
	OnEvent(ev *Event)
}

// listeners is a copy-on-write list so that writes read it without locking.
type listeners struct {
	list atomic.Pointer[[]Listener]
}

func (ls *listeners) add(l Listener) {
	for {
		old := ls.list.Load()
		var next []Listener
		if old != nil {
			next = append(next, *old...)
		}
		next = append(next, l)
		if ls.list.CompareAndSwap(old, &next) {
			return
		}
	}
}

func (ls *listeners) remove(l Listener) {
	for {
		old := ls.list.Load()
		if old == nil {
			return
		}
		next := make([]Listener, 0, len(*old))
		for _, x := range *old {
			if x != l {
				next = append(next, x)
			}
		}
		var p *[]Listener
		if len(next) > 0 {
			p = &next
		}
		if ls.list.CompareAndSwap(old, p) {
			return
		}
	}
}

// load returns the current listeners, or nil.
func (ls *listeners) load() []Listener {
	if p := ls.list.Load(); p != nil {
		return *p
	}
	return nil
}

package filestore

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// engineLogger routes pebble's messages to slog. pebble calls Fatalf where
// it expects the process to end (a failed log write, a failed MANIFEST
// update, a broken invariant); the store records the failure instead and
// refuses writes from then on, and what is on disk stays as it was.
type engineLogger struct{ s *Store }

func (l engineLogger) Infof(format string, args ...any) {
	if l.s.log.Enabled(context.Background(), slog.LevelDebug) {
		l.s.log.Debug(fmt.Sprintf(format, args...), "source", "pebble")
	}
}

func (l engineLogger) Errorf(format string, args ...any) {
	l.s.log.Error(fmt.Sprintf(format, args...), "source", "pebble")
}

func (l engineLogger) Fatalf(format string, args ...any) {
	l.s.health.setFatal(&engineError{msg: fmt.Sprintf(format, args...), args: args})
}

// engineError is a fatal engine message that still unwraps to the errors
// it was formatted from (ENOSPC, EIO …), so callers can tell them apart.
type engineError struct {
	msg  string
	args []any
}

func (e *engineError) Error() string { return e.msg }

func (e *engineError) Unwrap() []error {
	var errs []error
	for _, a := range e.args {
		if err, ok := a.(error); ok {
			errs = append(errs, err)
		}
	}
	return errs
}

// logPeriod is the shortest interval between two logs of one kind of
// background trouble.
const logPeriod = 10 * time.Second

// errEmptyTableMsg is the text of pebble's unexported errEmptyTable, which
// FlushEnd carries for a flush that succeeded without writing a table.
const errEmptyTableMsg = "pebble: empty table"

// eventListener surfaces pebble's background trouble: a failed flush
// refuses writes until a flush succeeds (a writer would otherwise wait in a
// write stall), data corruption is fatal as pebble's default handler makes
// it, and the rest is logged, throttled.
func (s *Store) eventListener() *pebble.EventListener {
	bg := &throttle{period: logPeriod}
	stall := &throttle{period: logPeriod}
	slow := &throttle{period: logPeriod}
	return &pebble.EventListener{
		BackgroundError: func(err error) {
			if ok, n := bg.allow(time.Now()); ok {
				s.log.Error("file store background error", "err", err, "suppressed", n)
			}
		},
		FlushEnd: func(info pebble.FlushInfo) {
			err := info.Err
			if err != nil && err.Error() == errEmptyTableMsg {
				err = nil
			}
			s.health.flushed(err)
		},
		DataCorruption: func(info pebble.DataCorruptionInfo) {
			s.health.setFatal(fmt.Errorf("data corruption in %s: %w", info.Path, info.Details))
		},
		WriteStallBegin: func(info pebble.WriteStallBeginInfo) {
			if ok, n := stall.allow(time.Now()); ok {
				s.log.Warn("file store writes stalled", "reason", info.Reason, "suppressed", n)
			}
		},
		DiskSlow: func(info pebble.DiskSlowInfo) {
			if ok, n := slow.allow(time.Now()); ok {
				s.log.Warn("disk is slow", "path", info.Path, "op", info.OpType.String(), "duration", info.Duration, "suppressed", n)
			}
		},
		LowDiskSpace: func(info pebble.LowDiskSpaceInfo) {
			s.log.Warn("disk space low", "available", info.AvailBytes, "total", info.TotalBytes, "below_percent", info.PercentThreshold)
		},
	}
}

// walCategory is the write category pebble creates its log files with.
const walCategory vfs.DiskWriteCategory = "pebble-wal"

// watchFS hands pebble its file system with the write-ahead log's files
// watched: a failed write or sync of the log marks the store failed before
// pebble's log writer sees the error. pebble's log writer keeps such an
// error and panics in the next commit that reaches it; since every commit
// first checks the store's health under commitMu, none does.
type watchFS struct {
	vfs.FS
	s *Store
}

func (fs *watchFS) Create(name string, category vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := fs.FS.Create(name, category)
	return fs.watch(name, category, f, err)
}

func (fs *watchFS) ReuseForWrite(oldname, newname string, category vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := fs.FS.ReuseForWrite(oldname, newname, category)
	return fs.watch(newname, category, f, err)
}

// Unwrap implements vfs.FS.
func (fs *watchFS) Unwrap() vfs.FS { return fs.FS }

func (fs *watchFS) watch(name string, category vfs.DiskWriteCategory, f vfs.File, err error) (vfs.File, error) {
	if err != nil || category != walCategory {
		return f, err
	}
	return &walFile{File: f, name: name, s: fs.s}, nil
}

// walFile is a log file whose write and sync errors are fatal to the store.
type walFile struct {
	vfs.File
	name string
	s    *Store
}

func (f *walFile) check(op string, err error) error {
	if err != nil {
		f.s.health.setFatal(fmt.Errorf("log %s: %s: %w", f.name, op, err))
	}
	return err
}

func (f *walFile) Write(p []byte) (int, error) {
	n, err := f.File.Write(p)
	return n, f.check("write", err)
}

func (f *walFile) WriteAt(p []byte, off int64) (int, error) {
	n, err := f.File.WriteAt(p, off)
	return n, f.check("write", err)
}

func (f *walFile) Preallocate(off, n int64) error {
	return f.check("preallocate", f.File.Preallocate(off, n))
}

func (f *walFile) Sync() error { return f.check("sync", f.File.Sync()) }

func (f *walFile) SyncData() error { return f.check("sync", f.File.SyncData()) }

func (f *walFile) SyncTo(length int64) (bool, error) {
	full, err := f.File.SyncTo(length)
	return full, f.check("sync", err)
}

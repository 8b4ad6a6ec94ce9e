package filestore

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/cockroachdb/pebble/v2/vfs/errorfs"

	"github.com/hotgrid/hotgrid/cache"
	"github.com/hotgrid/hotgrid/persistence"
)

// failOn returns an injector, off until toggled, that fails the given kinds
// of operation with err.
func failOn(err error, kinds ...errorfs.OpKind) *errorfs.Toggle {
	return &errorfs.Toggle{Injector: errorfs.InjectorFunc(func(op errorfs.Op) error {
		for _, k := range kinds {
			if op.Kind == k {
				return err
			}
		}
		return nil
	})}
}

var (
	writeOps = []errorfs.OpKind{errorfs.OpFileWrite, errorfs.OpFileWriteAt}
	syncOps  = []errorfs.OpKind{errorfs.OpFileSync, errorfs.OpFileSyncData, errorfs.OpFileSyncTo}
)

// reopenCrashed opens the store as a crash at this moment would leave it:
// only what was synced.
func reopenCrashed(tb testing.TB, fs *vfs.MemFS) *Store {
	tb.Helper()
	return open(tb, "db", Options{FS: fs.CrashClone(vfs.CrashCloneCfg{})})
}

// TestInjectedErrors makes the disk fail under each policy and each kind of
// operation: the failing call and every later write return an error, reads
// go on, and a reopen (after a crash, so only synced data counts) finds
// every acknowledged write and all or none of the failed batch.
func TestInjectedErrors(t *testing.T) {
	for _, d := range policies {
		for _, fault := range []struct {
			name  string
			kinds []errorfs.OpKind
		}{{"write", writeOps}, {"sync", syncOps}} {
			for _, call := range []string{"write", "batch", "sync"} {
				t.Run(fmt.Sprintf("%s/%s/%s", d, fault.name, call), func(t *testing.T) {
					mem := vfs.NewCrashableMem()
					toggle := failOn(errorfs.ErrInjected, fault.kinds...)
					s := open(t, "db", Options{FS: errorfs.Wrap(mem, toggle), Durability: d, SyncInterval: time.Hour})
					for i := 0; i < 100; i++ {
						mustWrite(t, s, i%4, entry(fmt.Sprint(i), "ok", immortal))
					}
					mustWrite(t, s, 1, entry("extra", "ok", immortal))
					if err := s.Sync(ctx); err != nil {
						t.Fatal(err)
					}
					toggle.On()
					var err error
					switch call {
					case "write":
						err = s.Write(ctx, 0, entry("lost", "x", immortal))
						if err == nil && d == persistence.Interval {
							// An interval write only reaches the log
							// buffer; the failure shows at the sync.
							err = s.Sync(ctx)
						}
					case "batch":
						var w []persistence.SegmentEntry
						for i := 0; i < 50; i++ {
							w = append(w, persistence.SegmentEntry{Segment: i % 4, Entry: entry(fmt.Sprint("batch", i), "x", immortal)})
						}
						err = s.WriteBatch(ctx, w, []persistence.SegmentKey{{Segment: 1, Key: []byte("extra")}})
						if err == nil && d == persistence.Interval {
							err = s.Sync(ctx)
						}
					case "sync":
						mustWriteOrFail(t, s, d)
						err = s.Sync(ctx)
					}
					if !errors.Is(err, errorfs.ErrInjected) || !errors.Is(err, ErrFailed) {
						t.Fatalf("%s under injected %s errors: %v", call, fault.name, err)
					}
					if !strings.Contains(err.Error(), "file store db") {
						t.Fatalf("error does not name the store: %v", err)
					}
					toggle.Off()
					if err := s.Write(ctx, 0, entry("after", "x", immortal)); !errors.Is(err, ErrFailed) {
						t.Fatalf("a failed store accepted a write: %v", err)
					}
					if err := s.Sync(ctx); !errors.Is(err, ErrFailed) {
						t.Fatalf("a failed store synced: %v", err)
					}
					if _, ok, err := s.Load(ctx, 0, []byte("0"), 0); !ok || err != nil {
						t.Fatalf("reads stopped after the failure: %v %v", ok, err)
					}
					crashed := reopenCrashed(t, mem)
					s.Close()
					checkAcknowledged(t, crashed, 100)
					checkAllOrNothing(t, crashed)
					// Reopening the store itself, as an operator would,
					// where the failed write may have reached the file.
					s2 := open(t, "db", Options{FS: mem})
					checkAcknowledged(t, s2, 100)
					checkAllOrNothing(t, s2)
				})
			}
		}
	}
}

// checkAllOrNothing checks that the failed batch of TestInjectedErrors,
// 50 writes and the delete of "extra", is wholly there or wholly not.
func checkAllOrNothing(t *testing.T, s *Store) {
	t.Helper()
	n := 0
	err := s.Publish(ctx, nil, 0, func(_ int, e cache.Entry) error {
		if strings.HasPrefix(string(e.Key), "batch") {
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	_, extra, _ := s.Load(ctx, 1, []byte("extra"), 0)
	if !(n == 0 && extra || n == 50 && !extra) {
		t.Fatalf("part of the failed batch survived: %d of 50 writes, delete applied: %v", n, !extra)
	}
}

// mustWriteOrFail writes one entry before an injected sync failure: the
// write itself fails under the policies that sync it.
func mustWriteOrFail(t *testing.T, s *Store, d persistence.Durability) {
	err := s.Write(ctx, 0, entry("unsynced", "x", immortal))
	if (err == nil) != (d == persistence.Interval) {
		t.Fatalf("write under %v with sync failing: %v", d, err)
	}
}

func checkAcknowledged(tb testing.TB, s *Store, n int) {
	tb.Helper()
	for i := 0; i < n; i++ {
		if e, ok, err := s.Load(ctx, i%4, []byte(fmt.Sprint(i)), 0); err != nil || !ok || string(e.Value) != "ok" {
			tb.Fatalf("acknowledged write %d lost: %v %v", i, ok, err)
		}
	}
}

// TestFaultUnderConcurrentWriters fails the log while many goroutines
// write: no panic, no writer left waiting, and every write acknowledged as
// durable survives a crash. pebble alone panics here (a commit that reaches
// its failed log writer panics), which is why every commit holds commitMu.
func TestFaultUnderConcurrentWriters(t *testing.T) {
	for _, d := range policies {
		for _, fault := range []struct {
			name  string
			kinds []errorfs.OpKind
		}{{"write", writeOps}, {"sync", syncOps}} {
			t.Run(fmt.Sprintf("%s/%s", d, fault.name), func(t *testing.T) {
				for round := 0; round < 5; round++ {
					faultRound(t, d, fault.kinds)
				}
			})
		}
	}
}

func faultRound(t *testing.T, d persistence.Durability, kinds []errorfs.OpKind) {
	mem := vfs.NewCrashableMem()
	toggle := failOn(errorfs.ErrInjected, kinds...)
	s, err := Open("db", Options{FS: errorfs.Wrap(mem, toggle), Durability: d, SyncInterval: time.Millisecond, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		acked []string
	)
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				if g == 0 && i == 50 {
					toggle.On()
				}
				k := fmt.Sprintf("%d-%d", g, i)
				err := s.Write(ctx, g, entry(k, "v", immortal))
				if err != nil {
					if !errors.Is(err, ErrFailed) {
						t.Errorf("write error without ErrFailed: %v", err)
					}
					return
				}
				if d != persistence.Interval {
					mu.Lock()
					acked = append(acked, k)
					mu.Unlock()
				}
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("writers still waiting 30s after the fault")
	}
	if err := s.health.poisoned(); err != nil {
		t.Fatalf("a commit reached pebble's failed log writer: %v", err)
	}
	crashed := mem.CrashClone(vfs.CrashCloneCfg{})
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	select {
	case <-closed:
	case <-time.After(30 * time.Second):
		t.Fatal("Close hangs after the fault")
	}
	s2, err := Open("db", Options{FS: crashed, Logger: quiet})
	if err != nil {
		t.Fatalf("reopen after the fault: %v", err)
	}
	defer s2.Close()
	for _, k := range acked {
		var g int
		fmt.Sscanf(k, "%d-", &g)
		if _, ok, err := s2.Load(ctx, g, []byte(k), 0); !ok || err != nil {
			t.Fatalf("acknowledged write %s lost: %v %v", k, ok, err)
		}
	}
}

// TestDiskFull fills the disk under the log: the error says ENOSPC.
func TestDiskFull(t *testing.T) {
	mem := vfs.NewMem()
	full := failOn(syscall.ENOSPC, append(writeOps, errorfs.OpCreate, errorfs.OpFilePreallocate)...)
	s := open(t, "db", Options{FS: errorfs.Wrap(mem, full)})
	mustWrite(t, s, 0, entry("a", "b", immortal))
	full.On()
	err := s.Write(ctx, 0, entry("c", strings.Repeat("x", 64<<10), immortal))
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("write on a full disk: %v, want ENOSPC", err)
	}
}

// TestFlushFailureRefusesWritesUntilAFlushSucceeds fails the memtable
// flush (the tables it writes), not the log: writes are refused while it
// fails and accepted again once pebble's retry succeeds.
func TestFlushFailureRefusesWritesUntilAFlushSucceeds(t *testing.T) {
	mem := vfs.NewMem()
	toggle := &errorfs.Toggle{Injector: errorfs.InjectorFunc(func(op errorfs.Op) error {
		if op.Kind == errorfs.OpCreate && strings.HasSuffix(op.Path, ".sst") {
			return syscall.EIO
		}
		return nil
	})}
	s := open(t, "db", Options{FS: errorfs.Wrap(mem, toggle)})
	mustWrite(t, s, 0, entry("a", "b", immortal))
	toggle.On()
	if _, err := s.db.AsyncFlush(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "writes refused during flush failures", func() bool {
		err := s.Write(ctx, 0, entry("c", "d", immortal))
		return errors.Is(err, syscall.EIO) && !errors.Is(err, ErrFailed)
	})
	if err := s.Sync(ctx); err != nil {
		t.Fatalf("the log cannot be synced while flushes fail: %v", err)
	}
	toggle.Off()
	waitFor(t, "writes accepted after a flush succeeds", func() bool {
		return s.Write(ctx, 0, entry("e", "f", immortal)) == nil
	})
	if _, ok, _ := s.Load(ctx, 0, []byte("a"), 0); !ok {
		t.Fatal("entry lost across the flush failure")
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestEngineFatalIsAnError checks that pebble's Fatalf stops writes with
// an error that unwraps to the cause instead of ending the process.
func TestEngineFatalIsAnError(t *testing.T) {
	s := open(t, t.TempDir(), Options{})
	engineLogger{s}.Fatalf("pebble: MANIFEST sync failed: %v", syscall.EIO)
	err := s.Write(ctx, 0, entry("k", "v", immortal))
	if !errors.Is(err, ErrFailed) || !errors.Is(err, syscall.EIO) || !strings.Contains(err.Error(), "MANIFEST") {
		t.Fatalf("write after a fatal engine error: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Logf("close after a fatal engine error: %v", err)
	}
}

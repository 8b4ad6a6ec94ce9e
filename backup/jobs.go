package backup

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/hotgrid/hotgrid/cache"
)

// Job states, as Infinispan's BackupManager.Status names them.
const (
	InProgress = "IN_PROGRESS"
	Complete   = "COMPLETE"
	Failed     = "FAILED"
)

// Errors of the job registry.
var (
	ErrExists   = errors.New("backup: an operation with this name exists")
	ErrNotFound = errors.New("backup: no operation with this name")
	ErrBusy     = errors.New("backup: the operation is still running")
)

// Job is one backup or restore running in the background.
type Job struct {
	Name     string
	Path     string // the archive
	Started  time.Time
	Progress Progress

	done     chan struct{}
	err      error
	finished time.Time
	tempFile bool // Path is ours to delete with the job
}

// Status returns the job's state and, when it failed, why.
func (j *Job) Status() (string, error) {
	select {
	case <-j.done:
		if j.err != nil {
			return Failed, j.err
		}
		return Complete, nil
	default:
		return InProgress, nil
	}
}

// Wait blocks until the job ends or ctx does.
func (j *Job) Wait(ctx context.Context) error {
	select {
	case <-j.done:
		return j.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Jobs runs a node's backups and restores by name, as the REST API and the
// CLI address them.
type Jobs struct {
	mgr           *cache.Manager
	dir           string // where archives are written
	tmpDir        string // dir, when Jobs created it (removed by Close)
	serverVersion string
	log           *slog.Logger

	mu       sync.Mutex
	backups  map[string]*Job
	restores map[string]*Job
	wg       sync.WaitGroup
	ctx      context.Context
	cancel   context.CancelFunc
}

// NewJobs returns a registry writing archives under dir (SERVER_ROOT/data/
// backups). With dir "" (a node that keeps nothing on disk) the first backup
// creates a temporary directory, which Close removes.
func NewJobs(mgr *cache.Manager, dir, serverVersion string, log *slog.Logger) *Jobs {
	if log == nil {
		log = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Jobs{mgr: mgr, dir: dir, serverVersion: serverVersion, log: log,
		backups: map[string]*Job{}, restores: map[string]*Job{}, ctx: ctx, cancel: cancel}
}

// validName reports whether name is 1–128 letters, digits, '.', '_' or
// '-', starting with a letter or digit: safe as a file name. (A loop, not a
// regexp: a package-level regexp would be compiled at every start-up.)
func validName(name string) bool {
	if len(name) == 0 || len(name) > 128 {
		return false
	}
	for i, c := range []byte(name) {
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || c != '.' && c != '_' && c != '-') {
			return false
		}
	}
	return true
}

func checkName(name string) error {
	if !validName(name) {
		return fmt.Errorf("backup: invalid name %q: use letters, digits, '.', '_' and '-'", name)
	}
	return nil
}

// jobContext is the context a job runs with: the values of ctx (the
// requester's authorization subject, so the job reads and writes only what
// its requester may) and the cancellation of the registry, not of the
// request that started it.
func (js *Jobs) jobContext(ctx context.Context) (context.Context, context.CancelFunc) {
	c, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(js.ctx, cancel)
	return c, func() { stop(); cancel() }
}

// StartBackup begins archiving the selected caches to dir/NAME/NAME.zip
// (dir "" means the registry's directory), as the subject ctx carries.
func (js *Jobs) StartBackup(ctx context.Context, name, dir string, res Resources) (*Job, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	js.mu.Lock()
	defer js.mu.Unlock()
	if dir == "" {
		if js.dir == "" {
			tmp, err := os.MkdirTemp("", "hotgrid-backups")
			if err != nil {
				return nil, fmt.Errorf("backup: %w", err)
			}
			js.dir, js.tmpDir = tmp, tmp
		}
		dir = js.dir
	}
	if js.backups[name] != nil {
		return nil, ErrExists
	}
	j := &Job{Name: name, Path: filepath.Join(dir, name, name+".zip"), Started: time.Now(), done: make(chan struct{})}
	js.backups[name] = j
	js.wg.Add(1)
	jctx, cancel := js.jobContext(ctx)
	go func() {
		defer js.wg.Done()
		defer cancel()
		j.err = js.writeArchive(jctx, j, res)
		j.finished = time.Now()
		if j.err != nil {
			js.log.Error("backup failed", "name", name, "err", j.err)
		} else {
			js.log.Info("backup complete", "name", name, "path", j.Path, "caches", j.Progress.Caches.Load(),
				"entries", j.Progress.Entries.Load(), "duration", j.finished.Sub(j.Started).Round(time.Millisecond))
		}
		close(j.done)
	}()
	return j, nil
}

// writeArchive writes to a temporary file renamed into place once complete,
// so a finished archive is never a partial one.
func (js *Jobs) writeArchive(ctx context.Context, j *Job, res Resources) error {
	if err := os.MkdirAll(filepath.Dir(j.Path), 0o755); err != nil {
		return fmt.Errorf("backup %s: %w", j.Name, err)
	}
	tmp := j.Path + ".partial"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("backup %s: %w", j.Name, err)
	}
	err = Write(ctx, js.mgr, f, res, js.serverVersion, &j.Progress)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, j.Path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("backup %s: %w", j.Name, err)
	}
	return nil
}

// Backup returns the named backup.
func (js *Jobs) Backup(name string) (*Job, bool) {
	js.mu.Lock()
	defer js.mu.Unlock()
	j, ok := js.backups[name]
	return j, ok
}

// Names lists the backups (restores with restore=true).
func (js *Jobs) Names(restore bool) []string {
	js.mu.Lock()
	defer js.mu.Unlock()
	m := js.backups
	if restore {
		m = js.restores
	}
	out := make([]string, 0, len(m))
	for n := range m {
		out = append(out, n)
	}
	return out
}

// RemoveBackup deletes a finished backup and its archive.
func (js *Jobs) RemoveBackup(name string) error {
	js.mu.Lock()
	defer js.mu.Unlock()
	j := js.backups[name]
	if j == nil {
		return ErrNotFound
	}
	if st, _ := j.Status(); st == InProgress {
		return ErrBusy
	}
	delete(js.backups, name)
	os.Remove(j.Path)
	os.Remove(filepath.Dir(j.Path))
	return nil
}

// StartRestore restores the archive at path, as the subject ctx carries.
// With own set the registry deletes the file when the restore is removed
// (an uploaded archive).
func (js *Jobs) StartRestore(ctx context.Context, name, path string, own bool, res Resources) (*Job, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	js.mu.Lock()
	defer js.mu.Unlock()
	if js.restores[name] != nil {
		return nil, ErrExists
	}
	j := &Job{Name: name, Path: path, Started: time.Now(), done: make(chan struct{}), tempFile: own}
	js.restores[name] = j
	js.wg.Add(1)
	jctx, cancel := js.jobContext(ctx)
	go func() {
		defer js.wg.Done()
		defer cancel()
		j.err = js.restoreArchive(jctx, j, res)
		j.finished = time.Now()
		if j.err != nil {
			js.log.Error("restore failed", "name", name, "err", j.err)
		} else {
			js.log.Info("restore complete", "name", name, "caches", j.Progress.Caches.Load(),
				"entries", j.Progress.Entries.Load(), "duration", j.finished.Sub(j.Started).Round(time.Millisecond))
		}
		close(j.done)
	}()
	return j, nil
}

func (js *Jobs) restoreArchive(ctx context.Context, j *Job, res Resources) error {
	f, err := os.Open(j.Path)
	if err != nil {
		return fmt.Errorf("restore %s: %w", j.Name, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("restore %s: %w", j.Name, err)
	}
	if _, err := Restore(ctx, js.mgr, f, st.Size(), res, &j.Progress); err != nil {
		return fmt.Errorf("restore %s: %w", j.Name, err)
	}
	return nil
}

// Restore returns the named restore.
func (js *Jobs) Restore(name string) (*Job, bool) {
	js.mu.Lock()
	defer js.mu.Unlock()
	j, ok := js.restores[name]
	return j, ok
}

// RemoveRestore forgets a finished restore (and deletes an uploaded
// archive).
func (js *Jobs) RemoveRestore(name string) error {
	js.mu.Lock()
	defer js.mu.Unlock()
	j := js.restores[name]
	if j == nil {
		return ErrNotFound
	}
	if st, _ := j.Status(); st == InProgress {
		return ErrBusy
	}
	delete(js.restores, name)
	if j.tempFile {
		os.Remove(j.Path)
	}
	return nil
}

// Close cancels running operations and waits for them.
func (js *Jobs) Close() {
	js.cancel()
	js.wg.Wait()
	js.mu.Lock()
	defer js.mu.Unlock()
	for _, j := range js.restores {
		if j.tempFile {
			os.Remove(j.Path)
		}
	}
	if js.tmpDir != "" {
		os.RemoveAll(js.tmpDir)
	}
}

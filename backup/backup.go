// Package backup writes a node's caches — configurations and entries — to
// a zip archive and restores them, as Infinispan's container backup and
// restore operations do.
//
// Archive layout (hotgrid's own; Infinispan's archives hold Java-marshalled
// entries and are not read):
//
//	manifest.json                               format, version, time, caches
//	containers/default/caches/NAME/config.json  the cache's configuration
//	containers/default/caches/NAME/entries.bin  the entries
//
// entries.bin is a sequence of records: uvarint key length, key, uvarint
// record length, record (persistence.EncodeEntry: metadata then value).
package backup

import (
	"archive/zip"
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hotgrid/hotgrid/cache"
	"github.com/hotgrid/hotgrid/config"
	"github.com/hotgrid/hotgrid/persistence"
)

// Format is the manifest's format name.
const Format = "hotgrid-backup"

// Resources selects what a backup or restore covers, as Infinispan's
// request body does: cache names or globs ("*" for all). A nil Caches means
// all.
type Resources struct {
	Caches []string `json:"caches,omitempty"`
}

func (r Resources) wants(name string) bool {
	if r.Caches == nil {
		return true
	}
	for _, p := range r.Caches {
		if ok, _ := path.Match(p, name); ok {
			return true
		}
	}
	return false
}

// Progress counts what an operation has done so far; it is safe to read
// while the operation runs.
type Progress struct {
	Caches  atomic.Int64
	Entries atomic.Int64
	Bytes   atomic.Int64
}

// Manifest describes an archive.
type Manifest struct {
	Format        string          `json:"format"`
	Version       int             `json:"version"`
	Created       time.Time       `json:"created"`
	ServerVersion string          `json:"server_version,omitempty"`
	Caches        []ManifestCache `json:"caches"`
}

// ManifestCache is one cache of an archive.
type ManifestCache struct {
	Name    string `json:"name"`
	Entries int64  `json:"entries"`
}

func cacheDir(name string) string { return "containers/default/caches/" + name + "/" }

// Write archives the selected caches of mgr to w.
func Write(ctx context.Context, mgr *cache.Manager, w io.Writer, res Resources, serverVersion string, p *Progress) error {
	if p == nil {
		p = &Progress{}
	}
	zw := zip.NewWriter(w)
	man := Manifest{Format: Format, Version: 1, Created: time.Now().UTC(), ServerVersion: serverVersion}
	for _, name := range mgr.Names() {
		if !res.wants(name) {
			continue
		}
		n, err := writeCache(ctx, mgr, zw, name, p)
		if errors.Is(err, cache.ErrNotFound) {
			continue // removed meanwhile
		}
		if err != nil {
			return fmt.Errorf("backup of cache %q: %w", name, err)
		}
		man.Caches = append(man.Caches, ManifestCache{Name: name, Entries: n})
		p.Caches.Add(1)
	}
	mw, err := zw.Create("manifest.json")
	if err != nil {
		return err
	}
	if err := json.NewEncoder(mw).Encode(man); err != nil {
		return err
	}
	return zw.Close()
}

func writeCache(ctx context.Context, mgr *cache.Manager, zw *zip.Writer, name string, p *Progress) (int64, error) {
	cfg, _, err := mgr.Config(name)
	if err != nil {
		return 0, err
	}
	c, err := mgr.Cache(name)
	if err != nil {
		return 0, err
	}
	cw, err := zw.Create(cacheDir(name) + "config.json")
	if err != nil {
		return 0, err
	}
	if _, err := cw.Write(cfg.JSON()); err != nil {
		return 0, err
	}
	ew, err := zw.Create(cacheDir(name) + "entries.bin")
	if err != nil {
		return 0, err
	}
	bw := bufio.NewWriterSize(ew, 64<<10)
	var n int64
	var buf []Entry
	var rec, hdr []byte
	for seg := 0; seg < c.NumSegments(); seg++ {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		buf, err = c.Segment(ctx, seg, buf[:0])
		if err != nil {
			return n, err
		}
		for _, e := range buf {
			rec = persistence.EncodeEntry(rec[:0], e.Meta, e.Value)
			hdr = binary.AppendUvarint(hdr[:0], uint64(len(e.Key)))
			bw.Write(hdr)
			bw.Write(e.Key)
			hdr = binary.AppendUvarint(hdr[:0], uint64(len(rec)))
			bw.Write(hdr)
			if _, err := bw.Write(rec); err != nil {
				return n, err
			}
			n++
			p.Entries.Add(1)
			p.Bytes.Add(int64(len(e.Key) + len(rec)))
		}
	}
	return n, bw.Flush()
}

// Entry is cache.Entry, named here for the backup's readers.
type Entry = cache.Entry

// ConfigFor builds a cache configuration from an archived JSON document.
type ConfigFor func(name string, doc []byte) (*config.Cache, error)

// maxRecord bounds one archived key or record (a corrupt length must not
// allocate gigabytes).
const maxRecord = 1 << 30

// Restore reads an archive and puts its selected caches back: a cache that
// does not exist is created from the archived configuration (and, on a node
// with a server root, recorded to come back after restarts); entries are
// written with their archived metadata. Entries that have expired since the
// backup are skipped.
func Restore(ctx context.Context, mgr *cache.Manager, r io.ReaderAt, size int64, res Resources, p *Progress) (*Manifest, error) {
	if p == nil {
		p = &Progress{}
	}
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("restore: not a backup archive: %w", err)
	}
	files := map[string]*zip.File{}
	for _, f := range zr.File {
		files[f.Name] = f
	}
	mf := files["manifest.json"]
	if mf == nil {
		return nil, errors.New("restore: the archive has no manifest.json")
	}
	var man Manifest
	if err := readJSON(mf, &man); err != nil {
		return nil, fmt.Errorf("restore: manifest: %w", err)
	}
	if man.Format != Format || man.Version != 1 {
		return nil, fmt.Errorf("restore: archive format %q version %d is not %s version 1", man.Format, man.Version, Format)
	}
	for _, mc := range man.Caches {
		if !res.wants(mc.Name) {
			continue
		}
		if strings.ContainsAny(mc.Name, "/\\") || mc.Name == "" {
			return nil, fmt.Errorf("restore: invalid cache name %q", mc.Name)
		}
		if err := restoreCache(ctx, mgr, files, mc.Name, p); err != nil {
			return nil, fmt.Errorf("restore of cache %q: %w", mc.Name, err)
		}
		p.Caches.Add(1)
	}
	return &man, nil
}

func readJSON(f *zip.File, v any) error {
	rc, err := f.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	return json.NewDecoder(io.LimitReader(rc, 16<<20)).Decode(v)
}

func restoreCache(ctx context.Context, mgr *cache.Manager, files map[string]*zip.File, name string, p *Progress) error {
	if _, err := mgr.Cache(name); errors.Is(err, cache.ErrNotFound) {
		cf := files[cacheDir(name)+"config.json"]
		if cf == nil {
			return errors.New("no configuration in the archive")
		}
		rc, err := cf.Open()
		if err != nil {
			return err
		}
		doc, err := io.ReadAll(io.LimitReader(rc, 16<<20))
		rc.Close()
		if err != nil {
			return err
		}
		cfg, err := config.ParseCache(name, doc, nil)
		if err != nil {
			return fmt.Errorf("archived configuration: %w", err)
		}
		if _, err := mgr.GetOrCreate(cfg, cache.CreateOptions{}); err != nil {
			return err
		}
	}
	ef := files[cacheDir(name)+"entries.bin"]
	if ef == nil {
		return errors.New("no entries in the archive")
	}
	rc, err := ef.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	br := bufio.NewReaderSize(rc, 64<<10)
	var key, rec []byte
	for i := 0; ; i++ {
		if i%1024 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		klen, err := binary.ReadUvarint(br)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("entries.bin: %w", err)
		}
		if key, err = readN(br, klen, key); err != nil {
			return err
		}
		rlen, err := binary.ReadUvarint(br)
		if err != nil {
			return fmt.Errorf("entries.bin: %w", io.ErrUnexpectedEOF)
		}
		if rec, err = readN(br, rlen, rec); err != nil {
			return err
		}
		meta, val, err := persistence.DecodeEntry(rec)
		if err != nil {
			return fmt.Errorf("entries.bin: %w", err)
		}
		if err := mgr.Restore(ctx, name, cache.Entry{Key: slices.Clone(key), Value: val, Meta: meta}); err != nil {
			return err
		}
		p.Entries.Add(1)
		p.Bytes.Add(int64(len(key) + len(rec)))
	}
}

func readN(r io.Reader, n uint64, buf []byte) ([]byte, error) {
	if n > maxRecord {
		return nil, fmt.Errorf("entries.bin: record of %d bytes", n)
	}
	if n > 1<<20 {
		// Grow with the data actually present, so that a corrupt length
		// cannot make us allocate it up front.
		b, err := io.ReadAll(io.LimitReader(r, int64(n)))
		if err != nil || uint64(len(b)) != n {
			return nil, fmt.Errorf("entries.bin: %w", io.ErrUnexpectedEOF)
		}
		return b, nil
	}
	if uint64(cap(buf)) < n {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, fmt.Errorf("entries.bin: %w", io.ErrUnexpectedEOF)
	}
	return buf, nil
}

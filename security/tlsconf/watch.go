package tlsconf

import (
	"context"
	"os"
	"slices"
	"time"
)

// Watch polls the files' size and modification time every ReloadInterval
// and reloads when they change, until ctx ends. Reloads are logged at info,
// failures at warn; a failed reload is retried only after the files change
// again. With a negative ReloadInterval Watch returns at once.
func (c *Config) Watch(ctx context.Context) {
	if c.opts.ReloadInterval < 0 {
		return
	}
	log := c.opts.Logger
	// Compare with what the last load saw, so changes made between New and
	// Watch starting are not missed.
	last := c.cur.Load().stamps
	t := time.NewTicker(c.opts.ReloadInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := c.stamps()
		if slices.Equal(now, last) {
			continue
		}
		last = now
		changed, err := c.Reload()
		switch {
		case err != nil:
			log.Warn("tls certificate reload failed; keeping the current certificates", "err", err)
		case changed:
			log.Info("tls certificates reloaded", "files", c.files())
		default:
			log.Debug("tls files touched, certificates unchanged")
		}
	}
}

// files lists every file the configuration reads.
func (c *Config) files() []string {
	var fs []string
	for _, id := range c.opts.Identities {
		for _, f := range []string{id.KeystorePath, id.CertFile, id.KeyFile} {
			if f != "" {
				fs = append(fs, f)
			}
		}
	}
	if c.opts.TruststorePath != "" {
		fs = append(fs, c.opts.TruststorePath)
	}
	return fs
}

// stamp is what Watch compares to notice a changed file.
type stamp struct {
	size    int64 // -1 when the file cannot be read
	modTime time.Time
}

// stamps stats every file.
func (c *Config) stamps() []stamp {
	fs := c.files()
	out := make([]stamp, len(fs))
	for i, f := range fs {
		fi, err := os.Stat(f)
		if err != nil {
			out[i] = stamp{size: -1}
			continue
		}
		out[i] = stamp{size: fi.Size(), modTime: fi.ModTime()}
	}
	return out
}

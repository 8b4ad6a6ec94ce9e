package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// restClient speaks to the node's REST API on the same address as Hot Rod
// (the single port).
type restClient struct {
	base string
	hc   *http.Client
}

func newRESTClient(c connection) *restClient {
	return &restClient{base: c.baseURL() + "/rest/v2/container", hc: c.httpClient()}
}

func (rc *restClient) do(ctx context.Context, method, path, ctype string, body io.Reader) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, rc.base+path, body)
	if err != nil {
		return nil, err
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	return rc.hc.Do(req)
}

// start POSTs an operation and expects 202 Accepted.
func (rc *restClient) start(ctx context.Context, what, path, ctype string, body io.Reader) error {
	resp, err := rc.do(ctx, http.MethodPost, path, ctype, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("%s: %w", what, readError(resp))
	}
	return nil
}

// remove deletes a finished operation on the node, best effort: the
// operation itself has succeeded.
func (rc *restClient) remove(ctx context.Context, path string) {
	if resp, err := rc.do(ctx, http.MethodDelete, path, "", nil); err == nil {
		resp.Body.Close()
	}
}

// progress is the body of a 202 (or 201) status answer.
type progress struct {
	Status  string `json:"status"`
	Caches  int64  `json:"caches"`
	Entries int64  `json:"entries"`
	Bytes   int64  `json:"bytes"`
}

func readError(resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(b)))
}

// wait polls an operation until it answers done, printing progress to out
// at most once a second.
func (rc *restClient) wait(ctx context.Context, what, path string, done int, out io.Writer) (*http.Response, error) {
	last := time.Now() // first report after a second: short operations print nothing
	for {
		resp, err := rc.do(ctx, http.MethodGet, path, "", nil)
		if err != nil {
			return nil, err
		}
		switch resp.StatusCode {
		case done:
			return resp, nil
		case http.StatusAccepted:
			var p progress
			json.NewDecoder(resp.Body).Decode(&p)
			resp.Body.Close()
			if time.Since(last) >= time.Second {
				fmt.Fprintf(out, "%s: %d caches, %d entries, %.1f MB so far\n", what, p.Caches, p.Entries, float64(p.Bytes)/1e6)
				last = time.Now()
			}
		default:
			defer resp.Body.Close()
			return nil, fmt.Errorf("%s: %w", what, readError(resp))
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func cachesJSON(caches string) map[string]any {
	if caches == "" {
		return nil
	}
	return map[string]any{"caches": strings.Split(caches, ",")}
}

// backupCmd creates a backup on the node, downloads it to out and removes
// the node's copy.
func backupCmd(ctx context.Context, conn connection, w []string, o cmdOpts, stdout, stderr io.Writer) error {
	if len(w) != 2 {
		return usageError("usage: backup NAME [--out FILE] [--caches A,B]")
	}
	name := w[1]
	file := o.out
	if file == "" {
		file = name + ".zip"
	}
	rc := newRESTClient(conn)
	body, _ := json.Marshal(map[string]any{"resources": cachesJSON(o.caches)})
	path := "/backups/" + url.PathEscape(name)
	if err := rc.start(ctx, "backup "+name, path, "application/json", bytes.NewReader(body)); err != nil {
		return err
	}
	t0 := time.Now()
	resp, err := rc.wait(ctx, "backup "+name, path, http.StatusOK, stderr)
	if err != nil {
		return err
	}
	f, err := os.Create(file)
	if err != nil {
		resp.Body.Close()
		return err
	}
	n, err := io.Copy(f, resp.Body)
	resp.Body.Close()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(file)
		return fmt.Errorf("download of backup %s: %w", name, err)
	}
	rc.remove(ctx, path)
	fmt.Fprintf(stdout, "backup %s written to %s (%.1f MB) in %s\n", name, file, float64(n)/1e6, time.Since(t0).Round(time.Millisecond))
	return nil
}

// restoreCmd uploads an archive and waits for the node to restore it.
func restoreCmd(ctx context.Context, conn connection, w []string, o cmdOpts, stdout, stderr io.Writer) error {
	if len(w) != 2 {
		return usageError("usage: restore FILE [--name NAME] [--caches A,B]")
	}
	file := w[1]
	name := o.name
	if name == "" {
		name = fmt.Sprintf("%s-%d", strings.TrimSuffix(filepath.Base(file), ".zip"), time.Now().Unix())
	}
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		err := func() error {
			if res := cachesJSON(o.caches); res != nil {
				part, err := mw.CreateFormField("resources")
				if err != nil {
					return err
				}
				if err := json.NewEncoder(part).Encode(res); err != nil {
					return err
				}
			}
			part, err := mw.CreateFormFile("backup", filepath.Base(file))
			if err != nil {
				return err
			}
			if _, err := io.Copy(part, f); err != nil {
				return err
			}
			return mw.Close()
		}()
		pw.CloseWithError(err)
	}()
	rc := newRESTClient(conn)
	path := "/restores/" + url.PathEscape(name)
	t0 := time.Now()
	if err := rc.start(ctx, "restore "+name, path, mw.FormDataContentType(), pr); err != nil {
		return err
	}
	resp, err := rc.wait(ctx, "restore "+name, path, http.StatusCreated, stderr)
	if err != nil {
		return err
	}
	var p progress
	json.NewDecoder(resp.Body).Decode(&p)
	resp.Body.Close()
	rc.remove(ctx, path)
	fmt.Fprintf(stdout, "restored %d caches, %d entries from %s in %s\n", p.Caches, p.Entries, file, time.Since(t0).Round(time.Millisecond))
	return nil
}

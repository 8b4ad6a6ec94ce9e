package rest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"slices"
	"time"

	"github.com/hotgrid/hotgrid/backup"
)

// backupRequest is the JSON body of POST …/backups/{name} and
// POST …/restores/{name}.
type backupRequest struct {
	Directory string           `json:"directory"` // backups: where to write
	Location  string           `json:"location"`  // restores: archive on the server
	Resources *backupResources `json:"resources"`
}

// backupResources mirrors Infinispan's resources object; hotgrid archives
// caches (with their configurations), so only "caches" selects anything.
type backupResources struct {
	Caches    []string `json:"caches"`
	Templates []string `json:"templates"`
	Counters  []string `json:"counters"`
}

func (b *backupRequest) resources() backup.Resources {
	if b.Resources == nil || b.Resources.Caches == nil {
		return backup.Resources{}
	}
	return backup.Resources{Caches: b.Resources.Caches}
}

// isUpload reports whether the request is an archive upload, which is not
// bound by the REST body limit.
func isUpload(r *http.Request, parts []string) bool {
	if r.Method != http.MethodPost || len(parts) < 3 || parts[len(parts)-2] != "restores" {
		return false
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return mt == "multipart/form-data"
}

// backups serves …/backups[/{name}] and …/restores[/{name}].
func (h *handler) backups(w http.ResponseWriter, r *http.Request, sub []string) error {
	js := h.o.Backups
	if js == nil {
		return errorf(http.StatusNotImplemented, "backups are not available on this node")
	}
	restore := sub[0] == "restores"
	if len(sub) == 1 {
		if r.Method != http.MethodGet {
			return errorf(http.StatusMethodNotAllowed, "%s not allowed", r.Method)
		}
		names := js.Names(restore)
		slices.Sort(names)
		writeJSON(w, http.StatusOK, names)
		return nil
	}
	if len(sub) != 2 {
		return errorf(http.StatusNotFound, "unknown resource %s", r.URL.Path)
	}
	name := sub[1]
	switch r.Method {
	case http.MethodPost:
		if restore {
			return h.startRestore(w, r, name)
		}
		var req backupRequest
		if err := decodeOptionalJSON(r, &req); err != nil {
			return err
		}
		if _, err := js.StartBackup(r.Context(), name, req.Directory, req.resources()); err != nil {
			return jobError(err)
		}
		w.WriteHeader(http.StatusAccepted)
	case http.MethodHead, http.MethodGet:
		var j *backup.Job
		var ok bool
		if restore {
			j, ok = js.Restore(name)
		} else {
			j, ok = js.Backup(name)
		}
		if !ok {
			return errorf(http.StatusNotFound, "%s %s not found", sub[0][:len(sub[0])-1], name)
		}
		state, err := j.Status()
		switch {
		case state == backup.InProgress:
			writeProgress(w, r, http.StatusAccepted, j, state)
		case state == backup.Failed:
			return err
		case restore:
			writeProgress(w, r, http.StatusCreated, j, state)
		case r.Method == http.MethodHead:
			w.WriteHeader(http.StatusOK)
		default:
			f, err := os.Open(j.Path)
			if err != nil {
				return err
			}
			defer f.Close()
			st, _ := f.Stat()
			w.Header().Set("Content-Type", "application/zip")
			w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", name+".zip"))
			http.ServeContent(w, r, name+".zip", st.ModTime(), f)
		}
	case http.MethodDelete:
		var err error
		if restore {
			err = js.RemoveRestore(name)
		} else {
			err = js.RemoveBackup(name)
		}
		if err != nil {
			return jobError(err)
		}
		w.WriteHeader(http.StatusNoContent)
	default:
		return errorf(http.StatusMethodNotAllowed, "%s not allowed", r.Method)
	}
	return nil
}

// writeProgress answers a status request with the job's counters (a body
// only for GET).
func writeProgress(w http.ResponseWriter, r *http.Request, status int, j *backup.Job, state string) {
	if r.Method == http.MethodHead {
		w.WriteHeader(status)
		return
	}
	writeJSON(w, status, map[string]any{
		"name": j.Name, "status": state, "caches": j.Progress.Caches.Load(),
		"entries": j.Progress.Entries.Load(), "bytes": j.Progress.Bytes.Load(),
		"elapsed_ms": time.Since(j.Started).Milliseconds(),
	})
}

func jobError(err error) error {
	switch {
	case errors.Is(err, backup.ErrExists):
		return errorf(http.StatusConflict, "%v", err)
	case errors.Is(err, backup.ErrNotFound):
		return errorf(http.StatusNotFound, "%v", err)
	case errors.Is(err, backup.ErrBusy):
		return errorf(http.StatusConflict, "%v", err)
	}
	return errorf(http.StatusBadRequest, "%v", err)
}

func decodeOptionalJSON(r *http.Request, v any) error {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return errorf(http.StatusRequestEntityTooLarge, "%v", err)
	}
	if len(body) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, v); err != nil {
		return errorf(http.StatusBadRequest, "request body: %v", err)
	}
	return nil
}

// startRestore begins a restore from an uploaded archive (multipart part
// "backup", optional part "resources") or from a file on the server (JSON
// {"location": …}).
func (h *handler) startRestore(w http.ResponseWriter, r *http.Request, name string) error {
	js := h.o.Backups
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var req backupRequest
	path, own := "", false
	if mt == "multipart/form-data" {
		mr, err := r.MultipartReader()
		if err != nil {
			return errorf(http.StatusBadRequest, "%v", err)
		}
		for {
			part, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				return errorf(http.StatusBadRequest, "upload: %v", err)
			}
			switch part.FormName() {
			case "backup":
				f, err := os.CreateTemp(h.o.UploadDir, "restore-*.zip")
				if err != nil {
					return err
				}
				_, err = io.Copy(f, part)
				if cerr := f.Close(); err == nil {
					err = cerr
				}
				if err != nil {
					os.Remove(f.Name())
					return errorf(http.StatusBadRequest, "upload: %v", err)
				}
				path, own = f.Name(), true
			case "resources":
				var res backupResources
				if err := json.NewDecoder(io.LimitReader(part, 1<<20)).Decode(&res); err != nil {
					return errorf(http.StatusBadRequest, "resources: %v", err)
				}
				req.Resources = &res
			}
		}
		if path == "" {
			return errorf(http.StatusBadRequest, "the upload has no \"backup\" part")
		}
	} else {
		if err := decodeOptionalJSON(r, &req); err != nil {
			return err
		}
		if req.Location == "" {
			return errorf(http.StatusBadRequest, "a restore needs an uploaded archive or a \"location\"")
		}
		path = req.Location
	}
	if _, err := js.StartRestore(r.Context(), name, path, own, req.resources()); err != nil {
		if own {
			os.Remove(path)
		}
		return jobError(err)
	}
	w.WriteHeader(http.StatusAccepted)
	return nil
}

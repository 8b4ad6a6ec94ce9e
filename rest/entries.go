package rest

import (
	"encoding/base64"
	"encoding/hex"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hotgrid/hotgrid/cache"
	"github.com/hotgrid/hotgrid/encoding"
	"github.com/hotgrid/hotgrid/hash"
)

// decodeKey turns the key path segment into bytes in the cache's key
// storage type, following Key-Content-Type: text/plain (the default),
// application/octet-stream with encoding=hex or encoding=base64 (standard
// or URL-safe, with or without padding), or another convertible type.
func decodeKey(raw string, keyContentType, storage string) ([]byte, error) {
	mt, params := "text/plain", map[string]string{}
	if keyContentType != "" {
		var err error
		if mt, params, err = mime.ParseMediaType(keyContentType); err != nil {
			return nil, errorf(http.StatusBadRequest, "invalid Key-Content-Type %q: %v", keyContentType, err)
		}
	}
	key := []byte(raw)
	switch params["encoding"] {
	case "":
	case "hex":
		b, err := hex.DecodeString(raw)
		if err != nil {
			return nil, errorf(http.StatusBadRequest, "key %q is not hex: %v", raw, err)
		}
		key = b
	case "base64":
		b, err := decodeBase64(raw)
		if err != nil {
			return nil, errorf(http.StatusBadRequest, "key %q is not base64: %v", raw, err)
		}
		key = b
	default:
		return nil, errorf(http.StatusBadRequest, "unsupported key encoding %q", params["encoding"])
	}
	if mt == "application/x-java-object" {
		mt = encoding.TextPlain // String, Integer … keys are their text
	}
	if encoding.Identity(mt, storage) {
		return key, nil
	}
	out, err := encoding.Convert(nil, key, mt, storage)
	if err != nil {
		return nil, errorf(http.StatusUnsupportedMediaType, "%v", err)
	}
	return out, nil
}

func decodeBase64(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.URLEncoding, base64.StdEncoding, base64.RawURLEncoding, base64.RawStdEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, base64.CorruptInputError(0)
}

// etag is a decimal MurmurHash3 of the value, quoted.
func etag(v []byte) string { return `"` + strconv.Itoa(int(hash.Murmur3(v))) + `"` }

func etagMatch(header, tag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || t == tag || strings.Trim(t, `"`) == strings.Trim(tag, `"`) {
			return true
		}
	}
	return false
}

// expiryHeader reads timeToLiveSeconds or maxIdleTimeSeconds: absent or 0
// is the cache default, negative never, positive seconds.
func expiryHeader(r *http.Request, name string) (time.Duration, error) {
	v := r.Header.Get(name)
	if v == "" {
		return cache.ExpiryDefault, nil
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil {
		return 0, errorf(http.StatusBadRequest, "invalid %s %q", name, v)
	}
	switch {
	case n == 0:
		return cache.ExpiryDefault, nil
	case n < 0:
		return cache.ExpiryNever, nil
	}
	return time.Duration(n) * time.Second, nil
}

// entry serves /rest/v2/caches/{cache}/{key}.
func (h *handler) entry(w http.ResponseWriter, r *http.Request, name, rawKey string) error {
	c, err := h.cache(name)
	if err != nil {
		return err
	}
	cfg := c.Config()
	key, err := decodeKey(rawKey, r.Header.Get("Key-Content-Type"), cfg.KeyMediaType)
	if err != nil {
		return err
	}
	ctx := r.Context()
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		e, ok, err := c.Get(ctx, key)
		if err != nil {
			return err
		}
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			return nil
		}
		tag := etag(e.Value)
		modified := time.UnixMilli(e.Meta.Created).UTC().Truncate(time.Second)
		if inm := r.Header.Get("If-None-Match"); inm != "" && etagMatch(inm, tag) {
			w.WriteHeader(http.StatusNotModified)
			return nil
		}
		if im := r.Header.Get("If-Match"); im != "" && !etagMatch(im, tag) {
			w.WriteHeader(http.StatusPreconditionFailed)
			return nil
		}
		if ims := r.Header.Get("If-Modified-Since"); ims != "" {
			if t, err := http.ParseTime(ims); err == nil && !modified.After(t) {
				w.WriteHeader(http.StatusNotModified)
				return nil
			}
		}
		if ius := r.Header.Get("If-Unmodified-Since"); ius != "" {
			if t, err := http.ParseTime(ius); err == nil && modified.After(t) {
				w.WriteHeader(http.StatusPreconditionFailed)
				return nil
			}
		}
		body, ctype, err := renderValue(e.Value, cfg.ValueMediaType, r.Header.Get("Accept"))
		if err != nil {
			return err
		}
		hd := w.Header()
		hd.Set("Content-Type", ctype)
		hd.Set("ETag", tag)
		hd.Set("Last-Modified", modified.Format(http.TimeFormat))
		hd.Set("Cache-Control", "no-cache")
		hd.Set("created", strconv.FormatInt(e.Meta.Created, 10))
		hd.Set("lastUsed", strconv.FormatInt(e.Meta.LastUsed, 10))
		if e.Meta.Lifespan >= 0 {
			hd.Set("timeToLiveSeconds", strconv.FormatInt(e.Meta.Lifespan/1000, 10))
		}
		if e.Meta.MaxIdle >= 0 {
			hd.Set("maxIdleTimeSeconds", strconv.FormatInt(e.Meta.MaxIdle/1000, 10))
		}
		if at := e.Meta.ExpiresAt(); at >= 0 {
			hd.Set("Expires", time.UnixMilli(at).UTC().Format(http.TimeFormat))
		}
		hd.Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodGet {
			w.Write(body)
		}
		return nil
	case http.MethodPut, http.MethodPost:
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return errorf(http.StatusRequestEntityTooLarge, "request body: %v", err)
		}
		val, err := valueIn(body, r.Header.Get("Content-Type"), cfg.ValueMediaType)
		if err != nil {
			return err
		}
		var wr cache.Write
		if wr.Lifespan, err = expiryHeader(r, "timeToLiveSeconds"); err != nil {
			return err
		}
		if wr.MaxIdle, err = expiryHeader(r, "maxIdleTimeSeconds"); err != nil {
			return err
		}
		if r.Method == http.MethodPost {
			if _, exists, err := c.PutIfAbsent(ctx, key, val, wr); err != nil {
				return err
			} else if exists {
				return errorf(http.StatusConflict, "An entry already exists")
			}
		} else {
			inm, im := r.Header.Get("If-None-Match"), r.Header.Get("If-Match")
			if inm != "" || im != "" {
				cur, ok, err := c.Get(ctx, key)
				if err != nil {
					return err
				}
				if inm != "" && ok && etagMatch(inm, etag(cur.Value)) {
					w.WriteHeader(http.StatusNotModified)
					return nil
				}
				if im != "" && (!ok || !etagMatch(im, etag(cur.Value))) {
					w.WriteHeader(http.StatusPreconditionFailed)
					return nil
				}
			}
			if _, _, err := c.Put(ctx, key, val, wr); err != nil {
				return err
			}
		}
		w.Header().Set("ETag", etag(val))
		w.WriteHeader(http.StatusNoContent)
		return nil
	case http.MethodDelete:
		if inm := r.Header.Get("If-None-Match"); inm != "" {
			cur, ok, err := c.Get(ctx, key)
			if err != nil {
				return err
			}
			if ok && !etagMatch(inm, etag(cur.Value)) {
				w.WriteHeader(http.StatusPreconditionFailed)
				return nil
			}
		}
		_, ok, err := c.Remove(ctx, key, cache.Write{})
		if err != nil {
			return err
		}
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			return nil
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	return errorf(http.StatusMethodNotAllowed, "%s not allowed on an entry", r.Method)
}

// valueIn converts a request body in Content-Type to the storage type.
func valueIn(body []byte, contentType, storage string) ([]byte, error) {
	mt := ""
	if contentType != "" {
		var err error
		if mt, _, err = mime.ParseMediaType(contentType); err != nil {
			return nil, errorf(http.StatusBadRequest, "invalid Content-Type %q", contentType)
		}
	}
	if encoding.Identity(mt, storage) {
		return body, nil
	}
	out, err := encoding.Convert(nil, body, mt, storage)
	if err != nil {
		return nil, errorf(http.StatusUnsupportedMediaType, "%v", err)
	}
	return out, nil
}

// renderValue converts a stored value to the type Accept asks for; without
// Accept it goes in the storage type (octet-stream when the cache has none).
func renderValue(v []byte, storage, accept string) ([]byte, string, error) {
	st := encoding.Base(storage)
	if st == "" || st == encoding.Unknown {
		st = encoding.OctetStream
	}
	if accept == "" || strings.Contains(accept, "*/*") {
		return v, contentType(st), nil
	}
	var firstErr error
	for _, a := range strings.Split(accept, ",") {
		want := encoding.Base(a)
		if want == "" {
			continue
		}
		if want == st || encoding.Identity(storage, want) {
			return v, contentType(want), nil
		}
		out, err := encoding.Convert(nil, v, storage, want)
		if err == nil {
			return out, contentType(want), nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return nil, "", errorf(http.StatusNotAcceptable, "cannot return the value as %s: %v", accept, firstErr)
}

func contentType(mt string) string {
	if strings.HasPrefix(mt, "text/") {
		return mt + "; charset=UTF-8"
	}
	return mt
}

package httpauth

import (
	"encoding/base64"
	"strings"

	"github.com/hotgrid/hotgrid/security/realm"
)

// maxBasicLen bounds the encoded credentials so that a huge header costs
// no large decode.
const maxBasicLen = 4096

// basic checks RFC 7617 credentials: base64("user:password"), the user
// ending at the first ':' so the password may hold more.
func (a *Authenticator) basic(params string) (realm.Identity, Result) {
	params = strings.TrimSpace(params)
	if params == "" || len(params) > maxBasicLen {
		return realm.Identity{}, Failed
	}
	raw, err := base64.StdEncoding.DecodeString(params)
	if err != nil {
		return realm.Identity{}, Failed
	}
	user, password, ok := strings.Cut(string(raw), ":")
	if !ok || user == "" {
		return realm.Identity{}, Failed
	}
	id, ok := a.creds.Verify(user, password)
	if !ok {
		return realm.Identity{}, Failed
	}
	return id, OK
}

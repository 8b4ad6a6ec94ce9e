package sqlstore

import (
	"encoding/base64"
	"fmt"
	"strings"
)

// A key in a text id column is written as Infinispan's
// DefaultTwoWayKey2StringMapper writes a byte-array key (WrappedByteArray,
// which is how Infinispan's server holds Hot Rod keys): U+FEFF, '8' and
// the key's standard base64. Reading also accepts '9' (a native byte[]
// key). Any other id (Infinispan's mapper stores a String key as itself)
// is refused: hotgrid never writes one, and taking it for a key would let
// the same key live in two rows.
const (
	nonStringPrefix  = "\uFEFF"
	wrappedBytesID   = nonStringPrefix + "8"
	nativeBytesID    = nonStringPrefix + "9"
	encodedIDPrefixN = len(wrappedBytesID)
)

// encodeTextID is the text id column's value for key.
func encodeTextID(key []byte) string {
	b := make([]byte, encodedIDPrefixN+base64.StdEncoding.EncodedLen(len(key)))
	copy(b, wrappedBytesID)
	base64.StdEncoding.Encode(b[encodedIDPrefixN:], key)
	return string(b)
}

// decodeTextID is the key a text id column's value holds.
func decodeTextID(id string) ([]byte, error) {
	if rest, ok := strings.CutPrefix(id, wrappedBytesID); ok {
		return base64.StdEncoding.DecodeString(rest)
	}
	if rest, ok := strings.CutPrefix(id, nativeBytesID); ok {
		return base64.StdEncoding.DecodeString(rest)
	}
	return nil, fmt.Errorf("id %q is not a byte-array key (U+FEFF 8 or 9 and base64)", id)
}

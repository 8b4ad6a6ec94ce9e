package wire

// MediaType is a media type as carried in a Hot Rod header (2.8+): either
// none, a predefined id, or a custom name, with optional parameters.
// Name is always filled in when the type is known; params alias the input.
type MediaType struct {
	Name   string
	Params []MediaParam
}

// MediaParam is one media type parameter.
type MediaParam struct{ Key, Value string }

// Predefined media type ids (MediaTypeIds).
var mediaTypeByID = [...]string{
	1:  "application/x-java-object",
	2:  "application/json",
	3:  "application/octet-stream",
	4:  "application/pdf",
	5:  "application/rtf",
	6:  "application/zip",
	7:  "image/gif",
	8:  "image/jpeg",
	9:  "image/png",
	10: "text/css",
	11: "text/csv",
	12: "application/x-protostream",
	13: "text/plain",
	14: "text/html",
	15: "application/x-jboss-marshalling",
	16: "application/x-infinispan-marshalling",
	17: "application/unknown",
}

// MediaTypeID returns the predefined id of a media type name, or 0.
func MediaTypeID(name string) int {
	for i, n := range mediaTypeByID {
		if n != "" && n == name {
			return i
		}
	}
	return 0
}

// MediaTypeName returns the name of a predefined id, or "".
func MediaTypeName(id int) string {
	if id <= 0 || id >= len(mediaTypeByID) {
		return ""
	}
	return mediaTypeByID[id]
}

// MediaType decodes a media type. Custom names and parameters are copied into
// strings (they are rare: both reference clients send predefined ids).
func (d *Decoder) MediaType() (MediaType, error) {
	var mt MediaType
	kind, err := d.Byte()
	if err != nil {
		return mt, err
	}
	switch kind {
	case 0:
		return mt, nil
	case 1:
		id, err := d.VInt()
		if err != nil {
			return mt, err
		}
		mt.Name = MediaTypeName(int(id))
		if mt.Name == "" {
			return mt, &ErrMalformed{"media type id"}
		}
	case 2:
		name, err := d.Bytes("media type")
		if err != nil {
			return mt, err
		}
		mt.Name = string(name)
	default:
		return mt, &ErrMalformed{"media type kind"}
	}
	n, err := d.VInt()
	if err != nil {
		return mt, err
	}
	if n < 0 || n > 64 {
		return mt, &ErrMalformed{"media type parameter count"}
	}
	for i := int32(0); i < n; i++ {
		k, err := d.Bytes("media type parameter")
		if err != nil {
			return mt, err
		}
		v, err := d.Bytes("media type parameter")
		if err != nil {
			return mt, err
		}
		mt.Params = append(mt.Params, MediaParam{string(k), string(v)})
	}
	return mt, nil
}

// AppendMediaType encodes a media type: a predefined id when there is one,
// otherwise a custom name; type 0 for the empty name. Parameters are written
// as given.
func AppendMediaType(b []byte, mt MediaType) []byte {
	if mt.Name == "" {
		return append(b, 0)
	}
	if id := MediaTypeID(mt.Name); id > 0 {
		b = append(b, 1)
		b = AppendVInt(b, int32(id))
	} else {
		b = append(b, 2)
		b = AppendString(b, mt.Name)
	}
	b = AppendVInt(b, int32(len(mt.Params)))
	for _, p := range mt.Params {
		b = AppendString(b, p.Key)
		b = AppendString(b, p.Value)
	}
	return b
}

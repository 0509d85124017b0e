package audit

import "encoding/binary"

// confluentHeader is the size of the Confluent Schema Registry wire
// format's header: magic byte 0, then the schema id as a 4-byte big-endian
// integer.
const confluentHeader = 5

// confluentFrame reports whether a value is JSON framed the way the
// Confluent JSON Schema serializer writes it (magic byte 0, a 4-byte
// big-endian schema id, then the JSON document), and returns the schema
// id. An unframed JSON value costs one byte comparison.
func confluentFrame(v []byte) (int32, bool) {
	if len(v) <= confluentHeader || v[0] != 0 {
		return 0, false
	}
	if i := skipWSAt(v, confluentHeader); i == len(v) || (v[i] != '{' && v[i] != '[') {
		return 0, false
	}
	return int32(binary.BigEndian.Uint32(v[1:confluentHeader])), true
}

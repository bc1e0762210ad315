package resume

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// Client→server frame types of protocol v1.
const (
	typeRestored = "restored"
	typeAction   = "action"
	typePong     = "pong"
)

// maxIDLen bounds action ids and names, which the server echoes back.
const maxIDLen = 256

// clientFrame is a validated client→server frame.
type clientFrame struct {
	// Type is one of typeRestored, typeAction or typePong.
	Type string
	// Key is the restored frame's key.
	Key string
	// Token is the restored frame's blob; HasToken is false for null.
	Token    string
	HasToken bool
	// ID and Name identify an action; Data is its payload (JSON null when
	// absent).
	ID, Name string
	Data     json.RawMessage
}

var jsonNull = json.RawMessage("null")

// decodeFrame parses and strictly validates one client frame of at most
// maxSize bytes. Every failure is a *protocolError with the code the server
// answers with. Unknown fields are ignored so that later minor versions can
// add optional ones.
func decodeFrame(b []byte, maxSize int) (clientFrame, error) {
	var f clientFrame
	if len(b) > maxSize {
		return f, protoErr(codeTooLarge, "frame of %d bytes exceeds %d", len(b), maxSize)
	}
	if !utf8.Valid(b) {
		return f, protoErr(codeBadFrame, "frame is not valid UTF-8")
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil || fields == nil {
		return f, protoErr(codeBadFrame, "frame is not a JSON object")
	}
	t, err := stringField(fields, "t")
	if err != nil {
		return f, err
	}
	f.Type = t
	switch t {
	case typeRestored:
		return decodeRestored(f, fields)
	case typeAction:
		return decodeAction(f, fields)
	case typePong:
		return f, nil
	default:
		return f, protoErr(codeBadFrame, "unknown frame type %q", truncate(t))
	}
}

func decodeRestored(f clientFrame, fields map[string]json.RawMessage) (clientFrame, error) {
	v, ok := fields["v"]
	if !ok {
		return f, protoErr(codeBadFrame, "restored: missing field \"v\"")
	}
	var n json.Number
	if len(v) == 0 || !(v[0] == '-' || (v[0] >= '0' && v[0] <= '9')) || json.Unmarshal(v, &n) != nil {
		return f, protoErr(codeBadFrame, "restored: field \"v\" is not a number")
	}
	if n.String() != "1" {
		return f, protoErr(codeUnsupportedVersion, "restored: version %s is not supported, want %d", truncate(n.String()), Version)
	}
	key, err := stringField(fields, "key")
	if err != nil {
		return f, err
	}
	f.Key = key
	// data may be a string, null, or absent (JSON.stringify drops undefined).
	if d, ok := fields["data"]; ok && !isNull(d) {
		if d[0] != '"' {
			return f, protoErr(codeBadFrame, "restored: field \"data\" is neither a string nor null")
		}
		if err := json.Unmarshal(d, &f.Token); err != nil {
			return f, protoErr(codeBadFrame, "restored: field \"data\" is not a valid string")
		}
		f.HasToken = true
	}
	return f, nil
}

func decodeAction(f clientFrame, fields map[string]json.RawMessage) (clientFrame, error) {
	id, err := stringField(fields, "id")
	if err != nil {
		return f, err
	}
	name, err := stringField(fields, "name")
	if err != nil {
		return f, err
	}
	f.ID, f.Name = id, name
	f.Data = jsonNull
	if d, ok := fields["data"]; ok {
		f.Data = d
	}
	return f, nil
}

// stringField returns the required field fields[name], a non-empty JSON
// string of at most maxIDLen bytes.
func stringField(fields map[string]json.RawMessage, name string) (string, error) {
	raw, ok := fields[name]
	if !ok {
		return "", protoErr(codeBadFrame, "missing field %q", name)
	}
	if len(raw) == 0 || raw[0] != '"' {
		return "", protoErr(codeBadFrame, "field %q is not a string", name)
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", protoErr(codeBadFrame, "field %q is not a valid string", name)
	}
	if s == "" {
		return "", protoErr(codeBadFrame, "field %q is empty", name)
	}
	if len(s) > maxIDLen {
		return "", protoErr(codeBadFrame, "field %q is longer than %d bytes", name, maxIDLen)
	}
	return s, nil
}

func isNull(raw json.RawMessage) bool {
	return bytes.Equal(raw, jsonNull)
}

// truncate keeps client-supplied text in error messages short.
func truncate(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	for i := max; i > 0; i-- {
		if utf8.RuneStart(s[i]) {
			return s[:i] + "…"
		}
	}
	return ""
}

package resume

import (
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// maxFieldDepth bounds the search for the field at fault, so that a cyclic
// state (which encoding/json refuses) cannot send it round forever.
const maxFieldDepth = 32

// stateError explains why the state s does not encode as JSON: it names
// the state's Go type and the field at fault, as a Go selector path such
// as Steps[2].At (map keys show as […]: they may be data). encoding/json
// names neither, so the field is found by encoding the parts of s one by
// one; this runs only once encoding has failed.
func stateError[S any](s S, err error) error {
	v := reflect.ValueOf(&s).Elem()
	path, t := faultyPart(v, 0)
	if path == "" {
		return fmt.Errorf("resume: encode state %v: %w", v.Type(), err)
	}
	return fmt.Errorf("resume: encode state %v: field %s (%v): %w", v.Type(), strings.TrimPrefix(path, "."), t, err)
}

// faultyPart returns the path below v to the deepest part that fails to
// encode on its own, and that part's type; "" when no part of v fails
// alone (v itself is at fault, or it encodes itself).
func faultyPart(v reflect.Value, depth int) (string, reflect.Type) {
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return "", nil
		}
		v = v.Elem()
	}
	if depth >= maxFieldDepth || encodesItself(v.Type()) {
		return "", nil
	}
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			if f := v.Type().Field(i); f.IsExported() && f.Tag.Get("json") != "-" {
				if p, t, ok := failing(v.Field(i), depth); ok {
					return "." + f.Name + p, t
				}
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			if p, t, ok := failing(v.Index(i), depth); ok {
				return "[" + strconv.Itoa(i) + "]" + p, t
			}
		}
	case reflect.Map:
		for _, e := range v.Seq2() {
			if p, t, ok := failing(e, depth); ok {
				return "[…]" + p, t
			}
		}
	}
	return "", nil
}

// failing reports whether v fails to encode on its own and, if so, the
// path to the part at fault below it and that part's type.
func failing(v reflect.Value, depth int) (string, reflect.Type, bool) {
	if _, err := json.Marshal(v.Interface()); err == nil {
		return "", nil, false
	}
	p, t := faultyPart(v, depth+1)
	if p == "" {
		for v.Kind() == reflect.Interface { // not nil: nil encodes
			v = v.Elem()
		}
		t = v.Type()
	}
	return p, t, true
}

// encodesItself reports whether values of t choose their own JSON, like
// time.Time: the fault is then t's, not one of its fields'.
func encodesItself(t reflect.Type) bool {
	for _, t := range []reflect.Type{t, reflect.PointerTo(t)} {
		if t.Implements(reflect.TypeFor[json.Marshaler]()) || t.Implements(reflect.TypeFor[encoding.TextMarshaler]()) {
			return true
		}
	}
	return false
}

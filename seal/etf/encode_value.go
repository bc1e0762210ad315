package etf

import (
	"cmp"
	"math/big"
	"reflect"
	"slices"
	"time"
)

var (
	atomType      = reflect.TypeFor[Atom]()
	tupleType     = reflect.TypeFor[Tuple]()
	rawTermType   = reflect.TypeFor[RawTerm]()
	mapPairsType  = reflect.TypeFor[Map]()
	bitstringType = reflect.TypeFor[Bitstring]()
	improperType  = reflect.TypeFor[ImproperList]()
	bigIntPtrType = reflect.TypeFor[*big.Int]()
	bigIntType    = reflect.TypeFor[big.Int]()
)

func reflectValueOf(v any) reflect.Value { return reflect.ValueOf(v) }

// isSpecial reports whether t is one of this package's term types (or
// big.Int), which encode through the type switch in encode.
func isSpecial(t reflect.Type) bool {
	switch t {
	case atomType, tupleType, rawTermType, mapPairsType, bitstringType, improperType, bigIntPtrType, bigIntType, timeType:
		return true
	}
	return false
}

// value encodes a reflected value.
func (e *encoder) value(v reflect.Value) error {
	if !v.IsValid() {
		e.buf = appendAtom(e.buf, "nil")
		return nil
	}
	t := v.Type()
	switch v.Kind() {
	case reflect.Bool:
		e.buf = appendBool(e.buf, v.Bool())
		return nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		e.buf = appendInt(e.buf, v.Int())
		return nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		e.buf = appendUint(e.buf, v.Uint())
		return nil
	case reflect.Float32, reflect.Float64:
		return e.float(v.Float())
	case reflect.String:
		if t == atomType {
			return e.atom(v.String())
		}
		e.buf = appendBinary(e.buf, v.String())
		return nil
	case reflect.Interface:
		if v.IsNil() {
			e.buf = appendAtom(e.buf, "nil")
			return nil
		}
		return e.encode(v.Interface())
	case reflect.Pointer:
		if v.IsNil() {
			e.buf = appendAtom(e.buf, "nil")
			return nil
		}
		if t == bigIntPtrType {
			e.buf = appendBig(e.buf, v.Interface().(*big.Int))
			return nil
		}
		if err := e.enter(); err != nil {
			return err
		}
		err := e.value(v.Elem())
		e.leave()
		return err
	}
	if isSpecial(t) {
		if t == bigIntType && v.CanAddr() {
			e.buf = appendBig(e.buf, v.Addr().Interface().(*big.Int))
			return nil
		}
		if t == timeType && v.CanAddr() { // no copy of the time into an interface
			return e.time(*v.Addr().Interface().(*time.Time))
		}
		return e.encode(v.Interface())
	}
	switch v.Kind() {
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			e.buf = appendBinary(e.buf, v.Bytes())
			return nil
		}
		return e.seq(v)
	case reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return e.byteArray(v)
		}
		return e.seq(v)
	case reflect.Map:
		return e.mapValue(v)
	case reflect.Struct:
		return e.structValue(v)
	}
	return errorf(ErrUnsupported, "Go type %v has no Erlang form", t)
}

func (e *encoder) byteArray(v reflect.Value) error {
	if v.CanAddr() {
		e.buf = appendBinary(e.buf, v.Bytes())
		return nil
	}
	b := make([]byte, v.Len())
	reflect.Copy(reflect.ValueOf(b), v)
	e.buf = appendBinary(e.buf, b)
	return nil
}

// seq encodes a slice or array as a list.
func (e *encoder) seq(v reflect.Value) error {
	n := v.Len()
	if n == 0 {
		e.buf = append(e.buf, tagNil)
		return nil
	}
	if err := e.enter(); err != nil {
		return err
	}
	start := e.listHeader(n)
	allSmall := true
	for i := range n {
		p := len(e.buf)
		if err := e.value(v.Index(i)); err != nil {
			return err
		}
		allSmall = allSmall && e.isSmallAt(p)
	}
	e.leave()
	e.finishList(start, n, allSmall)
	return nil
}

func (e *encoder) mapValue(v reflect.Value) error {
	if err := e.enter(); err != nil {
		return err
	}
	defer e.leave()
	kt := v.Type().Key()
	if kt.Kind() == reflect.String {
		// Binaries sort bytewise and atoms by their UTF-8 text: both are
		// Go string order.
		keys := v.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return cmp.Compare(a.String(), b.String()) })
		e.mapHeader(len(keys))
		for _, k := range keys {
			if err := e.value(k); err != nil {
				return err
			}
			if err := e.value(v.MapIndex(k)); err != nil {
				return err
			}
		}
		return nil
	}
	s := e.beginPairs(v.Len())
	for it := v.MapRange(); it.Next(); {
		if err := s.pairValue(e, it.Key(), it.Value()); err != nil {
			return err
		}
	}
	return s.sort(e)
}

// structValue encodes a struct as a map with atom keys in term order.
func (e *encoder) structValue(v reflect.Value) error {
	info := structInfoFor(v.Type())
	if info.err != nil {
		return info.err
	}
	n := 0
	for i := range info.fields {
		f := &info.fields[i]
		if !f.omitEmpty || !isEmptyValue(fieldOf(v, f.index)) {
			n++
		}
	}
	if err := e.enter(); err != nil {
		return err
	}
	e.mapHeader(n)
	for i := range info.fields {
		f := &info.fields[i]
		fv := fieldOf(v, f.index)
		if f.omitEmpty && isEmptyValue(fv) {
			continue
		}
		e.buf = append(e.buf, f.key...)
		if err := e.value(fv); err != nil {
			return err
		}
	}
	e.leave()
	return nil
}

func fieldOf(v reflect.Value, index []int) reflect.Value {
	if len(index) == 1 {
		return v.Field(index[0])
	}
	return v.FieldByIndex(index)
}

// isEmptyValue is encoding/json's omitempty test.
func isEmptyValue(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool:
		return !v.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int() == 0
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return v.Uint() == 0
	case reflect.Float32, reflect.Float64:
		return v.Float() == 0
	case reflect.Interface, reflect.Pointer:
		return v.IsNil()
	}
	return false
}

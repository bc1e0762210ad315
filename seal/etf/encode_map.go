package etf

import (
	"encoding/binary"
	"reflect"
	"slices"
)

// mapHeader writes MAP_EXT with n pairs.
func (e *encoder) mapHeader(n int) {
	e.buf = append(e.buf, tagMap)
	e.buf = binary.BigEndian.AppendUint32(e.buf, uint32(n))
}

func (e *encoder) stringMap(m map[string]any) error {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys) // binaries sort bytewise, as Go strings do
	if err := e.enter(); err != nil {
		return err
	}
	e.mapHeader(len(m))
	for _, k := range keys {
		e.buf = appendBinary(e.buf, k)
		if err := e.encode(m[k]); err != nil {
			return err
		}
	}
	e.leave()
	return nil
}

func (e *encoder) atomMap(m map[Atom]any) error {
	keys := make([]Atom, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys) // atoms sort by their UTF-8 text
	if err := e.enter(); err != nil {
		return err
	}
	e.mapHeader(len(m))
	for _, k := range keys {
		if err := e.atom(string(k)); err != nil {
			return err
		}
		if err := e.encode(m[k]); err != nil {
			return err
		}
	}
	e.leave()
	return nil
}

func (e *encoder) anyMap(m map[any]any) error {
	if err := e.enter(); err != nil {
		return err
	}
	s := e.beginPairs(len(m))
	for k, v := range m {
		if err := s.pair(e, k, v); err != nil {
			return err
		}
	}
	e.leave()
	return s.sort(e)
}

func (e *encoder) pairs(m Map) error {
	if err := e.enter(); err != nil {
		return err
	}
	s := e.beginPairs(len(m))
	for _, p := range m {
		if err := s.pair(e, p.Key, p.Value); err != nil {
			return err
		}
	}
	e.leave()
	return s.sort(e)
}

// pairSorter records where each encoded pair lies so that the pairs can be
// put into term order afterwards.
type pairSorter struct {
	body  int
	spans []pairSpan
}

type pairSpan struct{ key, val, end int }

func (e *encoder) beginPairs(n int) *pairSorter {
	e.mapHeader(n)
	return &pairSorter{body: len(e.buf), spans: make([]pairSpan, 0, n)}
}

func (s *pairSorter) pair(e *encoder, k, v any) error {
	sp := pairSpan{key: len(e.buf)}
	if err := e.encode(k); err != nil {
		return err
	}
	sp.val = len(e.buf)
	if err := e.encode(v); err != nil {
		return err
	}
	sp.end = len(e.buf)
	s.spans = append(s.spans, sp)
	return nil
}

func (s *pairSorter) pairValue(e *encoder, k, v reflect.Value) error {
	sp := pairSpan{key: len(e.buf)}
	if err := e.value(k); err != nil {
		return err
	}
	sp.val = len(e.buf)
	if err := e.value(v); err != nil {
		return err
	}
	sp.end = len(e.buf)
	s.spans = append(s.spans, sp)
	return nil
}

// sort rewrites the pairs in Erlang term order of their keys and rejects
// keys that are equal as Erlang terms (binary_to_term would reject them).
func (s *pairSorter) sort(e *encoder) error {
	b := e.buf
	key := func(sp pairSpan) []byte { return b[sp.key:sp.val] }
	cmp := func(x, y pairSpan) int { return compareEncoded(key(x), key(y)) }
	if !slices.IsSortedFunc(s.spans, cmp) {
		slices.SortFunc(s.spans, cmp)
		tmp := make([]byte, 0, len(b)-s.body)
		for _, sp := range s.spans {
			tmp = append(tmp, b[sp.key:sp.end]...)
		}
		copy(b[s.body:], tmp)
		off := s.body
		for i, sp := range s.spans {
			kl, l := sp.val-sp.key, sp.end-sp.key
			s.spans[i] = pairSpan{key: off, val: off + kl, end: off + l}
			off += l
		}
	}
	for i := 1; i < len(s.spans); i++ {
		if cmp(s.spans[i-1], s.spans[i]) == 0 {
			return errorf(ErrType, "two map keys encode to the same Erlang term")
		}
	}
	return nil
}

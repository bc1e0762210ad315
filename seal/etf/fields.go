package etf

import (
	"reflect"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// field is one encodable struct field.
type field struct {
	name      string
	index     []int
	key       []byte // the name encoded as an atom
	omitEmpty bool
}

// structInfo is the cached metadata of a struct type.
type structInfo struct {
	fields []field        // in Erlang term order of their names
	byName map[string]int // name -> index into fields
	err    error          // a field name that cannot be an atom
}

// structCache maps reflect.Type to *structInfo; it grows with the number of
// struct types used, which a program fixes at compile time.
var structCache sync.Map

func structInfoFor(t reflect.Type) *structInfo {
	if v, ok := structCache.Load(t); ok {
		return v.(*structInfo)
	}
	info := buildStructInfo(t)
	v, _ := structCache.LoadOrStore(t, info)
	return v.(*structInfo)
}

func buildStructInfo(t reflect.Type) *structInfo {
	type candidate struct {
		field
		depth  int
		tagged bool
	}
	var all []candidate
	var invalid error
	var walk func(t reflect.Type, index []int, depth int)
	walk = func(t reflect.Type, index []int, depth int) {
		if depth > 16 {
			return
		}
		for i := range t.NumField() {
			sf := t.Field(i)
			tag, hasTag := sf.Tag.Lookup("etf")
			if tag == "-" {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			idx := append(slices.Clone(index), i)
			if sf.Anonymous && name == "" && sf.Type.Kind() == reflect.Struct && !ownTerm(sf.Type) {
				walk(sf.Type, idx, depth+1)
				continue
			}
			if !sf.IsExported() {
				continue
			}
			if name == "" {
				name = SnakeCase(sf.Name)
			}
			if err := validAtom(name); err != nil && invalid == nil {
				invalid = errorf(err, "field %s of %v: name %q cannot be an atom", sf.Name, t, truncateForError(name))
			}
			all = append(all, candidate{
				field: field{
					name:      name,
					index:     idx,
					key:       appendAtom(nil, name),
					omitEmpty: slices.Contains(strings.Split(opts, ","), "omitempty"),
				},
				depth:  depth,
				tagged: hasTag && name != "",
			})
		}
	}
	walk(t, nil, 0)

	// Go's embedding rule: the shallowest field wins; at equal depth a
	// tagged field wins; otherwise the ambiguous name is dropped.
	byName := map[string][]candidate{}
	for _, c := range all {
		byName[c.name] = append(byName[c.name], c)
	}
	info := &structInfo{byName: map[string]int{}, err: invalid}
	defer func() {
		// A struct made only of unexported fields (time.Time, sync.Mutex)
		// would silently become #{}: refuse it instead.
		if len(info.fields) == 0 && t.NumField() > 0 && info.err == nil {
			info.err = errorf(ErrUnsupported, "Go %v has no exported fields; convert it to a supported type", t)
		}
	}()
	for _, c := range all {
		group := byName[c.name]
		if group == nil {
			continue
		}
		delete(byName, c.name)
		slices.SortStableFunc(group, func(a, b candidate) int {
			if a.depth != b.depth {
				return a.depth - b.depth
			}
			return b2i(b.tagged) - b2i(a.tagged)
		})
		if len(group) > 1 && group[0].depth == group[1].depth && group[0].tagged == group[1].tagged {
			continue
		}
		info.fields = append(info.fields, group[0].field)
	}
	slices.SortFunc(info.fields, func(a, b field) int { return strings.Compare(a.name, b.name) })
	for i, f := range info.fields {
		info.byName[f.name] = i
	}
	return info
}

// ownTerm reports a struct type that encodes as one term of its own rather
// than as a map of its fields (time.Time, big.Int): embedded, it is an
// ordinary field named after its type, since it has no exported fields
// to promote and would otherwise vanish.
func ownTerm(t reflect.Type) bool { return t == timeType || t == bigIntType }

// SnakeCase converts a Go field name to the atom used for it when a struct
// is encoded without an etf tag: words are lower-cased and joined with
// underscores, and a run of capitals is one word (LaunchID → launch_id,
// URL → url, HTTPServer → http_server, MachineID → machine_id).
func SnakeCase(name string) string {
	var b strings.Builder
	runes := []rune(name)
	for i, r := range runes {
		if unicode.IsUpper(r) && i > 0 {
			prev := runes[i-1]
			nextLower := i+1 < len(runes) && unicode.IsLower(runes[i+1])
			if unicode.IsLower(prev) || unicode.IsDigit(prev) || (unicode.IsUpper(prev) && nextLower) {
				b.WriteByte('_')
			}
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// appendAtom appends an atom as term_to_binary writes it (UTF-8 tags).
func appendAtom(dst []byte, name string) []byte {
	if len(name) <= 255 {
		dst = append(dst, tagSmallAtomUTF8, byte(len(name)))
	} else {
		dst = append(dst, tagAtomUTF8, byte(len(name)>>8), byte(len(name)))
	}
	return append(dst, name...)
}

// validAtom reports why name cannot be an atom, or nil.
func validAtom(name string) error {
	if !utf8.ValidString(name) {
		return ErrType
	}
	if len(name) > maxAtomChars && utf8.RuneCountInString(name) > maxAtomChars {
		return ErrLimit
	}
	return nil
}

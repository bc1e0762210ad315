package etf_test

import (
	"encoding/hex"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sealkit/sealkit/seal/etf"
)

// inMap wraps an encoded term (with version byte) as the value of the
// atom key "at": the bytes of %{at: term}.
func inMap(term []byte) []byte {
	return append([]byte{131, 116, 0, 0, 0, 1, 119, 2, 'a', 't'}, term[1:]...)
}

// TestElixirCalendarTermsDecode decodes Erlang-made DateTime,
// NaiveDateTime and Date structs, as OTP 25 and OTP 26 write them, into
// time.Time, *time.Time and a struct field: each is the instant Erlang's
// calendar module computed, with the struct's offset and zone
// abbreviation (UTC for naive datetimes and dates).
func TestElixirCalendarTermsDecode(t *testing.T) {
	n := 0
	for name, term := range elixirTerms(t) {
		if !strings.HasPrefix(name, "calendar/") {
			continue
		}
		n++
		t.Run(name, func(t *testing.T) {
			require.NotNil(t, term.UnixUs)
			check := func(got time.Time) {
				t.Helper()
				assert.Equal(t, *term.UnixUs, got.UnixMicro(), "%s: %v", term.Elixir, got)
				assert.Equal(t, *term.UnixUs%1_000_000, got.UnixMicro()%1_000_000)
				zone, offset := got.Zone()
				assert.Equal(t, term.OffsetS, offset)
				assert.Equal(t, term.ZoneAbbr, zone)
				if term.OffsetS == 0 && term.ZoneAbbr == "UTC" {
					assert.Same(t, time.UTC, got.Location())
				}
			}
			var got time.Time
			require.NoError(t, etf.Unmarshal(term.bytes, &got))
			check(got)

			var p *time.Time
			require.NoError(t, etf.Unmarshal(term.bytes, &p))
			require.NotNil(t, p)
			check(*p)

			var s struct{ At time.Time }
			require.NoError(t, etf.Unmarshal(inMap(term.bytes), &s))
			check(s.At)

			// Into any, the struct stays the map it is, losslessly.
			var v any
			require.NoError(t, etf.Unmarshal(term.bytes, &v))
			require.IsType(t, map[any]any{}, v)
			if strings.HasSuffix(name, "/v2") {
				assert.Equal(t, term.ETFHex, hex.EncodeToString(mustMarshal(t, v)))
			}
		})
	}
	require.Equal(t, 38, n)
}

// TestTimeMarshalsAsElixirUTCDateTime compares Marshal's bytes for a
// time.Time with the bytes Erlang wrote for the DateTime Elixir builds for
// the same instant in UTC with precision 6 (minor_version 2, as OTP 26
// writes atoms; keys in term order, as OTP 25 orders them). A time in
// another zone, or decoded from a non-UTC DateTime, is written in UTC.
func TestTimeMarshalsAsElixirUTCDateTime(t *testing.T) {
	terms := elixirTerms(t)
	tests := []struct {
		utc  string // the Erlang-made term Marshal must reproduce
		from string // an Erlang-made term for the same instant, decoded first
		time time.Time
	}{
		{"calendar/utc-now/v2", "calendar/paris-cet/v1", time.Date(2025, 11, 26, 16, 0, 0, 123456789, time.UTC)},
		{"calendar/utc-now/v2", "calendar/new-york-est/v2", time.Date(2025, 11, 26, 11, 0, 0, 123456000, time.FixedZone("EST", -5*3600))},
		{"calendar/utc-now/v2", "calendar/kolkata-ist/v1", time.UnixMicro(1764172800123456)},
		{"calendar/utc-precision-6-zero/v2", "calendar/utc-precision-0/v1", time.Date(2025, 11, 26, 16, 0, 0, 0, time.UTC)},
		{"calendar/utc-precision-6-zero/v2", "calendar/naive-precision-0/v1", time.Date(2025, 11, 26, 17, 0, 0, 999, time.FixedZone("CET", 3600))},
		{"calendar/utc-one-us-before-1970/v2", "calendar/utc-one-us-before-1970/v1", time.Unix(-1, 999_999_999)},
		{"calendar/utc-year-9999/v2", "calendar/utc-year-9999/v1", time.Date(9999, 12, 31, 23, 59, 59, 999_999_999, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.utc+"/"+tt.from, func(t *testing.T) {
			want := terms[tt.utc].ETFHex
			require.NotEmpty(t, want)
			assert.Equal(t, want, hex.EncodeToString(mustMarshal(t, tt.time)))
			var decoded time.Time
			require.NoError(t, etf.Unmarshal(terms[tt.from].bytes, &decoded))
			assert.Equal(t, want, hex.EncodeToString(mustMarshal(t, decoded)))
		})
	}
}

// TestTimeRoundTripKeepsMicroseconds encodes times across Calendar.ISO's
// years and decodes them again: the instant comes back to the
// microsecond, in UTC.
func TestTimeRoundTripKeepsMicroseconds(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 10))
	lo := time.Date(-9999, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	hi := time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC).Unix()
	times := []time.Time{
		{}, // year 1
		time.Date(-9999, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(0, 2, 29, 12, 0, 0, 1000, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(2024, 2, 29, 23, 59, 59, 999999, time.FixedZone("", 13*3600)),
		time.Now(),
	}
	for range 1000 {
		// Random seconds across the years, random nanoseconds.
		times = append(times, time.Unix(lo+rng.Int64N(hi-lo+1), rng.Int64N(1e9)))
	}
	for _, in := range times {
		b := mustMarshal(t, in)
		var out time.Time
		require.NoError(t, etf.Unmarshal(b, &out), "%v", in)
		u := in.UTC()
		want := time.Date(u.Year(), u.Month(), u.Day(), u.Hour(), u.Minute(), u.Second(), u.Nanosecond()/1000*1000, time.UTC)
		require.Equal(t, want, out, "%v", in)
		require.Equal(t, in.UnixMicro(), out.UnixMicro())
	}
}

// TestTimeFieldsRoundTrip encodes time.Time inside structs, pointers,
// slices and maps.
func TestTimeFieldsRoundTrip(t *testing.T) {
	type event struct {
		At       time.Time
		Deadline *time.Time
		None     *time.Time
		Log      []time.Time
		ByName   map[string]time.Time
	}
	at := time.Date(2025, 11, 26, 16, 0, 0, 123456000, time.UTC)
	later := at.Add(time.Hour)
	in := event{At: at, Deadline: &later, Log: []time.Time{at, later}, ByName: map[string]time.Time{"x": at}}
	var out event
	require.NoError(t, etf.Unmarshal(mustMarshal(t, in), &out))
	assert.Equal(t, in, out)
}

// TestCalendarMapsRejected decodes maps that are not DateTime,
// NaiveDateTime or Date structs Calendar.ISO accepts.
func TestCalendarMapsRejected(t *testing.T) {
	base := func() map[etf.Atom]any {
		return map[etf.Atom]any{
			"__struct__": etf.Atom("Elixir.DateTime"), "calendar": etf.Atom("Elixir.Calendar.ISO"),
			"year": 2025, "month": 11, "day": 26, "hour": 16, "minute": 0, "second": 0,
			"microsecond": etf.Tuple{0, 6}, "time_zone": "Etc/UTC", "zone_abbr": "UTC", "utc_offset": 0, "std_offset": 0,
		}
	}
	with := func(k etf.Atom, v any) map[etf.Atom]any {
		m := base()
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	var ok time.Time
	require.NoError(t, etf.Unmarshal(mustMarshal(t, base()), &ok))
	require.Equal(t, time.Date(2025, 11, 26, 16, 0, 0, 0, time.UTC), ok)
	tests := []struct {
		name string
		in   any
		want error
	}{
		{"other calendar", with("calendar", etf.Atom("Elixir.Calendar.Holocene")), etf.ErrUnsupported},
		{"Time struct", with("__struct__", etf.Atom("Elixir.Time")), etf.ErrType},
		{"no __struct__", with("__struct__", nil), etf.ErrType},
		{"no calendar", with("calendar", nil), etf.ErrType},
		{"no zone_abbr", with("zone_abbr", nil), etf.ErrType},
		{"no microsecond", with("microsecond", nil), etf.ErrType},
		{"month 13", with("month", 13), etf.ErrType},
		{"month 0", with("month", 0), etf.ErrType},
		{"day 31 of November", with("day", 31), etf.ErrType},
		{"hour 24", with("hour", 24), etf.ErrType},
		{"minute -1", with("minute", -1), etf.ErrType},
		{"leap second", with("second", 60), etf.ErrType},
		{"microsecond of a second", with("microsecond", etf.Tuple{1000000, 6}), etf.ErrType},
		{"precision 7", with("microsecond", etf.Tuple{0, 7}), etf.ErrType},
		{"microsecond a triple", with("microsecond", etf.Tuple{0, 6, 0}), etf.ErrType},
		{"microsecond a list", with("microsecond", []any{0, 6}), etf.ErrType},
		{"year 10000", with("year", 10000), etf.ErrType},
		{"year as big integer", with("year", mustBig("100000000000000000000")), etf.ErrType},
		{"year as float", with("year", 2025.0), etf.ErrType},
		{"time_zone as atom", with("time_zone", etf.Atom("Etc/UTC")), etf.ErrType},
		{"offset of a day", with("utc_offset", 86400), etf.ErrType},
		{"struct as binary", with("__struct__", "Elixir.DateTime"), etf.ErrType},
		{"list", []any{1}, etf.ErrType},
		{"nil", nil, etf.ErrType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := mustMarshal(t, tt.in)
			var got time.Time
			require.ErrorIs(t, etf.Unmarshal(b, &got), tt.want)
		})
	}
	t.Run("February 29 of a leap year only", func(t *testing.T) {
		m := with("month", 2)
		m["day"] = 29
		var got time.Time
		require.ErrorIs(t, etf.Unmarshal(mustMarshal(t, m), &got), etf.ErrType)
		m["year"] = 2024
		require.NoError(t, etf.Unmarshal(mustMarshal(t, m), &got))
		m["year"], m["day"] = 2025, 28
		require.NoError(t, etf.Unmarshal(mustMarshal(t, m), &got))
	})
	t.Run("unknown keys are ignored", func(t *testing.T) {
		m := map[any]any{}
		for k, v := range base() {
			m[k] = v
		}
		m[etf.Atom("extra")] = etf.Tuple{1}
		m["binary key"] = 1
		var got time.Time
		require.NoError(t, etf.Unmarshal(mustMarshal(t, m), &got))
		require.Equal(t, ok, got)
	})
}

// TestNilIntoTime decodes nil, as OTP 25 and OTP 26 write it, into
// *time.Time (nil) and time.Time (a type error).
func TestNilIntoTime(t *testing.T) {
	for _, b := range [][]byte{elixirTerms(t)["atoms/nil"].bytes, mustMarshal(t, nil)} {
		p := &time.Time{}
		require.NoError(t, etf.Unmarshal(b, &p))
		require.Nil(t, p)
		var v time.Time
		require.ErrorIs(t, etf.Unmarshal(b, &v), etf.ErrType)
	}
}

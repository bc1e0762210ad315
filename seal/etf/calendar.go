package etf

import (
	"fmt"
	"reflect"
	"time"
)

// Elixir's calendar types are structs, i.e. maps with atom keys and a
// __struct__ key naming the module. Their fields, as defined in
// elixir-lang/elixir lib/elixir/lib/calendar/{date,naive_datetime,datetime}.ex
// (the same from v1.14.0 to 63a7a054ceb2 on main):
//
//	%Date{}          calendar year month day
//	%NaiveDateTime{} calendar year month day hour minute second microsecond
//	%DateTime{}      the same plus time_zone zone_abbr utc_offset std_offset
//
// microsecond is {value, precision}: precision is the number of digits
// Elixir shows (0 to 6), not part of the instant.

var timeType = reflect.TypeFor[time.Time]()

const (
	moduleDateTime      = "Elixir.DateTime"
	moduleNaiveDateTime = "Elixir.NaiveDateTime"
	moduleDate          = "Elixir.Date"
	moduleCalendarISO   = "Elixir.Calendar.ISO"

	// Calendar.ISO's year type, and the years DateTime.from_unix accepts.
	minCalendarYear, maxCalendarYear = -9999, 9999
	// maxZoneOffset bounds utc_offset and std_offset (seconds); time zone
	// databases stay well within a day.
	maxZoneOffset = 86400
	// timePrecision is the microsecond precision Marshal writes, as
	// DateTime.utc_now() does.
	timePrecision = 6
)

// appendDateTime appends t as the %DateTime{} Elixir builds for the same
// instant in UTC, DateTime.from_unix!(microseconds, :microsecond): time zone
// "Etc/UTC", zone_abbr "UTC", offsets 0 and microsecond {µs, 6}. Nanoseconds
// beyond the microsecond are dropped (truncated toward the past, as
// Elixir's from_unix does). The 13 keys are in term order, as
// term_to_binary writes a small map.
func appendDateTime(b []byte, t time.Time) ([]byte, error) {
	t = t.UTC()
	year, month, day := t.Date()
	if year < minCalendarYear || year > maxCalendarYear {
		return b, errorf(ErrType, "time.Time in year %d is outside Calendar.ISO's years %d..%d", year, minCalendarYear, maxCalendarYear)
	}
	hour, minute, second := t.Clock()
	b = append(b, tagMap, 0, 0, 0, 13)
	b = appendAtom(appendAtom(b, "__struct__"), moduleDateTime)
	b = appendAtom(appendAtom(b, "calendar"), moduleCalendarISO)
	b = appendInt(appendAtom(b, "day"), int64(day))
	b = appendInt(appendAtom(b, "hour"), int64(hour))
	b = append(appendAtom(b, "microsecond"), tagSmallTuple, 2)
	b = append(appendInt(b, int64(t.Nanosecond()/1000)), tagSmallInteger, timePrecision)
	b = appendInt(appendAtom(b, "minute"), int64(minute))
	b = appendInt(appendAtom(b, "month"), int64(month))
	b = appendInt(appendAtom(b, "second"), int64(second))
	b = appendInt(appendAtom(b, "std_offset"), 0)
	b = appendBinary(appendAtom(b, "time_zone"), "Etc/UTC")
	b = appendInt(appendAtom(b, "utc_offset"), 0)
	b = appendInt(appendAtom(b, "year"), int64(year))
	return appendBinary(appendAtom(b, "zone_abbr"), "UTC"), nil
}

// Bits of calendarFields.seen.
const (
	seenStruct = 1 << iota
	seenCalendar
	seenYear
	seenMonth
	seenDay
	seenHour
	seenMinute
	seenSecond
	seenMicrosecond
	seenTimeZone
	seenZoneAbbr
	seenUTCOffset
	seenStdOffset

	seenDate     = seenStruct | seenCalendar | seenYear | seenMonth | seenDay
	seenNaive    = seenDate | seenHour | seenMinute | seenSecond | seenMicrosecond
	seenDateTime = seenNaive | seenTimeZone | seenZoneAbbr | seenUTCOffset | seenStdOffset
)

// calendarFields holds the fields of a Date, NaiveDateTime or DateTime
// map; the byte slices alias the input.
type calendarFields struct {
	seen                                   int
	module, calendar, timeZone, zoneAbbr   []byte
	year, month, day, hour, minute, second int64
	micro, precision, utcOffset, stdOffset int64
}

// decodeTime decodes a map (tag consumed) that is an Elixir DateTime,
// NaiveDateTime or Date into the time.Time v.
func (r *reader) decodeTime(v reflect.Value) error {
	start := r.off - 1
	var c calendarFields
	if err := r.calendarFields(&c); err != nil {
		return err
	}
	t, err := c.time()
	if err != nil {
		return fmt.Errorf("%w, at offset %d", err, start)
	}
	if v.CanAddr() {
		*v.Addr().Interface().(*time.Time) = t
	} else {
		v.Set(reflect.ValueOf(t))
	}
	return nil
}

// calendarFields reads the pairs of a map (tag consumed) into c, skipping
// keys that are not calendar fields. A repeated key keeps its last value,
// as decoding into a struct does.
func (r *reader) calendarFields(c *calendarFields) error {
	n, err := r.count(2)
	if err != nil {
		return err
	}
	if err := r.enter(); err != nil {
		return err
	}
	for range n {
		if err := r.calendarField(c); err != nil {
			return err
		}
	}
	r.leave()
	return nil
}

func (r *reader) calendarField(c *calendarFields) error {
	tag, err := r.u8()
	if err != nil {
		return err
	}
	if !isAtomTag(tag) {
		r.off--
		if err := r.skip(); err != nil {
			return err
		}
		return r.skip()
	}
	name, _, err := r.atomBody(tag) // the field names are ASCII in every atom encoding
	if err != nil {
		return err
	}
	switch string(name) {
	case "__struct__":
		c.module, err = r.calendarAtom()
		c.seen |= seenStruct
	case "calendar":
		c.calendar, err = r.calendarAtom()
		c.seen |= seenCalendar
	case "year":
		c.year, err = r.calendarInt()
		c.seen |= seenYear
	case "month":
		c.month, err = r.calendarInt()
		c.seen |= seenMonth
	case "day":
		c.day, err = r.calendarInt()
		c.seen |= seenDay
	case "hour":
		c.hour, err = r.calendarInt()
		c.seen |= seenHour
	case "minute":
		c.minute, err = r.calendarInt()
		c.seen |= seenMinute
	case "second":
		c.second, err = r.calendarInt()
		c.seen |= seenSecond
	case "microsecond":
		c.micro, c.precision, err = r.calendarMicrosecond()
		c.seen |= seenMicrosecond
	case "time_zone":
		c.timeZone, err = r.calendarBinary()
		c.seen |= seenTimeZone
	case "zone_abbr":
		c.zoneAbbr, err = r.calendarBinary()
		c.seen |= seenZoneAbbr
	case "utc_offset":
		c.utcOffset, err = r.calendarInt()
		c.seen |= seenUTCOffset
	case "std_offset":
		c.stdOffset, err = r.calendarInt()
		c.seen |= seenStdOffset
	default:
		err = r.skip()
	}
	return err
}

// calendarInt reads an integer field that fits int64.
func (r *reader) calendarInt() (int64, error) {
	tag, err := r.u8()
	if err != nil {
		return 0, err
	}
	if rankOf(tag) != rankInteger {
		return 0, r.typeError(tag, reflect.TypeFor[int64]())
	}
	small, bigv, err := r.integer(tag)
	if err == nil && bigv != nil {
		err = r.errorf(ErrType, "calendar field overflows Go int64")
	}
	return small, err
}

// calendarAtom reads an atom field's text, aliased.
func (r *reader) calendarAtom() ([]byte, error) {
	tag, err := r.u8()
	if err != nil {
		return nil, err
	}
	if !isAtomTag(tag) {
		return nil, r.typeError(tag, atomType)
	}
	text, _, err := r.atomBody(tag) // module names are ASCII
	return text, err
}

// calendarBinary reads a binary (an Elixir string) field, aliased.
func (r *reader) calendarBinary() ([]byte, error) {
	tag, err := r.u8()
	if err != nil {
		return nil, err
	}
	if tag != tagBinary {
		return nil, r.typeError(tag, reflect.TypeFor[string]())
	}
	n, err := r.count(1)
	if err != nil {
		return nil, err
	}
	return r.bytes(n)
}

// calendarMicrosecond reads the {value, precision} tuple.
func (r *reader) calendarMicrosecond() (value, precision int64, err error) {
	tag, err := r.u8()
	if err != nil {
		return 0, 0, err
	}
	if tag != tagSmallTuple {
		return 0, 0, r.typeError(tag, reflect.TypeFor[[2]int64]())
	}
	arity, err := r.u8()
	if err != nil {
		return 0, 0, err
	}
	if arity != 2 {
		return 0, 0, r.errorf(ErrType, "microsecond is a tuple of %d elements, want {value, precision}", arity)
	}
	if value, err = r.calendarInt(); err != nil {
		return 0, 0, err
	}
	precision, err = r.calendarInt()
	return value, precision, err
}

// time checks the fields as Calendar.ISO would and returns the instant. A
// DateTime keeps its offset (time.UTC for Etc/UTC, otherwise a fixed zone
// named by zone_abbr); a NaiveDateTime is its wall clock in UTC, a Date
// midnight UTC.
func (c *calendarFields) time() (time.Time, error) {
	var want int
	switch string(c.module) {
	case moduleDateTime:
		want = seenDateTime
	case moduleNaiveDateTime:
		want = seenNaive
	case moduleDate:
		want = seenDate
	default:
		return time.Time{}, errorf(ErrType, "not an Elixir DateTime, NaiveDateTime or Date")
	}
	if c.seen&want != want {
		return time.Time{}, errorf(ErrType, "%s without all of its fields", c.module)
	}
	if string(c.calendar) != moduleCalendarISO {
		return time.Time{}, errorf(ErrUnsupported, "%s in calendar %q; only Calendar.ISO is supported", c.module, truncateForError(string(c.calendar)))
	}
	if err := c.validate(); err != nil {
		return time.Time{}, err
	}
	loc := time.UTC
	if want == seenDateTime {
		offset := int(c.utcOffset + c.stdOffset)
		if offset != 0 || string(c.timeZone) != "Etc/UTC" {
			loc = time.FixedZone(string(c.zoneAbbr), offset)
		}
	}
	return time.Date(int(c.year), time.Month(c.month), int(c.day),
		int(c.hour), int(c.minute), int(c.second), int(c.micro)*1000, loc), nil
}

// validate applies Calendar.ISO's valid_date?/3 and valid_time?/4 (no
// leap seconds), within its years, and bounds the offsets.
func (c *calendarFields) validate() error {
	switch {
	case c.year < minCalendarYear || c.year > maxCalendarYear:
		return errorf(ErrType, "year %d is outside Calendar.ISO's years %d..%d", c.year, minCalendarYear, maxCalendarYear)
	case c.month < 1 || c.month > 12:
		return errorf(ErrType, "month %d", c.month)
	case c.day < 1 || c.day > int64(daysIn(c.year, c.month)):
		return errorf(ErrType, "day %d of month %d", c.day, c.month)
	case c.hour < 0 || c.hour > 23 || c.minute < 0 || c.minute > 59 || c.second < 0 || c.second > 59:
		return errorf(ErrType, "time %d:%d:%d", c.hour, c.minute, c.second)
	case c.micro < 0 || c.micro > 999999 || c.precision < 0 || c.precision > 6:
		return errorf(ErrType, "microsecond {%d, %d}", c.micro, c.precision)
	case c.utcOffset <= -maxZoneOffset || c.utcOffset >= maxZoneOffset || c.stdOffset <= -maxZoneOffset || c.stdOffset >= maxZoneOffset:
		return errorf(ErrType, "offsets %d and %d are not within a day", c.utcOffset, c.stdOffset)
	}
	return nil
}

// daysIn returns the number of days of a month in the proleptic Gregorian
// calendar (year 0 is a leap year, as in Calendar.ISO).
func daysIn(year, month int64) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

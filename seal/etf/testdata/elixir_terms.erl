%% Regenerates elixir-terms.json with real Erlang/OTP (run it on OTP 25,
%% the release whose term_to_binary defaults to minor_version 1):
%%   erlc elixir_terms.erl && erl -noshell -s elixir_terms main > elixir-terms.json && rm elixir_terms.beam
%%
%% Every etf_hex is term_to_binary output of this VM, i.e. the bytes an
%% Elixir app on the same OTP sends: Elixir adds nothing of its own to
%% :erlang.term_to_binary. Groups:
%%   atoms/...     nil, true and false as OTP 25 writes them by default
%%                 (minor_version 1: latin-1 atoms as ATOM_EXT, tag 100).
%%   opaque/...    pids, references, ports and funs (no Go form).
%%   calendar/...  Elixir's %DateTime{}, %NaiveDateTime{} and %Date{} structs,
%%                 which are maps with atom keys that Erlang builds itself.
%%                 Their fields follow elixir-lang/elixir
%%                 lib/elixir/lib/calendar/{datetime,naive_datetime,date}.ex
%%                 (defstruct unchanged from v1.14.0 to 63a7a054ceb2 on main);
%%                 utc/2 transliterates DateTime.from_unix/3 with
%%                 Calendar.ISO.from_unix/2 (lib/elixir/lib/calendar/iso.ex),
%%                 and zone/5 gives what DateTime.shift_zone!/2 returns with a
%%                 time zone database (wall clock = UTC + utc_offset +
%%                 std_offset; abbreviations and offsets from the tz data).
%%                 Each is written twice: minor_version 1 (OTP 25's default)
%%                 and minor_version 2 (OTP 26's default). unix_us is the
%%                 instant (for naive datetimes and dates: the wall clock
%%                 read as UTC) and offset_s the total UTC offset, both
%%                 computed here by Erlang's calendar module.
-module(elixir_terms).
-export([main/0]).

-define(UNIX_EPOCH, 62167219200).

main() ->
    Atoms = [
        {"atoms/nil", "nil", nil},
        {"atoms/true", "true", true},
        {"atoms/false", "false", false},
        {"atoms/list-of-nils", "[nil, 1, nil]", [nil, 1, nil]},
        {"atoms/tuple", "{nil, true, false}", {nil, true, false}},
        {"atoms/string-keyed-nils",
         "%{\\\"count\\\" => nil, \\\"id\\\" => 3, \\\"meta\\\" => nil, \\\"name\\\" => nil, \\\"tags\\\" => nil}",
         #{<<"count">> => nil, <<"id">> => 3, <<"meta">> => nil, <<"name">> => nil, <<"tags">> => nil}},
        {"atoms/atom-keyed",
         "%{status: :ok, flag: true, off: false, ptr: nil, tags: nil, limits: nil, when: nil}",
         #{status => ok, flag => true, off => false, ptr => nil, tags => nil, limits => nil, 'when' => nil}},
        {"atoms/nested", "[%{\\\"a\\\" => nil, \\\"b\\\" => true}, nil]", [#{<<"a">> => nil, <<"b">> => true}, nil]}
    ],
    AtomLines = [plain(Name, Src, term_to_binary(T, [{minor_version, 1}])) || {Name, Src, T} <- Atoms],
    Port = hd(erlang:ports()),
    Opaque = [
        {"opaque/pid", "self()", self()},
        {"opaque/reference", "make_ref()", make_ref()},
        {"opaque/port", "hd(:erlang.ports())", Port},
        {"opaque/fun", "fn -> :ok end", fun() -> ok end},
        {"opaque/export", "&:erlang.abs/1", fun erlang:abs/1},
        {"opaque/pid-in-map", "%{\\\"owner\\\" => self(), \\\"id\\\" => 1}", #{<<"owner">> => self(), <<"id">> => 1}},
        {"opaque/reference-in-list", "[1, make_ref()]", [1, make_ref()]}
    ],
    OpaqueLines = [plain(Name, Src, term_to_binary(T)) || {Name, Src, T} <- Opaque],
    Noon = 1764172800123456, % 2025-11-26T16:00:00.123456Z
    Calendar = [
        {"utc-now", "DateTime.utc_now() (unit :native, precision 6) at 2025-11-26T16:00:00.123456Z",
         utc(Noon, microsecond)},
        {"utc-precision-0", "DateTime.from_unix!(1764172800)", utc(1764172800, second)},
        {"utc-precision-3", "DateTime.from_unix!(1764172800123, :millisecond)", utc(1764172800123, millisecond)},
        {"utc-precision-6-zero", "DateTime.from_unix!(1764172800000000, :microsecond)", utc(1764172800000000, microsecond)},
        {"utc-before-1970", "DateTime.from_unix!(-14182940)", utc(-14182940, second)},
        {"utc-one-us-before-1970", "DateTime.from_unix!(-1, :microsecond)", utc(-1, microsecond)},
        {"utc-year-1", "DateTime.from_unix!(-62135596800)", utc(-62135596800, second)},
        {"utc-year-9999", "DateTime.from_unix!(253402300799999999, :microsecond)", utc(253402300799999999, microsecond)},
        {"paris-cet", "DateTime.shift_zone!(~U[2025-11-26 16:00:00.123456Z], \\\"Europe/Paris\\\")",
         zone(utc(Noon, microsecond), <<"Europe/Paris">>, <<"CET">>, 3600, 0)},
        {"paris-cest", "DateTime.shift_zone!(~U[2025-07-01 12:00:00Z], \\\"Europe/Paris\\\")",
         zone(utc(1751371200, second), <<"Europe/Paris">>, <<"CEST">>, 3600, 3600)},
        {"paris-new-year", "DateTime.shift_zone!(~U[2025-12-31 23:30:00Z], \\\"Europe/Paris\\\")",
         zone(utc(1767223800, second), <<"Europe/Paris">>, <<"CET">>, 3600, 0)},
        {"new-york-est", "DateTime.shift_zone!(~U[2025-11-26 16:00:00.123456Z], \\\"America/New_York\\\")",
         zone(utc(Noon, microsecond), <<"America/New_York">>, <<"EST">>, -18000, 0)},
        {"new-york-edt", "DateTime.shift_zone!(~U[2025-07-01 02:00:00Z], \\\"America/New_York\\\")",
         zone(utc(1751335200, second), <<"America/New_York">>, <<"EDT">>, -18000, 3600)},
        {"kolkata-ist", "DateTime.shift_zone!(~U[2025-11-26 16:00:00.123456Z], \\\"Asia/Kolkata\\\")",
         zone(utc(Noon, microsecond), <<"Asia/Kolkata">>, <<"IST">>, 19800, 0)},
        {"kathmandu", "DateTime.shift_zone!(~U[2025-11-26 16:00:00Z], \\\"Asia/Kathmandu\\\")",
         zone(utc(1764172800, second), <<"Asia/Kathmandu">>, <<"+0545">>, 20700, 0)},
        {"naive", "~N[2025-11-26 16:00:00.123456]", naive(2025, 11, 26, 16, 0, 0, {123456, 6})},
        {"naive-precision-0", "~N[2025-11-26 16:00:00]", naive(2025, 11, 26, 16, 0, 0, {0, 0})},
        {"date", "~D[2025-11-26]", date(2025, 11, 26)},
        {"date-leap-day", "~D[2024-02-29]", date(2024, 2, 29)}
    ],
    CalendarLines = [calendar_line("calendar/" ++ Name ++ "/" ++ V, Src, T, Minor)
                     || {Name, Src, T} <- Calendar, {V, Minor} <- [{"v1", 1}, {"v2", 2}]],
    io:format("{\"generator\": \"elixir_terms.erl on Erlang/OTP ~s (erts ~s)\",~n\"terms\": [~n~s~n]}~n",
              [erlang:system_info(otp_release), erlang:system_info(version),
               lists:join(",\n", AtomLines ++ OpaqueLines ++ CalendarLines)]),
    halt().

plain(Name, Src, Bin) ->
    io_lib:format("{\"name\": \"~s\", \"elixir\": \"~s\", \"etf_hex\": \"~s\"}", [Name, Src, hex(Bin)]).

calendar_line(Name, Src, T, Minor) ->
    Bin = term_to_binary(T, [{minor_version, Minor}]),
    {UnixUs, Offset, Abbr} = expected(T),
    io_lib:format("{\"name\": \"~s\", \"elixir\": \"~s\", \"etf_hex\": \"~s\", \"unix_us\": ~b, \"offset_s\": ~b, \"zone_abbr\": \"~s\"}",
                  [Name, Src, hex(Bin), UnixUs, Offset, Abbr]).

hex(Bin) -> string:lowercase(binary_to_list(binary:encode_hex(Bin))).

%% DateTime.from_unix!(N, Unit): Calendar.ISO.from_unix/2 splits the
%% microseconds with floor division and picks the precision from the unit.
utc(N, Unit) ->
    Total = erlang:convert_time_unit(N, Unit, microsecond),
    Micro = floor_mod(Total, 1000000),
    Secs = (Total - Micro) div 1000000,
    Precision = case Unit of second -> 0; millisecond -> 3; microsecond -> 6 end,
    {{Y, Mo, D}, {H, Mi, S}} = calendar:gregorian_seconds_to_datetime(Secs + ?UNIX_EPOCH),
    #{'__struct__' => 'Elixir.DateTime', calendar => 'Elixir.Calendar.ISO',
      year => Y, month => Mo, day => D, hour => H, minute => Mi, second => S,
      microsecond => {Micro, Precision},
      time_zone => <<"Etc/UTC">>, zone_abbr => <<"UTC">>, utc_offset => 0, std_offset => 0}.

%% The same instant in another zone, as DateTime.shift_zone!/2 gives it.
zone(UTC, Zone, Abbr, UtcOffset, StdOffset) ->
    #{year := Y, month := Mo, day := D, hour := H, minute := Mi, second := S} = UTC,
    Secs = calendar:datetime_to_gregorian_seconds({{Y, Mo, D}, {H, Mi, S}}) + UtcOffset + StdOffset,
    {{Y2, Mo2, D2}, {H2, Mi2, S2}} = calendar:gregorian_seconds_to_datetime(Secs),
    UTC#{year := Y2, month := Mo2, day := D2, hour := H2, minute := Mi2, second := S2,
         time_zone := Zone, zone_abbr := Abbr, utc_offset := UtcOffset, std_offset := StdOffset}.

naive(Y, Mo, D, H, Mi, S, Micro) ->
    #{'__struct__' => 'Elixir.NaiveDateTime', calendar => 'Elixir.Calendar.ISO',
      year => Y, month => Mo, day => D, hour => H, minute => Mi, second => S, microsecond => Micro}.

date(Y, Mo, D) ->
    #{'__struct__' => 'Elixir.Date', calendar => 'Elixir.Calendar.ISO', year => Y, month => Mo, day => D}.

%% The instant a struct stands for: wall clock minus its UTC offset.
expected(#{year := Y, month := Mo, day := D} = T) ->
    H = maps:get(hour, T, 0), Mi = maps:get(minute, T, 0), S = maps:get(second, T, 0),
    {Micro, _} = maps:get(microsecond, T, {0, 0}),
    Offset = maps:get(utc_offset, T, 0) + maps:get(std_offset, T, 0),
    Wall = calendar:datetime_to_gregorian_seconds({{Y, Mo, D}, {H, Mi, S}}) - ?UNIX_EPOCH,
    {(Wall - Offset) * 1000000 + Micro, Offset, maps:get(zone_abbr, T, <<"UTC">>)}.

floor_mod(A, B) -> ((A rem B) + B) rem B.

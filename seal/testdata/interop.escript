#!/usr/bin/env escript
%% Checks sealkit's Go output with real Erlang, independently of Go's code:
%%   etf  HEX                      binary_to_term accepts Go's bytes and OTP
%%                                 re-encodes the term to the same bytes
%%                                 (term_to_binary with minor_version 2).
%%   xcp  KEYBASE SALT TOKEN HEX   PBKDF2-SHA256 (1000 iterations, 32 bytes)
%%                                 derives the key, :crypto opens the XCP.
%%                                 token (XChaCha20-Poly1305, AAD "A128GCM"),
%%                                 and the payload {Data, SignedAt, MaxAge}
%%                                 (or the old {Data, SignedAt})
%%                                 holds the term whose ETF is HEX.
%%   datetime HEX UNIX_US          binary_to_term of Go's bytes is exactly
%%                                 (=:=) the %DateTime{} Elixir builds with
%%                                 DateTime.from_unix!(UNIX_US, :microsecond),
%%                                 which datetime_from_unix/1 builds here.
%% KEYBASE and SALT are hex. Prints "ok N" or "fail N REASON" per line.
%%
%%   hs256 KEYBASE SALT TOKEN HEX  the same for a signed "SFMyNTY." token,
%%                                 whose HMAC-SHA256 :crypto checks.
%% Payloads may be compressed (term_to_binary(T, [compressed])):
%% binary_to_term inflates them itself.
%%
%% `escript interop.escript gen > otp25-tokens.json` instead makes tokens as
%% an OTP 25 app's Plug.Crypto.encrypt and Plug.Crypto.sign do (see
%% otp25-tokens.README.md), and `escript interop.escript gen-compressed >
%% compressed-tokens.json` makes them as plug_crypto 2.2 does with
%% compressed: true, plus hostile ones (see compressed-tokens.README.md).
-mode(compile).

main(["gen"]) ->
    gen();
main(["gen-compressed"]) ->
    gen_compressed();
main([File]) ->
    {ok, Bin} = file:read_file(File),
    Lines = [L || L <- binary:split(Bin, <<"\n">>, [global]), L =/= <<>>],
    lists:foldl(fun(L, N) -> check(N, binary:split(L, <<" ">>, [global])), N + 1 end, 1, Lines),
    halt(0).

check(N, Fields) ->
    try run(Fields) of
        ok -> io:format("ok ~b~n", [N]);
        {fail, Why} -> io:format("fail ~b ~p~n", [N, Why])
    catch C:E -> io:format("fail ~b ~p:~p~n", [N, C, E])
    end.

run([<<"etf">>, Hex]) ->
    Bytes = binary:decode_hex(Hex),
    %% Not [safe]: this line may be the first to name an atom (a struct
    %% field), as an Elixir app's own code would have before reading tokens.
    Term = binary_to_term(Bytes),
    case term_to_binary(Term, [{minor_version, 2}]) of
        Bytes -> ok;
        Other -> {fail, {reencoded, binary:encode_hex(Other)}}
    end;
run([<<"xcp">>, KeyBaseHex, SaltHex, Token, DataHex]) ->
    Key = crypto:pbkdf2_hmac(sha256, binary:decode_hex(KeyBaseHex), binary:decode_hex(SaltHex), 1000, 32),
    <<"XCP.", B64/binary>> = Token,
    <<Nonce:24/binary, Tag:16/binary, CipherText/binary>> = b64url(B64),
    <<N16:16/binary, N8:8/binary>> = Nonce,
    SubKey = hchacha20(Key, N16),
    case crypto:crypto_one_time_aead(chacha20_poly1305, SubKey, <<0:32, N8/binary>>, CipherText, <<"A128GCM">>, Tag, false) of
        error -> {fail, aead};
        Plain -> check_payload(Plain, DataHex)
    end;
run([<<"hs256">>, KeyBaseHex, SaltHex, Token, DataHex]) ->
    Key = crypto:pbkdf2_hmac(sha256, binary:decode_hex(KeyBaseHex), binary:decode_hex(SaltHex), 1000, 32),
    [<<"SFMyNTY">>, Body, Sig] = binary:split(Token, <<".">>, [global]),
    case crypto:mac(hmac, sha256, Key, <<"SFMyNTY.", Body/binary>>) =:= b64url(Sig) of
        false -> {fail, hmac};
        true -> check_payload(b64url(Body), DataHex)
    end;
run([<<"datetime">>, Hex, UnixUs]) ->
    Want = datetime_from_unix(binary_to_integer(UnixUs)),
    case binary_to_term(binary:decode_hex(Hex)) of
        Want -> ok; % a bound variable matches only an exactly equal term
        Got -> {fail, {datetime, Got, Want}}
    end.

%% Plug.Crypto's decode: {Data, SignedAt, MaxAge} with Data the term whose
%% ETF is DataHex.
check_payload(Plain, DataHex) ->
    Want = binary_to_term(binary:decode_hex(DataHex)),
    case binary_to_term(Plain, [safe]) of
        {Want, SignedAt, MaxAge} when is_integer(SignedAt), (is_integer(MaxAge) orelse MaxAge =:= infinity) -> ok;
        {Want, SignedAt} when is_integer(SignedAt) -> ok; % Phoenix < 1.4 payloads
        Got -> {fail, {payload, Got}}
    end.

%% DateTime.from_unix!(Us, :microsecond) (elixir-lang/elixir
%% lib/elixir/lib/calendar/datetime.ex from_unix/3, with Calendar.ISO.from_unix/2
%% from iso.ex: floor division into seconds and microseconds, precision 6
%% for :microsecond). Erlang's calendar module covers years 0 to 9999.
datetime_from_unix(Us) ->
    Micro = ((Us rem 1000000) + 1000000) rem 1000000,
    {{Y, Mo, D}, {H, Mi, S}} = calendar:gregorian_seconds_to_datetime((Us - Micro) div 1000000 + 62167219200),
    #{'__struct__' => 'Elixir.DateTime', calendar => 'Elixir.Calendar.ISO',
      year => Y, month => Mo, day => D, hour => H, minute => Mi, second => S,
      microsecond => {Micro, 6}, std_offset => 0, utc_offset => 0,
      time_zone => <<"Etc/UTC">>, zone_abbr => <<"UTC">>}.

b64url(B) ->
    Std = << <<(case C of $- -> $+; $_ -> $/; _ -> C end)>> || <<C>> <= B >>,
    Pad = case byte_size(Std) rem 4 of 0 -> <<>>; 2 -> <<"==">>; 3 -> <<"=">> end,
    base64:decode(<<Std/binary, Pad/binary>>).

%% HChaCha20 (draft-irtf-cfrg-xchacha): ChaCha20's 20 rounds over
%% constants, key and a 16-byte nonce; words 0-3 and 12-15, no final add.
hchacha20(Key, Nonce) ->
    <<K0:32/little, K1:32/little, K2:32/little, K3:32/little,
      K4:32/little, K5:32/little, K6:32/little, K7:32/little>> = Key,
    <<N0:32/little, N1:32/little, N2:32/little, N3:32/little>> = Nonce,
    S0 = list_to_tuple([16#61707865, 16#3320646e, 16#79622d32, 16#6b206574,
                        K0, K1, K2, K3, K4, K5, K6, K7, N0, N1, N2, N3]),
    S = lists:foldl(fun(_, St) -> double_round(St) end, S0, lists:seq(1, 10)),
    << <<(element(I, S)):32/little>> || I <- [1, 2, 3, 4, 13, 14, 15, 16] >>.

double_round(S) ->
    lists:foldl(fun({A, B, C, D}, St) -> qr(St, A, B, C, D) end, S,
                [{1, 5, 9, 13}, {2, 6, 10, 14}, {3, 7, 11, 15}, {4, 8, 12, 16},
                 {1, 6, 11, 16}, {2, 7, 12, 13}, {3, 8, 9, 14}, {4, 5, 10, 15}]).

qr(S, Ia, Ib, Ic, Id) ->
    {A0, B0, C0, D0} = {element(Ia, S), element(Ib, S), element(Ic, S), element(Id, S)},
    A1 = add(A0, B0), D1 = rotl(D0 bxor A1, 16),
    C1 = add(C0, D1), B1 = rotl(B0 bxor C1, 12),
    A2 = add(A1, B1), D2 = rotl(D1 bxor A2, 8),
    C2 = add(C1, D2), B2 = rotl(B1 bxor C2, 7),
    setelement(Id, setelement(Ic, setelement(Ib, setelement(Ia, S, A2), B2), C2), D2).

add(X, Y) -> (X + Y) band 16#ffffffff.
rotl(X, N) -> ((X bsl N) bor (X bsr (32 - N))) band 16#ffffffff.

%% ---- gen: tokens as Plug.Crypto makes them on this VM ----

-define(KEY_BASE, <<"issue-10-key-base-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGH">>).
-define(SALT, <<"issue-10">>).
-define(NOW, 1764172800000).

gen() ->
    %% {Name, Elixir source, Data, what Go must answer beyond Elixir's
    %% answer: "" or "unsupported" for data with no Go form}.
    Data = [
        {"nil/string-keyed-fields",
         "%{\"count\" => nil, \"id\" => 3, \"meta\" => nil, \"name\" => nil, \"tags\" => nil}",
         #{<<"count">> => nil, <<"id">> => 3, <<"meta">> => nil, <<"name">> => nil, <<"tags">> => nil}, ""},
        {"nil/list", "[nil, 1, nil]", [nil, 1, nil], ""},
        {"nil/booleans", "%{\"on\" => true, \"off\" => false, \"maybe\" => nil}",
         #{<<"on">> => true, <<"off">> => false, <<"maybe">> => nil}, ""},
        {"opaque/pid", "self()", self(), "unsupported"},
        {"opaque/pid-in-map", "%{\"owner\" => self()}", #{<<"owner">> => self()}, "unsupported"},
        {"opaque/reference", "make_ref()", make_ref(), "unsupported"},
        {"opaque/reference-in-list", "[1, make_ref()]", [1, make_ref()], "unsupported"}
    ],
    DataTokens = [token_json(K, Name, Src, T, ?NOW - 1000, 3600, none, 0, ?NOW, Error)
                  || {Name, Src, T, Error} <- Data, K <- [encrypt, sign]],
    %% A token signed at NOW + Delta with max age MaxAge, opened at NOW
    %% with the max_age option Open (none: the embedded one) and a
    %% tolerated clock skew of Skew ms.
    Ages = [{"default", 86400, none}, {"infinity", infinity, none}, {"zero", 0, none},
            {"open-zero", 86400, 0}, {"open-infinity", 86400, infinity}, {"one-second", 1, none}],
    Deltas = [{"too-old", -86400001}, {"one-second-ago", -1000}, {"now", 0}, {"1ms-ahead", 1},
              {"1s-ahead", 1000}, {"5s-ahead", 5000}, {"5001ms-ahead", 5001}, {"1min-ahead", 60000}],
    Future = [token_json(K, "future/" ++ AgeName ++ "/" ++ DeltaName ++ "/skew-" ++ integer_to_list(Skew) ++ "ms",
                         "\"v\"", <<"v">>, ?NOW + Delta, MaxAge, Open, Skew, ?NOW, "")
              || {AgeName, MaxAge, Open} <- Ages, {DeltaName, Delta} <- Deltas,
                 Skew <- [0, 5000], K <- [encrypt, sign]],
    io:format("{\"generator\": \"interop.escript gen on Erlang/OTP ~s (erts ~s)\",~n"
              "\"key_base\": \"~s\",~n\"salt\": \"~s\",~n\"tokens\": [~n~s~n]}~n",
              [erlang:system_info(otp_release), erlang:system_info(version), ?KEY_BASE, ?SALT,
               lists:join(",\n", DataTokens ++ Future)]),
    halt(0).

token_json(Kind, Name, Src, Data, SignedAt, MaxAge, Open, Skew, Now, DataError) ->
    %% Plug.Crypto's encode/2: term_to_binary with the VM's defaults (on
    %% OTP 25, minor_version 1: latin-1 atoms such as nil and infinity as
    %% ATOM_EXT).
    Payload = term_to_binary({Data, SignedAt, MaxAge}),
    Key = crypto:pbkdf2_hmac(sha256, ?KEY_BASE, ?SALT, 1000, 32),
    Token = case Kind of encrypt -> xcp_encrypt(Key, Payload); sign -> hs256_sign(Key, Payload) end,
    Applied = case Open of none -> MaxAge; _ -> Open end,
    io_lib:format("{\"name\": \"~s/~s\", \"kind\": \"~s\", \"elixir\": \"~s\", \"token\": \"~s\", "
                  "\"data_etf_hex\": \"~s\", \"signed_at_ms\": ~b, \"max_age\": ~s, \"open_max_age\": ~s, "
                  "\"now_ms\": ~b, \"skew_ms\": ~b, \"expect\": \"~s\", \"expect_v2_1_1\": \"~s\", \"data_error\": \"~s\"}",
                  [Name, Kind, Kind, escape(Src), Token, string:lowercase(binary_to_list(binary:encode_hex(term_to_binary(Data)))),
                   SignedAt, json_age(MaxAge), json_age(Open), Now, Skew,
                   validate_age(SignedAt, Applied, Now, Skew), expired_v2_1_1(SignedAt, Applied, Now), DataError]).

json_age(none) -> "null";
json_age(infinity) -> "\"infinity\"";
json_age(N) -> integer_to_list(N).

escape(S) -> lists:flatten([case C of $" -> "\\\""; _ -> [C] end || C <- S]).

%% plug_crypto main, lib/plug/crypto.ex validate_age/2, as added by commit
%% b0665ea179e3 ("Reject tokens with future signed_at timestamps (#48)") and
%% unchanged at c326c3c743b1, with Now = now_ms(); Skew = 0 is that
%% function. A Skew > 0 is sealkit's seal.ClockSkew: signed_at may lie up
%% to Skew ms after Now.
validate_age(_Signed, infinity, _Now, _Skew) -> ok;
validate_age(_Signed, MaxAge, _Now, _Skew) when MaxAge =< 0 -> expired;
validate_age(Signed, MaxAge, Now, Skew) ->
    if Signed > Now + Skew -> invalid;
       Signed + trunc(MaxAge * 1000) < Now -> expired;
       true -> ok
    end.

%% plug_crypto v2.1.1 (70af9d89e6bc), lib/plug/crypto.ex expired?/2: no
%% future check at all.
expired_v2_1_1(_Signed, infinity, _Now) -> ok;
expired_v2_1_1(_Signed, MaxAge, _Now) when MaxAge =< 0 -> expired;
expired_v2_1_1(Signed, MaxAge, Now) ->
    case Signed + trunc(MaxAge * 1000) < Now of true -> expired; false -> ok end.

%% Plug.Crypto.MessageEncryptor.encrypt/4 with aad "A128GCM".
xcp_encrypt(Key, Plain) ->
    Nonce = crypto:strong_rand_bytes(24),
    <<N16:16/binary, N8:8/binary>> = Nonce,
    {CipherText, Tag} = crypto:crypto_one_time_aead(chacha20_poly1305, hchacha20(Key, N16), <<0:32, N8/binary>>,
                                                   Plain, <<"A128GCM">>, true),
    <<"XCP.", (b64url_encode(<<Nonce/binary, Tag/binary, CipherText/binary>>))/binary>>.

%% Plug.Crypto.MessageVerifier.sign/3 with :sha256.
hs256_sign(Key, Payload) ->
    PlainText = <<"SFMyNTY.", (b64url_encode(Payload))/binary>>,
    <<PlainText/binary, ".", (b64url_encode(crypto:mac(hmac, sha256, Key, PlainText)))/binary>>.

b64url_encode(B) ->
    << <<(case C of $+ -> $-; $/ -> $_; _ -> C end)>> || <<C>> <= base64:encode(B), C =/= $= >>.

%% ---- gen-compressed: tokens as plug_crypto 2.2 makes them with compressed: true ----

gen_compressed() ->
    Terms = compressed_terms(),
    %% Plug.Crypto 2.2's encode/2 with compressed: true is
    %% term_to_binary({data, signed_at, max_age}, [:compressed]) (level 6);
    %% levels 1 and 9 are what term_to_binary writes with {compressed, N}.
    Levels = [{"default", [compressed]}, {"level-1", [{compressed, 1}]}, {"level-9", [{compressed, 9}]}],
    TermLines = [compressed_term_json(Name, Src, T, Levels) || {Name, Src, T} <- Terms],
    Tokens = [compressed_token_json(K, Name ++ "/" ++ LName ++ "/" ++ atom_to_list(K), Name, Src, LName,
                                    term_to_binary({T, ?NOW - 1000, 3600}, Opts), "ok")
              || {Name, Src, T} <- Terms, {LName, Opts} <- Levels, K <- [encrypt, sign]],
    Hostile = [compressed_token_json(K, "hostile/" ++ Name ++ "/" ++ atom_to_list(K), "", Src, "", Payload,
                                     erlang_opens(Payload))
               || {Name, Src, Payload} <- hostile_payloads(), K <- [encrypt, sign]],
    io:format("{\"generator\": \"interop.escript gen-compressed on Erlang/OTP ~s (erts ~s)\",~n"
              "\"key_base\": \"~s\",~n\"salt\": \"~s\",~n\"now_ms\": ~b,~n\"terms\": [~n~s~n],~n\"tokens\": [~n~s~n]}~n",
              [erlang:system_info(otp_release), erlang:system_info(version), ?KEY_BASE, ?SALT, ?NOW,
               lists:join(",\n", TermLines), lists:join(",\n", Tokens ++ Hostile)]),
    halt(0).

%% A term: the SHA-256 and size of term_to_binary(T) (the plain bytes are
%% what each compressed form inflates to) and term_to_binary(T, Opts) per level.
compressed_term_json(Name, Src, T, Levels) ->
    Plain = term_to_binary(T),
    Forms = [io_lib:format("\"~s\": \"~s\"", [LName, hex(term_to_binary(T, Opts))]) || {LName, Opts} <- Levels],
    io_lib:format("{\"name\": \"~s\", \"elixir\": \"~s\", \"etf_size\": ~b, \"etf_sha256\": \"~s\", \"compressed_hex\": {~s}}",
                  [Name, escape(Src), byte_size(Plain), hex(crypto:hash(sha256, Plain)), lists:join(", ", Forms)]).

compressed_token_json(Kind, Name, Term, Src, Level, Payload, Erlang) ->
    Key = crypto:pbkdf2_hmac(sha256, ?KEY_BASE, ?SALT, 1000, 32),
    Token = case Kind of encrypt -> xcp_encrypt(Key, Payload); sign -> hs256_sign(Key, Payload) end,
    <<131, Tag, _/binary>> = Payload,
    io_lib:format("{\"name\": \"~s\", \"kind\": \"~s\", \"term\": \"~s\", \"level\": \"~s\", \"elixir\": \"~s\", "
                  "\"token\": \"~s\", \"compressed\": ~s, \"payload_size\": ~b, "
                  "\"signed_at_ms\": ~b, \"max_age\": 3600, \"erlang\": \"~s\"}",
                  [Name, Kind, Term, Level, escape(Src), Token, Tag =:= 80, byte_size(Payload), ?NOW - 1000, Erlang]).

hex(Bin) -> string:lowercase(binary_to_list(binary:encode_hex(Bin))).

%% What Plug.Crypto's decode (binary_to_term(Payload, [:safe])) answers.
erlang_opens(Payload) ->
    try binary_to_term(Payload, [safe]) of
        {_, _, _} -> "ok";
        _ -> "not-a-payload"
    catch error:badarg -> "badarg"
    end.

%% {Name, Elixir source, Term}: 40 terms from a few bytes (which Erlang
%% leaves uncompressed) to 100 KB of zeros, DateTimes as Elixir builds them.
compressed_terms() ->
    Zeros = [{"zeros/" ++ integer_to_list(N), "<<0::size(" ++ integer_to_list(N * 8) ++ ")>>", binary:copy(<<0>>, N)}
             || N <- [0, 1, 10, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000]],
    Text = [{"text/hello-x" ++ integer_to_list(N), "String.duplicate(\"hello \", " ++ integer_to_list(N) ++ ")",
             binary:copy(<<"hello ">>, N)} || N <- [1, 5, 20, 100, 1000]],
    At = 1764172800123456,
    Times = [{"datetime/list-" ++ integer_to_list(N),
              "for i <- 0.." ++ integer_to_list(N - 1) ++ ", do: DateTime.from_unix!(" ++ integer_to_list(At) ++ " + i * 60_000_000, :microsecond)",
              [datetime_from_unix(At + I * 60000000) || I <- lists:seq(0, N - 1)]} || N <- [1, 2, 5, 10, 50, 100]],
    Users = [{"map/users-" ++ integer_to_list(N),
              "for i <- 1.." ++ integer_to_list(N) ++ ", do: %{\"id\" => i, \"name\" => \"user-#{i}\", \"roles\" => [\"admin\", \"ops\"]}",
              [#{<<"id">> => I, <<"name">> => <<"user-", (integer_to_binary(I))/binary>>, <<"roles">> => [<<"admin">>, <<"ops">>]}
               || I <- lists:seq(1, N)]} || N <- [1, 10, 100]],
    Ints = [{"list/ints-" ++ integer_to_list(N), "Enum.to_list(1000..(999 + " ++ integer_to_list(N) ++ "))",
             lists:seq(1000, 999 + N)} || N <- [10, 100, 1000]],
    Other = [
        {"datetime/one", "DateTime.from_unix!(1764172800123456, :microsecond)", datetime_from_unix(At)},
        {"list/charlist", "String.duplicate(\"a\", 300) |> String.to_charlist()", lists:duplicate(300, $a)},
        {"list/atoms", "List.duplicate([:ok, :error, :pending], 100) |> List.flatten()",
         lists:append(lists:duplicate(100, [ok, error, pending]))},
        {"tuple/ok-zeros", "{:ok, <<0::size(40000)>>}", {ok, binary:copy(<<0>>, 5000)}},
        {"list/floats", "List.duplicate(1.5, 500)", lists:duplicate(500, 1.5)},
        {"list/big-ints", "List.duplicate(2 ** 100, 100)", lists:duplicate(100, 1 bsl 100)},
        {"binary/bytes-0-255-x100", "String.duplicate(:binary.list_to_bin(Enum.to_list(0..255)), 100)",
         binary:copy(list_to_binary(lists:seq(0, 255)), 100)},
        {"map/settings-50", "Map.new(1..50, &{:\"key_#{&1}\", &1})",
         maps:from_list([{list_to_atom("key_" ++ integer_to_list(I)), I} || I <- lists:seq(1, 50)])},
        {"map/launcher", "%{app: \"livebook-quiet-river\", log: List.duplicate(\"machine started\", 40), step: 4, done: false, at: DateTime}",
         #{app => <<"livebook-quiet-river">>, log => lists:duplicate(40, <<"machine started">>), step => 4, done => false,
           at => datetime_from_unix(At)}}
    ],
    Zeros ++ Text ++ Times ++ Users ++ Ints ++ Other.

%% {Name, what it is, Payload}: payloads with a defect or beyond sealkit's
%% cap, signed and encrypted with the real key, so only their content is
%% hostile. "erlang" in the JSON says what binary_to_term makes of each.
hostile_payloads() ->
    Payload = fun(Data) -> term_to_binary({Data, ?NOW - 1000, 3600}) end,
    <<131, Term/binary>> = Payload(binary:copy(<<"z">>, 5000)),
    Stream = zlib:compress(Term),
    Size = byte_size(Term),
    C = fun(Declared, S) -> <<131, 80, Declared:32, S/binary>> end,
    Honest16 = term_to_binary({binary:copy(<<0>>, 16 bsl 20), ?NOW - 1000, 3600}, [{compressed, 9}]),
    Honest48 = term_to_binary({binary:copy(<<0>>, 48 bsl 20), ?NOW - 1000, 3600}, [{compressed, 9}]),
    <<131, 80, _:32, Stream16/binary>> = Honest16,
    <<131, 80, Inner/binary>> = term_to_binary({binary:copy(<<"y">>, 3000), ?NOW - 1000, 3600}, [compressed]),
    LocalTuple = <<104, 3, 121, 16#12345678:32, 97, 1, 98, (?NOW - 1000):32/signed, 98, 3600:32>>,
    NestedData = <<131, 104, 3, 80, (byte_size(Term)):32, Stream/binary, 98, (?NOW - 1000):32/signed, 98, 3600:32>>,
    [
        {"declared-size-one-short", "the size field says one byte less than the term", C(Size - 1, Stream)},
        {"declared-size-one-long", "the size field says one byte more than the term", C(Size + 1, Stream)},
        {"declared-size-zero", "the size field says 0", C(0, Stream)},
        {"bomb-declaring-1gib", "16 MiB of zeros at level 9, declaring 1 GiB", C(1 bsl 30, Stream16)},
        {"bomb-declaring-1mib", "16 MiB of zeros at level 9, declaring 1 MiB", C(1 bsl 20, Stream16)},
        {"honest-16mib", "term_to_binary({<<0::size(16 MiB)>>, signed_at, 3600}, [compressed: 9])", Honest16},
        {"honest-48mib", "term_to_binary({<<0::size(48 MiB)>>, signed_at, 3600}, [compressed: 9])", Honest48},
        {"truncated-stream", "the zlib stream cut in half", C(Size, binary:part(Stream, 0, byte_size(Stream) div 2))},
        {"stream-without-checksum", "the zlib stream without its Adler-32", C(Size, binary:part(Stream, 0, byte_size(Stream) - 4))},
        {"garbage-stream", "random bytes for a zlib stream", C(Size, crypto:strong_rand_bytes(64))},
        {"bytes-after-stream", "four bytes after a valid zlib stream", C(Size, <<Stream/binary, "junk">>)},
        {"compressed-inside-compressed", "a compressed payload compressed again", C(byte_size(Inner) + 1, zlib:compress(<<80, Inner/binary>>))},
        {"compressed-as-data", "a tuple whose data element is a compressed term (tag 80)", NestedData},
        {"local-at-top", "a hand-made LOCAL_EXT term (tag 121; OTP 25 cannot write one)", <<131, 121, 16#12345678:32, 104, 3, 97, 1, 97, 2, 97, 3>>},
        {"local-as-data", "a tuple whose data element is a hand-made LOCAL_EXT term", <<131, LocalTuple/binary>>},
        {"local-inside-compressed", "a compressed payload whose data is a hand-made LOCAL_EXT term",
         C(byte_size(LocalTuple), zlib:compress(LocalTuple))}
    ].

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
%% KEYBASE and SALT are hex. Prints "ok N" or "fail N REASON" per line.
-mode(compile).

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
        Plain ->
            Want = binary_to_term(binary:decode_hex(DataHex)),
            case binary_to_term(Plain, [safe]) of
                {Want, SignedAt, MaxAge} when is_integer(SignedAt), (is_integer(MaxAge) orelse MaxAge =:= infinity) -> ok;
                {Want, SignedAt} when is_integer(SignedAt) -> ok; % Phoenix < 1.4 payloads
                Got -> {fail, {payload, Got}}
            end
    end.

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

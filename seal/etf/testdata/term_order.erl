%% Regenerates term-order.json (Erlang/OTP 25+):
%%   erlc term_order.erl && erl -noshell -s term_order main > term-order.json && rm term_order.beam
-module(term_order).
-export([main/0]).
main() ->
  Cases = [
    {"mixed scalar keys", "#{<<\"b\">> => 1, b => 2, 1 => 3, 1.0 => 4, [] => 5, {} => 6, #{} => 7, \"x\" => 8}"},
    {"integers before floats", "#{2 => a, 1.5 => b, -1 => c, 0.5 => d, 100000000000000000000 => e, -3.0 => f}"},
    {"atoms by utf8 text", "#{'é' => 1, z => 2, 'ā' => 3, ab => 4, a => 5, 'Ω' => 6, 'ÿ' => 7, 'ÿa' => 8}"},
    {"binaries bytewise prefix first", "#{<<\"ab\">> => 1, <<\"a\">> => 2, <<>> => 3, <<\"b\">> => 4, <<255>> => 5, <<1:3>> => 6, <<0:1>> => 7}"},
    {"tuples by size then elements", "#{{2} => a, {1.0} => b, {1, 2} => c, {0, 9} => d, {} => e, {a} => f}"},
    {"lists and tails", "#{[1] => a, [1|2] => b, [1|a] => c, [1|<<>>] => d, [1,2] => e, [1|{}] => f, \"ab\" => g, [] => h, [300] => i}"},
    {"maps by size then keys then values", "#{#{a => 2} => 1, #{a => 1} => 2, #{b => 0} => 3, #{a => 1, b => 1} => 4, #{} => 5}"},
    {"nested map values", "#{user => #{id => 7, roles => [admin, dev]}, settings => #{<<\"theme\">> => <<\"dark\">>}}"},
    {"big integers", "#{-100000000000000000000 => a, 100000000000000000000 => b, 4294967296 => c, -2147483649 => d}"}
  ],
  Lines = [begin
     {ok, Toks, _} = erl_scan:string(Src ++ "."),
     {ok, [Expr]} = erl_parse:parse_exprs(Toks),
     {value, T, _} = erl_eval:expr(Expr, []),
     io_lib:format("{\"name\": \"~s\", \"erlang\": \"~ts\", \"etf_hex\": \"~s\"}", [Name, escape(Src), string:lowercase(binary_to_list(binary:encode_hex(term_to_binary(T, [{minor_version, 2}]))))])
   end || {Name, Src} <- Cases],
  io:setopts([{encoding, unicode}]), io:format("[~n~ts~n]~n", [lists:join(",\n", Lines)]),
  halt().
escape(S) -> lists:flatten([case C of $" -> "\\\""; _ -> [C] end || C <- S]).

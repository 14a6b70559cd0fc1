#!/usr/bin/env python3
"""Writes canonical.json: the expected C(d) of the Go tests, made by Python.

Each case is {"name", "input", "want"}: input is JSON text (or, with "float",
the text of a float handed to Canonical as a Go float64), want is
json.dumps(json.loads(input), sort_keys=True). Run from this folder:
    python3 gen_canonical.py > canonical.json
"""
import json
import sys

CASES = [
    # unicode
    ("bmp literal", '"h\u00e9llo w\u00f6rld \u20ac \u4e2d\u6587"'),
    ("bmp escaped", '"\\u00e9\\u20AC"'),
    ("astral literal", '"\U0001F600 \U00010000 \U0010FFFF"'),
    ("astral escaped pair", '"\\ud83d\\ude00"'),
    ("lone high surrogate", '"\\ud800"'),
    ("lone low surrogate", '"x\\udc00y"'),
    ("high then non-low escape", '"\\ud800\\u0041"'),
    ("low then high", '"\\udc00\\ud800"'),
    ("control escapes", '"\\u0000\\u0001\\u001f\\b\\f\\n\\r\\t\\"\\\\\\/"'),
    ("del and c1", '"\x7f\\u007f\u0080\u009f"'),
    ("line separators", '"\u2028\u2029\ufeff"'),
    ("noncharacters", '"\\uffff\\ufffe\ufffd"'),
    ("html chars", '"<a href=\'x\'>&amp;</a>"'),
    # floats
    ("1.0", "1.0"),
    ("0.1", "0.1"),
    ("1e16", "1e16"),
    ("1E16", "1E16"),
    ("1e15", "1e15"),
    ("9999999999999998.0", "9999999999999998.0"),
    ("1e-5", "1e-5"),
    ("0.0001", "0.0001"),
    ("0.00012345", "0.00012345"),
    ("123456789.123", "123456789.123"),
    ("-0.0", "-0.0"),
    ("0.0", "0.0"),
    ("0e0", "0e0"),
    ("-0e5", "-0E5"),
    ("5e-324", "5e-324"),
    ("min normal", "2.2250738585072014e-308"),
    ("max float", "1.7976931348623157e308"),
    ("overflow", "1e400"),
    ("negative overflow", "-1e400"),
    ("underflow", "1e-400"),
    ("0.1+0.2", "0.30000000000000004"),
    ("many digits", "1.23456789012345678901234567890"),
    ("1e+2", "1e+2"),
    ("1.0e0", "1.0e0"),
    ("100.0", "100.0"),
    ("1e22", "1e22"),
    ("1e21", "1E+21"),
    ("-1.5e-7", "-1.5e-7"),
    ("2.5", "2.5"),
    ("1.5e300", "1.5e300"),
    ("123e-2", "123e-2"),
    ("float time", "1718000000.1234567"),
    ("NaN", "NaN"),
    ("Infinity", "Infinity"),
    ("-Infinity", "-Infinity"),
    # ints
    ("0", "0"),
    ("-0", "-0"),
    ("int 42", "42"),
    ("2**53+1", "9007199254740993"),
    ("2**64", "18446744073709551616"),
    ("2**70", str(2 ** 70)),
    ("-2**70", str(-(2 ** 70))),
    ("huge int", str(7 ** 300)),
    # literals and containers
    ("true", "true"),
    ("false", "false"),
    ("null", "null"),
    ("empty object", "{}"),
    ("empty array", "[]"),
    ("empty string", '""'),
    ("empty key", '{"": []}'),
    ("spaces", ' \t\n\r{ "a" :\n[ 1 ,2\t] , "b":{ } } '),
    ("nesting", '{"b": [1, {"z": null, "a": [true, false, [], {}]}], "a": {"y": {"x": [[[1.5]]]}}}'),
    ("key sorting", '{"b": 1, "a": 2, "B": 3, "_x": 4, "\u00e9": 5, "z": 6, "\u20ac": 7, '
                    '"\U0001F600": 8, "\uffff": 9, "\uff5a": 10, "aa": 11, "a ": 12, "A": 13}'),
    ("surrogate keys", '{"\\ue000": 1, "\\ud800": 2, "\\ud83d\\ude00": 3, "\\uffff": 4}'),
    ("duplicate keys", '{"a": 1, "b": 2, "a": 3}'),
    ("mixed array", '[1, 1.0, "1", true, null, -0, -0.0, 1e400, {"k": [2 ,3]}]'),
    ("message", '{"_type": "message", "message": {"text": "h\u00e9", "n": 1.5, "big": 1180591620717411303424}, '
                '"_mcs": 3, "_mcr": 0, "_id": "abc", "_timestamp": 1718000000.123456}'),
]

# Go float64 values given straight to Canonical.
FLOATS = ["1.0", "0.1", "1e16", "1e-5", "123456789.123", "-0.0", "5e-324",
          "1.7976931348623157e308", "1e15", "0.0001", "1e-4", "12345678901234567.0",
          "3.141592653589793", "1e100", "-2.5e-10", "1718000000.123456"]

out = []
for name, text in CASES:
    out.append({"name": name, "input": text, "want": json.dumps(json.loads(text), sort_keys=True)})
for text in FLOATS:
    out.append({"name": "go float64 " + text, "float": text, "want": json.dumps(float(text), sort_keys=True)})
json.dump(out, sys.stdout, indent=1, ensure_ascii=False)
sys.stdout.write("\n")

import assert from "node:assert/strict";
import { test } from "node:test";
import { formatGoFloat, parseGoBool, parseGoFloat, parseGoInt64, parseGoUint64, scalarFromPlaintext, scalarText } from "./go-format.ts";
import { normalizeRfc3339, normalizeTimeText, parseYamlTimestamp } from "./go-time.ts";

test("floats are written like strconv.FormatFloat(f, 'f', -1, 64): shortest digits, never an exponent", () => {
  assert.equal(formatGoFloat(1.5), "1.5");
  assert.equal(formatGoFloat(1), "1");
  assert.equal(formatGoFloat(0.1 + 0.2), "0.30000000000000004");
  assert.equal(formatGoFloat(1e21), "1000000000000000000000");
  assert.equal(formatGoFloat(1.5e-7), "0.00000015");
  assert.equal(formatGoFloat(-2.5e22), "-25000000000000000000000");
  assert.equal(formatGoFloat(-0), "-0");
  assert.equal(formatGoFloat(Infinity), "+Inf");
  assert.equal(formatGoFloat(-Infinity), "-Inf");
  assert.equal(formatGoFloat(NaN), "NaN");
});

test("integers are 64-bit, with Go's base prefixes when the base comes from the text", () => {
  assert.equal(parseGoInt64("9223372036854775807", 10), 9223372036854775807n);
  assert.equal(parseGoInt64("9223372036854775808", 10), undefined);
  assert.equal(parseGoInt64("-9223372036854775808", 10), -9223372036854775808n);
  assert.equal(parseGoInt64("+12", 10), 12n);
  assert.equal(parseGoInt64("012", 0), 10n);
  assert.equal(parseGoInt64("0x1F", 0), 31n);
  assert.equal(parseGoInt64("-0b101", 0), -5n);
  assert.equal(parseGoInt64("0o17", 0), 15n);
  assert.equal(parseGoInt64("08", 0), undefined);
  assert.equal(parseGoInt64("0x1F", 10), undefined);
  assert.equal(parseGoUint64("18446744073709551615"), 18446744073709551615n);
  assert.equal(parseGoUint64("-1"), undefined);
});

test("booleans and floats parse like strconv", () => {
  assert.equal(parseGoBool("True"), true);
  assert.equal(parseGoBool("t"), true);
  assert.equal(parseGoBool("FALSE"), false);
  assert.equal(parseGoBool("yes"), undefined);
  assert.equal(parseGoFloat("1e3"), 1000);
  assert.equal(parseGoFloat("+Inf"), Infinity);
  assert.equal(parseGoFloat("1e400"), undefined, "overflow is an error in Go");
  assert.equal(parseGoFloat("0x10"), undefined);
  assert.equal(parseGoFloat(" 1"), undefined);
});

test("scalars hash as sops's ToBytes: True/False, decimal integers, unpadded floats", () => {
  assert.equal(scalarText({ type: "bool", value: true }), "True");
  assert.equal(scalarText({ type: "bool", value: false }), "False");
  assert.equal(scalarText({ type: "int", value: 12345678901234567890n - 10000000000000000000n }), "2345678901234567890");
  assert.equal(scalarText({ type: "float", value: 2.0 }), "2");
});

test("decrypted plaintext becomes the typed value it was, or nothing when invalid", () => {
  const bytes = (text: string) => Buffer.from(text, "utf8");
  assert.deepEqual(scalarFromPlaintext("int", bytes("-42")), { type: "int", value: -42n });
  assert.deepEqual(scalarFromPlaintext("bool", bytes("True")), { type: "bool", value: true });
  assert.deepEqual(scalarFromPlaintext("float", bytes("0.5")), { type: "float", value: 0.5 });
  assert.deepEqual(scalarFromPlaintext("time", bytes("2024-01-02T03:04:05.100Z")), { type: "time", value: "2024-01-02T03:04:05.1Z" });
  assert.equal(scalarFromPlaintext("int", bytes("4.5")), undefined);
  assert.equal(scalarFromPlaintext("nonsense", bytes("x")), undefined);
  assert.equal(scalarFromPlaintext("str", Buffer.from([0xff, 0x00]))?.type, "bytes");
});

test("timestamps follow go-yaml's layouts and time.Time's text form", () => {
  assert.equal(parseYamlTimestamp("2024-01-01"), "2024-01-01T00:00:00Z");
  assert.equal(parseYamlTimestamp("2024-1-2"), "2024-01-02T00:00:00Z");
  assert.equal(parseYamlTimestamp("2001-12-14t21:59:43.10-05:00"), "2001-12-14T21:59:43.1-05:00");
  assert.equal(parseYamlTimestamp("2001-12-14 21:59:43.10"), "2001-12-14T21:59:43.1Z");
  assert.equal(parseYamlTimestamp("2024-01-01T10:00:00"), undefined, "no zone and a T: not a timestamp");
  assert.equal(parseYamlTimestamp("2024-02-30"), undefined);
  assert.equal(parseYamlTimestamp("12024-01-01"), undefined);
  assert.equal(normalizeRfc3339("2024-05-06T07:08:09.123+00:00"), "2024-05-06T07:08:09Z");
  assert.equal(normalizeRfc3339("2024-05-06T07:08:09+02:00"), "2024-05-06T07:08:09+02:00");
  assert.equal(normalizeTimeText("2024-05-06T07:08:09.1200Z"), "2024-05-06T07:08:09.12Z");
  assert.equal(normalizeRfc3339("yesterday"), undefined);
});

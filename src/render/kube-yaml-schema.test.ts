import assert from "node:assert/strict";
import { test } from "node:test";
import { resolveGoYamlNumber } from "./kube-yaml-schema.ts";

// Expected values are what kubectl 1.34 (`kubectl patch --local -o json`) printed for each
// plain scalar; test/render-yaml-compat.test.ts re-checks a fixture against kubectl itself.
const KUBECTL: [string, number | string][] = [
  ["012", 10],
  ["-012", -10],
  ["0777", 511],
  ["0o12", 10],
  ["0O12", 10],
  ["+0o12", 10],
  ["0x1A", 26],
  ["0X1A", 26],
  ["-0x1A", -26],
  ["0b101", 5],
  ["-0b101", -5],
  ["0B101", 5],
  ["0b+101", 5],
  ["0b-101", -5],
  ["1_000", 1000],
  ["1__0", 10],
  ["1_", 1],
  ["0_", 0],
  ["0x_1", 1],
  ["0_x1", 1],
  ["+12", 12],
  ["-0", 0],
  ["00", 0],
  ["08", 8],
  ["0778", 778],
  ["0.5", 0.5],
  [".5", 0.5],
  [".5_0", 0.5],
  [".5e3", 500],
  ["1.", 1],
  ["1e3", 1000],
  ["1E3", 1000],
  ["1e+3", 1000],
  ["1_e3", 1000],
  ["1.5e-3", 0.0015],
  ["+.5", 0.5],
  ["-.5", -0.5],
  ["1_0.5", 10.5],
  ["0.1e1_0", 1_000_000_000],
  ["-0.0", 0],
  ["1e-400", 0],
  ["1e21", 1e21],
  // Beyond int64 kubectl sends float64, which rounds these to powers of two.
  ["9223372036854775808", 2 ** 63],
  ["18446744073709551615", 2 ** 64],
  ["0xffffffffffffffff", 2 ** 64],
  ["-9223372036854775809", -(2 ** 63)],
  ["12345678901234567890123", 1.2345678901234568e22],
  ["01777777777777777777777777", 1.7777777777777777e24],
  // Strings: no number syntax go-yaml v2 accepts, or out of every range.
  ["190:20:30", "190:20:30"],
  ["1:30", "1:30"],
  ["2024-01-01", "2024-01-01"],
  ["1.2.3", "1.2.3"],
  ["0x", "0x"],
  ["0b", "0b"],
  ["0o", "0o"],
  ["1e", "1e"],
  ["--1", "--1"],
  ["-0b-1", "-0b-1"],
  ["+", "+"],
  [".", "."],
  ["0x1.8p1", "0x1.8p1"],
  ["1e400", "1e400"],
  ["+0xffffffffffffffff", "+0xffffffffffffffff"],
  ["0x1ffffffffffffffff", "0x1ffffffffffffffff"],
];

test("plain scalars become the numbers kubectl sends, or stay strings", () => {
  for (const [source, expected] of KUBECTL) {
    assert.deepEqual(resolveGoYamlNumber(source), { value: expected }, source);
  }
});

test("integers JavaScript cannot hold exactly are refused, not rounded", () => {
  for (const source of ["9007199254740993", "9223372036854775807", "-9223372036854775808", "0x7fffffffffffffff"]) {
    const result = resolveGoYamlNumber(source);
    assert.ok("unrepresentable" in result, source);
    assert.match(result.unrepresentable, /cannot be held exactly/);
  }
  assert.deepEqual(resolveGoYamlNumber("9007199254740991"), { value: Number.MAX_SAFE_INTEGER });
});

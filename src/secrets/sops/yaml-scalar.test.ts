import assert from "node:assert/strict";
import { test } from "node:test";
import { resolveYamlScalar, yamlScalarText } from "./yaml-scalar.ts";

const INT = "tag:yaml.org,2002:int";

test("plain scalars get go-yaml v3's types (YAML 1.2 core plus its quirks)", () => {
  const plain = (text: string) => resolveYamlScalar(text, "PLAIN", undefined);
  assert.deepEqual(plain("true"), { type: "bool", value: true });
  assert.deepEqual(plain("yes"), { type: "str", value: "yes" }, "yes is a string in YAML 1.2");
  assert.deepEqual(plain("on"), { type: "str", value: "on" });
  assert.deepEqual(plain("~"), { type: "null" });
  assert.deepEqual(plain(""), { type: "null" });
  assert.deepEqual(plain("012"), { type: "int", value: 10n }, "leading zero is octal, as in go-yaml");
  assert.deepEqual(plain("08"), { type: "float", value: 8 }, "not octal, so go-yaml falls back to a float");
  assert.deepEqual(plain("1_000"), { type: "int", value: 1000n });
  assert.deepEqual(plain("0x1f"), { type: "int", value: 31n });
  assert.deepEqual(plain("1e3"), { type: "float", value: 1000 });
  assert.deepEqual(plain(".5"), { type: "float", value: 0.5 });
  assert.deepEqual(plain("-.inf"), { type: "float", value: -Infinity });
  assert.deepEqual(plain("2024-01-01"), { type: "time", value: "2024-01-01T00:00:00Z" });
  assert.deepEqual(plain("1.2.3"), { type: "str", value: "1.2.3" });
  assert.deepEqual(plain("<<"), { type: "str", value: "<<" });
  assert.throws(() => plain("18446744073709551615"), /not supported by sops/);
});

test("quoted and block scalars are strings unless explicitly tagged", () => {
  assert.deepEqual(resolveYamlScalar("12", "QUOTE_DOUBLE", undefined), { type: "str", value: "12" });
  assert.deepEqual(resolveYamlScalar("true", "QUOTE_SINGLE", "!"), { type: "str", value: "true" });
  assert.deepEqual(resolveYamlScalar("12", "QUOTE_DOUBLE", INT), { type: "int", value: 12n });
  assert.deepEqual(resolveYamlScalar("12", "PLAIN", "tag:yaml.org,2002:str"), { type: "str", value: "12" });
  assert.deepEqual(resolveYamlScalar("12", "PLAIN", "!custom"), { type: "str", value: "12" });
  assert.deepEqual(resolveYamlScalar("1", "PLAIN", "tag:yaml.org,2002:float"), { type: "float", value: 1 });
  assert.deepEqual(resolveYamlScalar("aGk=", "PLAIN", "tag:yaml.org,2002:binary"), { type: "str", value: "hi" });
  assert.throws(() => resolveYamlScalar("abc", "PLAIN", INT), /cannot decode/);
});

test("non-string scalars are written so they read back as the same type", () => {
  assert.equal(yamlScalarText({ type: "float", value: 1 }), "1.0");
  assert.equal(yamlScalarText({ type: "float", value: NaN }), ".nan");
  assert.equal(yamlScalarText({ type: "int", value: -3n }), "-3");
  assert.equal(yamlScalarText({ type: "bool", value: false }), "false");
});

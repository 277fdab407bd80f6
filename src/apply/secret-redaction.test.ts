import assert from "node:assert/strict";
import { test } from "node:test";
import type { KubeObject } from "../model/object.ts";
import { redactSecretValues } from "./secret-redaction.ts";

const secret = (fields: Record<string, unknown>): KubeObject => ({ apiVersion: "v1", kind: "Secret", metadata: { name: "db" }, ...fields });

test("a typed-patch error that dumps a Secret's value shows none of it", () => {
  const message = 'failed to create typed patch object (ns/db; /v1, Kind=Secret): errors:\n  .stringData.other: expected string, got &value.valueUnstructured{Value:[]interface {}{"hunter2-Sesame"}}';
  const redacted = redactSecretValues(message, secret({ stringData: { other: ["hunter2-Sesame"] } }));
  assert.doesNotMatch(redacted, /hunter2/);
  assert.match(redacted, /\.stringData\.other: expected string, got \*\*\* \(value not shown\)/);
});

test("values are masked as written, decoded from base64 and JSON-quoted; keys and short values stay", () => {
  const data = { password: Buffer.from('pa"ss-word').toString("base64") };
  const message = `data[password]: Invalid value: "${data.password}" (pa\\"ss-word, pa"ss-word); stringData[token]: tok-3n; key: ab`;
  const redacted = redactSecretValues(message, secret({ data, stringData: { token: "tok-3n", short: "ab" } }));
  assert.equal(redacted, 'data[password]: Invalid value: "***" (***, ***); stringData[token]: ***; key: ab');
});

test("other kinds are left alone", () => {
  const configMap: KubeObject = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c" }, data: { mode: "fast-mode" } };
  assert.equal(redactSecretValues("mode fast-mode &value.valueUnstructured{x}", configMap), "mode fast-mode &value.valueUnstructured{x}");
});

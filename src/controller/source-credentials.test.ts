import assert from "node:assert/strict";
import { test } from "node:test";
import { gitAuthFromSecret } from "./source-credentials.ts";

const b64 = (text: string) => Buffer.from(text).toString("base64");

test("reads Flux's key names for each kind of credential", () => {
  assert.deepEqual(gitAuthFromSecret({ data: { username: b64("bot"), password: b64("pw") } }, "s"), { kind: "basic", username: "bot", password: "pw" });
  assert.deepEqual(gitAuthFromSecret({ data: { bearerToken: b64("tok") } }, "s"), { kind: "token", token: "tok" });
  assert.deepEqual(gitAuthFromSecret({ data: { identity: b64("KEY"), known_hosts: b64("host ssh-ed25519 AAAA") } }, "s"), {
    kind: "ssh",
    privateKey: "KEY",
    knownHosts: "host ssh-ed25519 AAAA",
  });
});

test("an incomplete Secret is a clear error that never echoes a value", () => {
  assert.throws(() => gitAuthFromSecret({ data: { identity: b64("PRIVATE-KEY-MATERIAL") } }, "apps/git"), (error: Error) => {
    assert.match(error.message, /apps\/git has an SSH identity but no known_hosts/);
    assert.ok(!error.message.includes("PRIVATE-KEY-MATERIAL"));
    return true;
  });
  assert.throws(() => gitAuthFromSecret({ data: { password: b64("lonely") } }, "apps/git"), /none of username\+password, bearerToken, or identity\+known_hosts/);
});

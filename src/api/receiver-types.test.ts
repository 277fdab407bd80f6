import assert from "node:assert/strict";
import { test } from "node:test";
import { receiverWebhookPath } from "./receiver-types.ts";

test("a Receiver's path is Flux's: /hook/ + hex SHA-256 of token, name and namespace, concatenated", () => {
  // printf '%s' 'my-tokenflux-systemflux-system' | sha256sum
  assert.equal(receiverWebhookPath("my-token", "flux-system", "flux-system"), "/hook/4ef4b72cb677ea927a71b804cb7eb0620480bc590cd1d6667dfa7de59b8916bb");
  // printf '%s' 'tokenwebapp-team-a' | sha256sum: no separator between the three.
  assert.equal(receiverWebhookPath("token", "webapp", "-team-a"), "/hook/80b3629a4d29c75eee63560cabf87cc1992705b114f1b042d1ffc6a0b9f87097");
  assert.notEqual(receiverWebhookPath("rotated", "flux-system", "flux-system"), receiverWebhookPath("my-token", "flux-system", "flux-system"));
});

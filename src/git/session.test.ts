import assert from "node:assert/strict";
import { test } from "node:test";
import { GitSourceError } from "./errors.ts";
import { GitSession, remoteTarget, type SessionVoice } from "./session.ts";

const voice: SessionVoice<GitSourceError> = { what: 'branch "main"', error: (code, message) => new GitSourceError(code, message) };

test("a URL's credentials are taken out of it, and URLs the caller may not use come back as a problem", () => {
  assert.deepEqual(remoteTarget("https://bob:pw-123456@git.example/r.git", false), { url: "https://git.example/r.git", credentials: { username: "bob", password: "pw-123456" } });
  assert.equal(remoteTarget("-uhttps://x", true).problem?.code, "unreachable");
  assert.equal(remoteTarget("file:///srv/other-team.git", false).problem?.code, "unsupported-url");
  assert.equal(remoteTarget("ext::sh -c id", false).problem?.code, "unsupported-url");
  assert.equal(remoteTarget("file:///srv/mine.git", true).problem, undefined);
});

test("every message is redacted: the password, the Authorization header it becomes, and userinfo in any URL", async () => {
  const password = "pw-never-shown-42";
  const header = Buffer.from(`bob:${password}`).toString("base64");
  await GitSession.use(remoteTarget(`https://bob:${password}@git.example/r.git`, false), { timeoutMs: 10_000 }, voice, (session) => {
    const direct = session.error("git-failed", `said ${password} and ${header} to https://bob:${password}@git.example/r.git`);
    assert.equal(direct.message, "said *** and *** to https://***@git.example/r.git");
    const failed = session.failure({ code: 128, stderr: `fatal: unable to access 'https://bob:${password}@git.example/r.git/': The requested URL returned error: 403\n` }, "fetching");
    assert.equal(failed.code, "auth-failed");
    assert.ok(failed.message.startsWith('authentication failed for https://git.example/r.git (branch "main"): '), failed.message);
    assert.ok(!failed.message.includes(password) && !failed.message.includes(header), failed.message);
    return Promise.resolve();
  });
});

test("a fired signal refuses every further command with a cancellation, naming what was asked", async () => {
  const abort = new AbortController();
  abort.abort();
  await GitSession.use(remoteTarget("https://git.example/r.git", false), { timeoutMs: 10_000, signal: abort.signal }, voice, async (session) => {
    const error = await session.run(["--version"], "fetching").then(() => undefined, (caught: unknown) => caught);
    assert.ok(error instanceof GitSourceError);
    assert.equal(error.code, "aborted");
    assert.equal(error.message, 'fetching https://git.example/r.git (branch "main") was cancelled');
    assert.throws(() => session.throwIfAborted("pushing to"), /^GitSourceError: pushing to https:\/\/git\.example\/r\.git \(branch "main"\) was cancelled$/);
  });
});

test("a command past the session's deadline is a timeout naming the budget", async () => {
  await GitSession.use(remoteTarget("https://git.example/r.git", false), { timeoutMs: 100 }, voice, async (session) => {
    await new Promise((resolve) => setTimeout(resolve, 150));
    await assert.rejects(session.run(["--version"], "fetching"), (error: unknown) => error instanceof GitSourceError && error.code === "timeout" && error.message === 'timed out after 0.1s fetching https://git.example/r.git (branch "main")');
  });
});

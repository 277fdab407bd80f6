import assert from "node:assert/strict";
import { test } from "node:test";
import { compileIgnorePatterns } from "../render/ignore-patterns.ts";
import { ignoredPaths } from "./tree.ts";

async function kept(files: string[], patterns: string[]): Promise<string[]> {
  const ignored = new Set(await ignoredPaths(files, compileIgnorePatterns(patterns)));
  return files.filter((_, index) => !ignored.has(index));
}

test("gitignore lines leave out files and whole directories, at any depth unless anchored", async () => {
  const files = ["a.yaml", "b.tmpl", "secret-stuff/k.yaml", "x/secret-stuff/k.yaml", "x/secret-stuff.yaml", "x/y/c.tmpl", "root.yaml", "x/root.yaml"];
  assert.deepEqual(await kept(files, ["secret-stuff/", "*.tmpl", "/root.yaml"]), ["a.yaml", "x/secret-stuff.yaml", "x/root.yaml"]);
  assert.deepEqual(await kept(files, []), files);
  assert.deepEqual(await kept(files, ["# a comment", "", "   "]), files);
});

test("Flux's idiom: everything but one directory", async () => {
  assert.deepEqual(await kept(["README.md", "src/main.go", "deploy/app.yaml", "deploy/sub/b.yaml"], ["/*", "!/deploy/"]), ["deploy/app.yaml", "deploy/sub/b.yaml"]);
});

test("as in git, a file below an ignored directory cannot be taken back", async () => {
  assert.deepEqual(await kept(["secret/keep.yaml", "secret/drop.yaml", "open.yaml"], ["secret/", "!secret/keep.yaml"]), ["open.yaml"]);
  // A file ignored by name can be.
  assert.deepEqual(await kept(["a/keep.yaml", "a/drop.yaml"], ["*.yaml", "!keep.yaml"]), ["a/keep.yaml"]);
});

test("each directory is judged once, however many files it holds", async () => {
  const asked: string[] = [];
  const files = Array.from({ length: 100 }, (_, index) => `big/dir/f${index}.yaml`);
  await ignoredPaths(files, { ignores: (path, isDirectory) => (isDirectory && asked.push(path), path === "big/dir") });
  assert.deepEqual(asked, ["big", "big/dir"]);
});

test("attack: a tree of many files and a slow filter do not hold the event loop until matching ends", async () => {
  const files = Array.from({ length: 400 }, (_, index) => `f${index}.yaml`);
  const spin = (ms: number) => {
    const until = performance.now() + ms;
    while (performance.now() < until);
  };
  let turns = 0;
  let matching = true;
  const turn = () => {
    turns += 1;
    if (matching) setImmediate(turn);
  };
  setImmediate(turn);
  // 400 x 0.1 ms: at least 40 ms of matching, handed back to the event loop every 10 ms or so.
  await ignoredPaths(files, { ignores: () => (spin(0.1), false) });
  matching = false;
  assert.ok(turns >= 3, `other work ran only ${turns} times while matching`);
});

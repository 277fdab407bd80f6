#!/usr/bin/env node
// Runs the compiled CLI (npm run build, done by `npm ci` through the prepare script).
await import("../dist/cli/main.js");

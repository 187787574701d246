#!/usr/bin/env node
// microship is TypeScript run by Node's type stripping, unflagged since Node 22.18 and 23.6.
const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 18) || major === 23) {
  console.error(`microship needs Node 24 (or 22.18+); this is Node ${process.versions.node}.`);
  process.exit(1);
}
await import("../src/cli/main.ts");

#!/usr/bin/env node
/**
 * The `bento` executable: runs the CLI on this process's arguments and exits with its code (or,
 * started by `bento run --rm -d`, removes its container once it exited).
 */
import { runCli } from "./cli.js";
import { containerToRemove, removeWhenExited } from "./remove-when-exited.js";

const removing = containerToRemove();
const code = removing === undefined ? await runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr }) : await removeWhenExited(removing);
// Exit explicitly: exit hooks tear down what a command started, and nothing else is waited for.
// Wait for stdout and stderr to take the last writes first (they may be pipes).
await Promise.all([process.stdout, process.stderr].map((s) => new Promise<void>((resolve) => s.write("", () => resolve()))));
process.exit(code);

/**
 * RUN: the argv a step runs (shell form through the image's SHELL, heredocs as BuildKit runs them)
 * and the clean-up of its upper directory before it becomes a layer: the runtime creates mount
 * points (`/proc`, `/dev`, `/sys`, `/etc/hosts`, ...) in the root file system when the image lacks
 * them, and those empty stubs are not the step's changes (BuildKit's `MountStubsCleaner` does
 * the same).
 */
import { lstatSync, readdirSync, rmdirSync, rmSync, type Stats } from "node:fs";
import path from "node:path";
import { commandArgv, DEFAULT_SHELL } from "../image/config.js";
import type { Heredoc, RunStep } from "../image/plan.js";
import { heredocBody } from "../image/step-expansion.js";
import type { LayeredView } from "./layered-view.js";
import { hasOpaqueXattr } from "../store/overlay-markers.js";

/**
 * The paths the runtime mounts over in every container (src/runtime/container-plan.ts), relative
 * to the root. Each is created as an empty directory or file when the image lacks it.
 */
export const RUNTIME_MOUNT_STUBS: readonly string[] = Object.freeze(["proc", "dev", "sys", "etc/hosts", "etc/hostname", "etc/resolv.conf"]);

// A command that is a single heredoc and nothing else: `RUN <<EOF`.
const LONE_HEREDOC = /^\s*\d*<<-?(["']?)([^\s"']+)\1\s*$/;

/**
 * The argv of a RUN step, as BuildKit's dockerfile2llb builds it: exec form as written; shell
 * form appended to the SHELL. With heredocs, `RUN <<EOF` runs the body through the shell (or, when
 * the body starts with `#!`, as a script file: it is written under /dev/pipes, a tmpfs outside the
 * layer, by /bin/sh), and any other command gets the heredoc bodies appended for the shell to read.
 *
 * @example
 * ```ts
 * runArgv({ kind: "run", command: { form: "shell", text: "make" } }, undefined); // ["/bin/sh", "-c", "make"]
 * ```
 */
export function runArgv(step: RunStep, shell: readonly string[] | undefined): string[] {
  const heredocs = step.heredocs ?? [];
  if (step.command.form === "exec" || heredocs.length === 0) return commandArgv(step.command, shell);
  const text = step.command.text;
  const lone = LONE_HEREDOC.exec(text);
  const first = heredocs[0] as Heredoc;
  if (lone !== null && heredocs.length === 1 && lone[2] === first.name) {
    const body = heredocBody(first);
    if (body.startsWith("#!")) {
      const script = 'mkdir -p /dev/pipes && printf "%s" "$2" > "/dev/pipes/$1" && chmod 755 "/dev/pipes/$1" && exec "/dev/pipes/$1"';
      return ["/bin/sh", "-c", script, "sh", first.name, body];
    }
    return [...(shell ?? DEFAULT_SHELL), body];
  }
  let full = text;
  for (const doc of heredocs) full += `\n${doc.content}${doc.name}`;
  return [...(shell ?? DEFAULT_SHELL), full];
}

function lstatOrUndefined(p: string): Stats | undefined {
  try {
    return lstatSync(p);
  } catch {
    return undefined;
  }
}

/**
 * Removes from an overlay upper directory the mount stubs the runtime created (paths in `stubs`
 * the image did not have, still empty), then the directories that only held them. Returns true
 * when the upper directory is empty afterwards (the step changed nothing).
 *
 * @example
 * ```ts
 * const empty = removeMountStubs(result.upperDir, new LayeredView(lowerDirs));
 * ```
 */
export function removeMountStubs(upperDir: string, view: LayeredView, stubs: readonly string[] = RUNTIME_MOUNT_STUBS): boolean {
  for (const stub of stubs) {
    const rel = stub.replace(/^\/+/, "");
    if (rel === "" || view.lookup(rel) !== undefined) continue;
    const host = path.join(upperDir, rel);
    const stat = lstatOrUndefined(host);
    if (stat === undefined) continue;
    const empty = stat.isDirectory() ? readdirSync(host).length === 0 && !hasOpaqueXattr(host) : stat.isFile() && stat.size === 0;
    if (!empty) continue;
    if (stat.isDirectory()) rmdirSync(host);
    else rmSync(host, { force: true });
    // Parents that exist only because of the stub, or that were copied up only to hold it.
    for (let dir = path.posix.dirname(rel); dir !== "." && dir !== ""; dir = path.posix.dirname(dir)) {
      const hostDir = path.join(upperDir, dir);
      const dirStat = lstatOrUndefined(hostDir);
      if (dirStat === undefined || !dirStat.isDirectory() || readdirSync(hostDir).length > 0 || hasOpaqueXattr(hostDir)) break;
      const lower = view.lookup(dir);
      if (lower !== undefined && (!lower.stat.isDirectory() || (lower.stat.mode & 0o7777) !== (dirStat.mode & 0o7777) || lower.stat.uid !== dirStat.uid || lower.stat.gid !== dirStat.gid)) break;
      rmdirSync(hostDir);
    }
  }
  return readdirSync(upperDir).length === 0;
}

/**
 * The rootless rows: bento `run true`, bwrap and `podman run --rm`, each as the unprivileged
 * bench user (rootless-user.ts), next to root's rows in the same rounds. One long-lived child
 * (rootless-child.ts, started with runuser) holds the user's bento and answers one request per
 * sample over a pipe, timing each inside itself so runuser's cost is in no row.
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { BentoIds } from "./bento-subjects.js";
import { findExecutable } from "./host-tools.js";
import type { ChildReply, ChildRequest } from "./rootless-child.js";
import type { RootlessUser } from "./rootless-user.js";
import type { Sample, Subject } from "./subject.js";

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..");
const timedBy = "Node, in the user's process";

/** The child and the way to ask it for one sample. */
export interface RootlessChild {
  request: (request: ChildRequest) => Promise<Sample>;
  /** Closes its stdin, waits for it to exit, and ends podman's pause process if one was left. */
  close: () => Promise<void>;
}

/** The user's environment: store, state, podman's storage and temp files all in the user's directory. */
function userEnv(user: RootlessUser): string[] {
  const home = join(user.dir, "home");
  return [
    `PATH=${process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin"}`,
    `HOME=${home}`,
    `XDG_RUNTIME_DIR=${join(user.dir, "xdg-run")}`,
    `TMPDIR=${join(user.dir, "tmp")}`,
    `BENTO_HOME=${join(home, "bento")}`,
    `BENTO_RUNTIME_DIR=${join(user.dir, "run")}`,
  ];
}

/** Starts rootless-child.ts as the user; every container id it reports is added to `created`. */
export function startRootlessChild(user: RootlessUser, created: BentoIds): RootlessChild {
  const args = ["-u", user.name, "--", "env", ...userEnv(user), process.execPath, "--import", "tsx", join(repoRoot, "bench/rootless-child.ts"), user.rootfs];
  const child: ChildProcessWithoutNullStreams = spawn("runuser", args, { cwd: repoRoot, stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr = (stderr + chunk).slice(-2000)));
  const waiting: { resolve: (reply: ChildReply) => void; reject: (error: Error) => void }[] = [];
  const exited = new Promise<void>((resolve) =>
    child.on("close", (code, signal) => {
      const error = new Error(`rootless child ended (${code ?? signal})${stderr.trim() ? `: ${stderr.trim()}` : ""}`);
      for (const w of waiting.splice(0)) w.reject(error);
      resolve();
    }),
  );
  child.on("error", (error) => {
    for (const w of waiting.splice(0)) w.reject(error);
  });
  createInterface({ input: child.stdout }).on("line", (line) => waiting.shift()?.resolve(JSON.parse(line) as ChildReply));
  return {
    request: (request) =>
      new Promise<ChildReply>((resolve, reject) => {
        if (child.exitCode !== null || child.signalCode !== null) {
          reject(new Error(`rootless child ended${stderr.trim() ? `: ${stderr.trim()}` : ""}`));
          return;
        }
        waiting.push({ resolve, reject });
        child.stdin.write(`${JSON.stringify(request)}\n`);
      }).then((reply) => {
        created.ids.push(...reply.ids);
        if (!reply.ok) throw new Error(reply.error);
        return reply.sample;
      }),
    close: async () => {
      child.stdin.end();
      await exited;
      // Rootless podman keeps a pause process holding its user namespace; it outlives the child.
      try {
        process.kill(Number(readFileSync(join(user.dir, "xdg-run/libpod/tmp/pause.pid"), "utf8").trim()), "SIGKILL");
      } catch {
        // no podman row ran, or the pause process is gone already
      }
    },
  };
}

/** podman's arguments: storage in the user's directory, no network (as bento's and bwrap's rows), the user's rootfs copy. */
function podmanArgs(user: RootlessUser): string[] {
  const storage = join(user.dir, "podman");
  return ["--root", join(storage, "root"), "--runroot", join(storage, "run"), "--events-backend", "none", "run", "--rm", "--network", "none", "--rootfs", user.podmanRootfs, "/bin/true"];
}

/** The three rootless rows, or why they cannot run (not root: no other user to switch to). */
export function rootlessSubjects(setup: { child: RootlessChild; user: RootlessUser } | { unavailable: string }): Subject[] {
  const user = "user" in setup ? setup.user : undefined;
  const bwrap = findExecutable("bwrap");
  const podman = findExecutable("podman");
  const rows: { key: string; label: string; request?: ChildRequest; missing?: string }[] = [
    { key: "bento-rootless", label: "bento (init), rootless", request: { kind: "bento" } },
    bwrap === undefined || user === undefined
      ? { key: "bwrap-user", label: "bwrap --unshare-all, as the same user", missing: "not installed (bwrap; apt-get install -y bubblewrap)" }
      : {
          key: "bwrap-user",
          label: "bwrap --unshare-all, as the same user",
          request: { kind: "spawn", file: bwrap, args: ["--unshare-all", "--die-with-parent", "--bind", user.rootfs, "/", "--proc", "/proc", "--dev", "/dev", "/bin/true"] },
        },
    podman === undefined || user === undefined
      ? { key: "podman-rootless", label: "podman run --rm, rootless", missing: "not installed (podman; apt-get install -y podman)" }
      : { key: "podman-rootless", label: "podman run --rm, rootless", request: { kind: "spawn", file: podman, args: podmanArgs(user) } },
  ];
  return rows.map((row): Subject => {
    const base = { key: row.key, label: row.label, group: "true" as const, timedBy };
    if ("unavailable" in setup) return { ...base, unavailable: setup.unavailable };
    if (row.request === undefined) return { ...base, unavailable: row.missing ?? "" };
    const request = row.request;
    return { ...base, run: () => setup.child.request(request) };
  });
}

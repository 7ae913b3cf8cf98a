/**
 * The rootless rows' side of the pipe: run by rootless-subjects.ts as the bench user, it loads
 * bento as that user (BENTO_HOME and BENTO_RUNTIME_DIR come from its environment) and answers
 * one JSON request per stdin line with one JSON reply per stdout line:
 *   {"kind":"bento"}                      one `run true` start-to-exit through the bento API
 *   {"kind":"spawn","file":..,"args":[..]} one tool run (bwrap, podman), timed from here
 * Timing here, inside the user's process, leaves runuser's own cost out of every row.
 * It ends when stdin closes; bento's exit hook removes anything still running.
 *   usage: rootless-child.ts <rootfs>
 */
import { createInterface } from "node:readline";
import { type BentoIds, trueOnce } from "./bento-subjects.js";
import { spawnTimed, type Sample } from "./subject.js";

/** One request from the bench. */
export type ChildRequest = { kind: "bento" } | { kind: "spawn"; file: string; args: string[] };

/** One reply: the sample (and the container ids it created, for the leak check) or the error. */
export type ChildReply = { ok: true; sample: Sample; ids: string[] } | { ok: false; error: string; ids: string[] };

async function serve(rootfs: string): Promise<void> {
  const bento = await import("../src/index.js");
  const lines = createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY });
  for await (const line of lines) {
    const request = JSON.parse(line) as ChildRequest;
    const created: BentoIds = { ids: [] };
    let reply: ChildReply;
    try {
      const sample = request.kind === "bento" ? await trueOnce(bento, rootfs, {}, created) : await spawnTimed(request.file, request.args);
      reply = { ok: true, sample, ids: created.ids };
    } catch (error) {
      reply = { ok: false, error: (error as Error).message, ids: created.ids };
    }
    process.stdout.write(`${JSON.stringify(reply)}\n`);
  }
}

const rootfs = process.argv[2];
if (rootfs === undefined) {
  process.stderr.write("usage: rootless-child.ts <rootfs>\n");
  process.exitCode = 2;
} else {
  await serve(rootfs);
}

/**
 * The bento rows, through the public API exactly as a user writes it: start, wait, stop and
 * remove a /bin/true container (with bento's init, with `init: false`, and without the default
 * seccomp filter), and a detached
 * `sleep 1000` container started, stopped and removed. Each API call is timed as a phase so the
 * report can show where bento's time goes.
 */
import { elapsedMs } from "./stats.js";
import type { Sample, Subject } from "./subject.js";

type Bento = typeof import("../src/index.js");

/** Every container id the bento rows created, for the leak check. */
export interface BentoIds {
  ids: string[];
}

/** How the detached row's stops ended, for the report (a SIGKILL at the timeout means init did not forward SIGTERM). */
export interface DetachedStops {
  byStopSignal: number;
  atTimeout: number;
}

export async function trueOnce(bento: Bento, rootfs: string, options: import("../src/index.js").ContainerOptions, created: BentoIds): Promise<Sample> {
  const { Container, Image } = bento;
  const t0 = process.hrtime.bigint();
  const running = await new Container(Image.fromRootfs(rootfs).cmd(["/bin/true"]), options).start();
  const startMs = elapsedMs(t0);
  created.ids.push(running.id);
  let exit: Awaited<ReturnType<typeof running.wait>>, waitMs: number, stopMs: number;
  try {
    exit = await running.wait();
    waitMs = elapsedMs(t0) - startMs;
    const stopped = await running.stop();
    stopMs = elapsedMs(t0) - startMs - waitMs;
    await stopped.remove();
  } catch (error) {
    await running[Symbol.asyncDispose]().catch(() => undefined);
    throw error;
  }
  const totalMs = elapsedMs(t0);
  if (exit.exitCode !== 0) throw new Error(`/bin/true exited with ${exit.exitCode}${exit.signal ? ` (${exit.signal})` : ""}`);
  return { totalMs, phasesMs: { start: startMs, wait: waitMs, stop: stopMs, remove: totalMs - startMs - waitMs - stopMs } };
}

async function detachedOnce(bento: Bento, rootfs: string, created: BentoIds, stops: DetachedStops): Promise<Sample> {
  const { Container, Image } = bento;
  const t0 = process.hrtime.bigint();
  const running = await new Container(Image.fromRootfs(rootfs).cmd(["sleep", "1000"])).start();
  const startMs = elapsedMs(t0);
  created.ids.push(running.id);
  let stopped: Awaited<ReturnType<typeof running.stop>>, stopMs: number;
  try {
    stopped = await running.stop({ timeoutMs: 1000 });
    stopMs = elapsedMs(t0) - startMs;
    await stopped.remove();
  } catch (error) {
    await running[Symbol.asyncDispose]().catch(() => undefined);
    throw error;
  }
  const totalMs = elapsedMs(t0);
  if (stopped.signal === "SIGKILL") stops.atTimeout++;
  else stops.byStopSignal++;
  return { totalMs, phasesMs: { start: startMs, stop: stopMs, remove: totalMs - startMs - stopMs } };
}

/** The bento rows; `bento` is the loaded SDK, or the error loading it failed with. */
export function bentoSubjects(bento: Bento | Error, rootfs: string, created: BentoIds, stops: DetachedStops): Subject[] {
  const rows: Omit<Subject, "timedBy">[] = [
    { key: "bento", label: "bento (init)", group: "true" },
    { key: "bento-no-init", label: "bento (init: false)", group: "true" },
    // The price of the default seccomp filter (compiled once, loaded per start): compare with "bento (init)".
    { key: "bento-unconfined", label: "bento (init, seccomp: unconfined)", group: "true" },
    // The price of a route out: the helper starts (and configures the namespace) before the command runs.
    { key: "bento-slirp4netns", label: "bento (init, network: slirp4netns)", group: "true" },
    { key: "bento-pasta", label: "bento (init, network: pasta)", group: "true" },
    { key: "bento-detached", label: "bento sleep 1000: start + stop + remove", group: "detached" },
  ];
  return rows.map((row): Subject => {
    const timedBy = "Node bento API";
    if (bento instanceof Error) return { ...row, timedBy, unavailable: `cannot load src/index.js: ${bento.message}` };
    const helper = row.key === "bento-slirp4netns" ? "slirp4netns" : row.key === "bento-pasta" ? "pasta" : undefined;
    if (helper !== undefined) {
      try {
        new bento.Container(bento.Image.fromRootfs(rootfs), { network: helper });
      } catch (error) {
        return { ...row, timedBy, unavailable: (error as Error).message };
      }
      return { ...row, timedBy, run: () => trueOnce(bento, rootfs, { network: helper }, created) };
    }
    const run =
      row.key === "bento"
        ? () => trueOnce(bento, rootfs, {}, created)
        : row.key === "bento-no-init"
          ? () => trueOnce(bento, rootfs, { init: false }, created)
          : row.key === "bento-unconfined"
            ? () => trueOnce(bento, rootfs, { seccomp: "unconfined" }, created)
            : () => detachedOnce(bento, rootfs, created, stops);
    return { ...row, timedBy, run };
  });
}

/**
 * The comparison rows: crun, bwrap, unshare + chroot, a plain fork + exec, and the C floor.
 * Each runs the same /bin/true in the same rootfs. The Node-timed rows pay Node's own
 * process-creation cost (about 2 ms on this machine); the C-timed rows run the same command
 * through floor.c's posix_spawn loop to show the tool's cost without it.
 */
import { join } from "node:path";
import type { CrunSetup } from "./crun.js";
import { aptPackage, findExecutable } from "./host-tools.js";
import { runFloor, spawnTimed, type Subject, unavailableSubject } from "./subject.js";

/** What the comparison rows need. */
export interface ToolEnv {
  rootfs: string;
  /** Scratch directory for floor.c's upper/work/merged (same filesystem as BENTO_HOME). */
  scratchDir: string;
  /** floor.c's binary, or why it could not be built. */
  floor: { binary: string } | { unavailable: string };
  crun: CrunSetup;
}

interface Command {
  key: string;
  label: string;
  file: string | undefined;
  args: string[];
  unavailable?: string;
}

function notInstalled(tool: string): string {
  return `not installed (${tool}; apt-get install -y ${aptPackage[tool] ?? tool})`;
}

function commands(env: ToolEnv): Command[] {
  const bwrap = findExecutable("bwrap");
  const unshare = findExecutable("unshare");
  const chroot = findExecutable("chroot");
  const list: Command[] = [
    { key: "crun", label: "crun run", file: env.crun.file, args: env.crun.args, ...(env.crun.unavailable ? { unavailable: env.crun.unavailable } : {}) },
    {
      key: "bwrap",
      label: "bwrap --unshare-all",
      file: bwrap,
      args: ["--unshare-all", "--die-with-parent", "--bind", env.rootfs, "/", "--proc", "/proc", "--dev", "/dev", "/bin/true"],
      ...(bwrap === undefined ? { unavailable: notInstalled("bwrap") } : {}),
    },
    {
      key: "unshare-chroot",
      label: "unshare + chroot",
      file: unshare,
      args: ["--mount", "--uts", "--ipc", "--net", "--pid", "--fork", chroot ?? "chroot", env.rootfs, "/bin/true"],
      ...(unshare === undefined ? { unavailable: notInstalled("unshare") } : chroot === undefined ? { unavailable: notInstalled("chroot") } : {}),
    },
    { key: "fork-exec", label: "fork + exec /bin/true", file: join(env.rootfs, "bin/true"), args: [] },
  ];
  return list;
}

/** The Node-timed and C-timed rows of every comparison tool, then the C floor. */
export function comparisonSubjects(env: ToolEnv): Subject[] {
  const subjects: Subject[] = [];
  const floorBinary = "binary" in env.floor ? env.floor.binary : undefined;
  const floorMissing = "unavailable" in env.floor ? env.floor.unavailable : "";
  for (const c of commands(env)) {
    const nodeTimed = "Node spawn";
    subjects.push(
      c.unavailable !== undefined || c.file === undefined
        ? unavailableSubject(c.key, c.label, "true", nodeTimed, c.unavailable ?? "not installed")
        : { key: c.key, label: c.label, group: "true", timedBy: nodeTimed, run: () => spawnTimed(c.file!, c.args) },
    );
  }
  for (const c of commands(env)) {
    const cTimed = "C posix_spawn";
    const key = `${c.key}-c`;
    if (c.unavailable !== undefined || c.file === undefined) subjects.push(unavailableSubject(key, c.label, "true", cTimed, c.unavailable ?? "not installed"));
    else if (floorBinary === undefined) subjects.push(unavailableSubject(key, c.label, "true", cTimed, `floor.c not built: ${floorMissing}`));
    else subjects.push({ key, label: c.label, group: "true", timedBy: cTimed, run: async () => ({ totalMs: (await runFloor(floorBinary, ["spawn", "0", "1", c.file!, ...c.args]))[0]! }) });
  }
  const floorLabel = "C floor: clone 6 ns + overlay + proc + pivot_root + exec";
  subjects.push(
    floorBinary === undefined
      ? unavailableSubject("floor", floorLabel, "true", "C in-process", floorMissing)
      : // One warm-up iteration in the fresh process, then one measured: the floor binary is
        // spawned per round so its samples interleave with the other rows'.
        { key: "floor", label: floorLabel, group: "true", timedBy: "C in-process", run: async () => ({ totalMs: (await runFloor(floorBinary, ["container", env.rootfs, env.scratchDir, "1", "1"]))[0]! }) },
  );
  return subjects;
}

/**
 * Starting an exited detached container again from any process (`bento start`, `bento
 * restart`): its helper is launched anew from the runtime spec its first start recorded, and
 * publishes the same host ports. The process that starts it may end at once, as after `run -d`.
 */
import { closeSync, openSync, rmSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { config } from "../config.js";
import { ContainerStateError } from "../errors.js";
import { loadAddon } from "../native/load.js";
import { PortProxy } from "../network/port-proxy.js";
import { cgroupDriver } from "../runtime/cgroup/detect.js";
import { compileContainerPlan } from "../runtime/container-plan.js";
import type { MachineContainer } from "../runtime/machine-containers.js";
import { RunningShim } from "../runtime/shim.js";
import { exitRecordFile, recordInit } from "../runtime/state.js";
import { isRootless, userNamespace } from "../runtime/user-namespace.js";
import { readContainerRecord, writePortsRecord } from "./container-record.js";
import type { DetachedRecord } from "./detached-record.js";

/** How long the last run's helper may keep the lock after it recorded the exit (it removes the cgroups last). */
const lockWaitMs = 5_000;

/** Takes the container's lock once its last helper let go of it; false when it still runs. */
async function takeLock(fd: number): Promise<boolean> {
  for (const end = Date.now() + lockWaitMs; ; await sleep(20)) {
    if (loadAddon().flock(fd, "exclusive", false)) return true;
    if (Date.now() >= end) return false;
  }
}

/**
 * Launches an exited detached container's helper again; resolves once its command runs.
 *
 * @example
 * ```ts
 * await startDetachedAgain(machine, readDetachedRecord(stateDir)!);
 * ```
 */
export async function startDetachedAgain(machine: MachineContainer, record: DetachedRecord): Promise<void> {
  const spec = record.spec;
  if (spec === undefined) {
    throw new ContainerStateError(
      `cannot start container ${machine.name} from another process: it shares a namespace of another container, joins a network or has egress (which lived in the process that started it), or was made by an older bento; create a new container instead`,
    );
  }
  const cfg = config();
  const dir = join(cfg.runtimeDir, "containers", machine.id);
  const fd = openSync(join(dir, "lock"), "r+");
  try {
    if (!(await takeLock(fd))) throw new ContainerStateError(`container ${machine.name} is running, or another process is starting or removing it`);
    rmSync(exitRecordFile(dir), { force: true });
    const driver = cgroupDriver();
    const { record: containerRecord, ports } = readContainerRecord(machine.containerDir);
    const userns = isRootless() ? await userNamespace() : undefined;
    const oomCounter = driver.oomCounter(machine.id);
    const plan = compileContainerPlan(
      {
        ...spec,
        detach: { exitFile: exitRecordFile(dir) },
        hold: false,
        ...(userns ? { userNamespace: { holderPid: userns.holderPid, singleId: userns.mapping.kind === "single" } } : {}),
      },
      driver.setup(machine.id, containerRecord.limits ?? {}),
      { ...(oomCounter ? { oomCounter } : {}), removeDirs: driver.paths(machine.id) },
    );
    // Detached: no streams to the starter (a terminal's master stays with the helper, for attach).
    const shim = await RunningShim.start(`start ${machine.name}`, machine.id, plan, driver, fd, cfg.debug.has("runtime") || cfg.debug.has("*"), { stdin: false, terminal: false });
    recordInit({ dir, fd }, shim.initPid);
    try {
      const again = (ports ?? []).map((p) => ({ container: p.container, host: p.hostPort, protocol: p.protocol, ...(p.hostIp === undefined ? {} : { hostIp: p.hostIp }) }));
      const proxy = await PortProxy.open(
        again,
        () => shim.portChannel,
        (host, container, ip) => shim.publishUdp(host, container, ip),
        (host, container, ip) => shim.publishTcp(host, container, ip),
      );
      writePortsRecord(machine.containerDir, proxy.bound);
    } catch (error) {
      shim.signal(9);
      await shim.exited;
      throw error;
    }
  } finally {
    // The helper holds its own copy of the lock for as long as it runs.
    closeSync(fd);
  }
}

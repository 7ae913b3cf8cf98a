/**
 * Compiles a fully decided container spec into the op list bento-shim carries out, in runc's
 * and crun's order (RUNTIME-NOTES section 2). Each op keeps a description, so a failure at op N
 * is reported as the step a person recognises ("mount proc on /proc").
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import type { PlanRecord } from "../native/plan-codec.js";
import type { CgroupSetup } from "./cgroup/driver.js";
import { defaultDeviceRules, deviceFilterProgram, v1DeviceRules } from "./devices.js";
import type { DeviceNode } from "./host-devices.js";
import type { OverlayMount } from "./overlay-mode.js";
import { addRootfsOps } from "./rootfs-ops.js";

/** The process a container (or an exec) runs. */
export interface ProcessSpec {
  argv: string[];
  env: string[];
  cwd: string;
  uid: number;
  gid: number;
  groups: number[];
  capabilities: bigint;
  noNewPrivileges: boolean;
  /** The seccomp program (sock_filter bytes, hex); "" for none. */
  seccomp: string;
  /** false where setgroups(2) is denied (a rootless namespace that maps one id); default true. */
  setGroups?: boolean;
}

/** The rootless user namespace a container runs in (see runtime/user-namespace.ts). */
export interface UserNamespaceSpec {
  /** The pid of the process holding it; the shim joins it first. */
  holderPid: number;
  /** Only the user's own id is mapped (to 0): no setgroups, no gid 5 for devpts. */
  singleId: boolean;
}

/** Everything the runtime needs to start a container; every decision already made. */
export interface RuntimeSpec {
  id: string;
  hostname: string;
  /** Image layer directories, top-first (overlay's lowerdir order). */
  lowerDirs: string[];
  /** The container's own directory: upper/, work/, merged/, hosts, hostname, resolv.conf. */
  containerDir: string;
  logFile: string;
  readonlyRootfs: boolean;
  /** false: the payload is PID 1 (exact OCI behaviour); true: bento's init is. */
  init: boolean;
  /** The shim waits for Node's "go" after clone (Node attaches a network then). */
  hold?: boolean;
  network: "none" | "host";
  /** The pid of a container whose network namespace this one enters instead of making its own. */
  netnsOf?: number;
  /** The PID namespace: the host's, or the one of the container whose init has this pid (default: its own). */
  pidNamespace?: "host" | number;
  /** The IPC namespace and /dev/shm: the host's, or those of the container whose init has this pid (default: its own). */
  ipcNamespace?: "host" | number;
  /** Where /etc/hosts, /etc/hostname and /etc/resolv.conf come from (default `containerDir`). */
  etcDir?: string;
  process: ProcessSpec;
  /** Mounts after the standard ones, in order; targets are resolved inside the root. */
  mounts: RuntimeMount[];
  /** Rootless: the user namespace to run in; undefined as root. */
  userNamespace?: UserNamespaceSpec;
  /** Sysctls, resource limits, the domain name and /dev/shm's size. */
  system?: SystemSettings;
  /**
   * The shim outlives the process that starts it (no death signal, its own session, a closed
   * control socket does not stop the container) and writes the exit outcome to `exitFile`.
   */
  detach?: { exitFile: string };
  /** A pseudo-terminal of this initial size is the process's stdio (the shim holds its master). */
  tty?: { rows: number; columns: number };
  /** The process's stdin is a pipe the shim feeds from Node (without `tty`), not /dev/null. */
  stdin?: boolean;
  /** The abstract socket on which the shim lets other processes attach to the terminal. */
  attachSocket?: string;
  /** Host device nodes made in /dev beyond the standard ones, and allowed by the device policy. */
  devices?: DeviceNode[];
  /** How the root filesystem is mounted (default: the kernel's overlayfs). */
  overlay?: OverlayMount;
  /** Docker's --privileged: no device policy, /dev not nodev, /sys writable, nothing masked. */
  privileged?: boolean;
}

/** The system a container sees beyond its mounts: decided by the container options. */
export interface SystemSettings {
  /** `[name, address]` pairs added to /etc/hosts. */
  extraHosts: [string, string][];
  /** resolv.conf's nameservers, search domains and options. */
  dns?: { servers?: string[]; search?: string[]; options?: string[] };
  /** The NIS domain name. */
  domainname?: string;
  /** `[name, value]`, such as `["net.ipv4.ip_forward", "1"]`. */
  sysctls: [string, string][];
  /** `[resource number, soft, hard]`; -1 is unlimited. */
  rlimits: [number, number, number][];
  /** The size of /dev/shm in bytes. */
  shmSizeBytes?: number;
}

/** A mount the runtime makes: a host path bound in (volumes are binds of their directory), or a tmpfs. */
export type RuntimeMount = { kind: "bind"; source: string; target: string; readonly: boolean; isFile: boolean } | { kind: "tmpfs"; target: string; options: string; readonly: boolean };

/** A compiled plan: the records to send, and a description of each record by index. */
export interface CompiledPlan {
  records: PlanRecord[];
  describe(index: number): string;
}

// mount(2) flags, from linux/mount.h.
const MS_RDONLY = 1,
  MS_NOSUID = 2,
  MS_NODEV = 4,
  MS_NOEXEC = 8,
  MS_REMOUNT = 32,
  MS_REC = 0x4000,
  MS_BIND = 0x1000,
  MS_PRIVATE = 1 << 18,
  MS_STRICTATIME = 1 << 24;
// clone(2) namespace flags.
export const CLONE_NEWNS = 0x20000,
  CLONE_NEWUSER = 0x10000000,
  CLONE_NEWCGROUP = 0x02000000,
  CLONE_NEWUTS = 0x04000000,
  CLONE_NEWIPC = 0x08000000,
  CLONE_NEWPID = 0x20000000,
  CLONE_NEWNET = 0x40000000;
const S_IFCHR = 0o020000,
  S_IFBLK = 0o060000;

/** Docker's masked paths (moby oci/defaults.go) and read-only /proc paths. */
const maskedPaths = ["proc/asound", "proc/acpi", "proc/interrupts", "proc/kcore", "proc/keys", "proc/latency_stats", "proc/timer_list", "proc/timer_stats", "proc/sched_debug", "proc/scsi", "sys/firmware", "sys/devices/virtual/powercap"];
const readonlyPaths = ["proc/bus", "proc/fs", "proc/irq", "proc/sys", "proc/sysrq-trigger"];
const devices: [string, number, number][] = [
  ["null", 1, 3],
  ["zero", 1, 5],
  ["full", 1, 7],
  ["random", 1, 8],
  ["urandom", 1, 9],
  ["tty", 5, 0],
];
const devLinks: [string, string][] = [
  ["/proc/self/fd", "dev/fd"],
  ["/proc/self/fd/0", "dev/stdin"],
  ["/proc/self/fd/1", "dev/stdout"],
  ["/proc/self/fd/2", "dev/stderr"],
  ["pts/ptmx", "dev/ptmx"],
  ["/proc/kcore", "dev/core"],
];

const deviceProgram = deviceFilterProgram(defaultDeviceRules).toString("hex");

/** The namespaces a container gets (and an exec joins). */
export function namespaceFlags(network: "none" | "host"): number {
  return CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | (network === "host" ? 0 : CLONE_NEWNET);
}

class PlanBuilder {
  readonly records: PlanRecord[] = [];
  readonly descriptions: string[] = [];
  section(name: string): void {
    this.op(`(${name})`, "section", name);
  }
  op(description: string, ...record: string[]): void {
    this.records.push(record);
    this.descriptions.push(description);
  }
}

/** Adds the process section (shared by container starts and execs). */
export function addProcess(b: { op(description: string, ...record: string[]): void }, p: ProcessSpec): void {
  b.op("process", "section", "process");
  b.op("command", "argv", ...p.argv);
  b.op("environment", "env", ...p.env);
  b.op(`working directory ${p.cwd}`, "cwd", p.cwd);
  b.op(`user ${p.uid}:${p.gid}`, "user", String(p.uid), String(p.gid));
  b.op("supplementary groups", "groups", ...p.groups.map(String));
  if (p.setGroups === false) b.op("keep the groups (setgroups is denied in this user namespace)", "setgroups", "0");
  b.op("capabilities", "caps", p.capabilities.toString());
  b.op("no_new_privs", "no-new-privs", p.noNewPrivileges ? "1" : "0");
  if (p.seccomp !== "") b.op("seccomp filter", "seccomp", p.seccomp);
}

/** What the shim does once the container has ended: read the OOM counter, remove the cgroups. */
export interface ExitCleanup {
  oomCounter?: { file: string; key: string };
  removeDirs: string[];
}

/** Compiles the start plan of a container. */
export function compileContainerPlan(spec: RuntimeSpec, cgroups: CgroupSetup, cleanup: ExitCleanup = { removeDirs: [] }): CompiledPlan {
  const b = new PlanBuilder();
  const merged = join(spec.containerDir, "merged");

  const userns = spec.userNamespace;
  b.section("host");
  for (const r of cgroups.hostOps) b.op(r[0] === "mkdir" ? `create cgroup ${r[1]}` : `set cgroup limit ${r[1]} = ${r[2]}`, ...r);
  // Only null, zero, full, random, urandom, tty, console, ptmx and pts may be opened (Docker's
  // allowlist): a BPF program on the cgroup2 group init is cloned into, or on a pure cgroup v1
  // host the devices controller (deny all, then allow each rule, as runc's v1 manager writes them).
  // In a user namespace the kernel refuses mknod of real devices anyway, and an unprivileged
  // process cannot attach a BPF device program.
  // A privileged container gets no policy of its own, as Docker's --privileged.
  const extraDevices = spec.devices ?? [];
  if (!userns && !spec.privileged) {
    const rules = [...defaultDeviceRules, ...extraDevices.map((d) => ({ type: d.type, major: d.major, minor: d.minor, access: d.access }))];
    const what = extraDevices.length === 0 ? "only the default devices" : `the default devices and ${extraDevices.map((d) => d.source).join(", ")}`;
    if (cgroups.cloneInto !== undefined) b.op(`allow ${what} in ${cgroups.cloneInto}`, "device-filter", cgroups.cloneInto, extraDevices.length === 0 ? deviceProgram : deviceFilterProgram(rules).toString("hex"));
    else if (cgroups.devicesV1 !== undefined) {
      b.op(`deny every device in ${cgroups.devicesV1}`, "write", join(cgroups.devicesV1, "devices.deny"), "a");
      for (const rule of v1DeviceRules(rules)) b.op(`allow ${rule} in ${cgroups.devicesV1}`, "write", join(cgroups.devicesV1, "devices.allow"), rule);
    }
  }

  b.section("settings");
  if (userns) {
    b.op(`join the user namespace of pid ${userns.holderPid}`, "userns", String(userns.holderPid));
    // A non-dumpable init's /proc/<pid>/ns is reachable only with CAP_SYS_PTRACE on the host;
    // rootless, exec and networks open it as its owner.
    b.op("keep init dumpable", "dumpable", "1");
  }
  b.op(`log to ${spec.logFile}`, "log", spec.logFile);
  // Opened by the shim before clone: the container's device policy would refuse init's open.
  if (spec.overlay !== undefined && spec.overlay.kind !== "kernel") b.op("open /dev/fuse for fuse-overlayfs", "fuse-device", "1");
  // Namespaces shared with another container are entered before clone, which then makes none of them.
  let flags = namespaceFlags(spec.network);
  const shared: [number | "host" | undefined, number, string][] = [
    [spec.netnsOf, CLONE_NEWNET, "network"],
    [spec.pidNamespace, CLONE_NEWPID, "PID"],
    [spec.ipcNamespace, CLONE_NEWIPC, "IPC"],
  ];
  for (const [source, flag, what] of shared) {
    if (source === undefined) continue;
    flags &= ~flag;
    if (source !== "host") b.op(`enter the ${what} namespace of pid ${source}`, "ns-of", String(source), String(flag));
  }
  b.op("clone", "clone", String(flags));
  if (cgroups.cloneInto !== undefined) b.op(`join cgroup ${cgroups.cloneInto}`, "cgroup-into", cgroups.cloneInto);
  for (const f of cgroups.procsFiles) b.op(`join cgroup ${f}`, "cgroup-procs", f);
  b.op("cgroup namespace", "cgroupns", "1");
  if (spec.init) b.op("init", "init", "1");
  if (spec.hold) b.op("wait for Node before running", "hold", "1");
  if (spec.tty) b.op("open a terminal for the command in /dev/pts", "tty", String(spec.tty.rows), String(spec.tty.columns));
  if (spec.stdin) b.op("keep the command's stdin open", "stdin", "1");
  if (spec.attachSocket !== undefined) b.op(`let bento attach connect on @${spec.attachSocket}`, "attach", spec.attachSocket);
  if (spec.detach) {
    b.op("outlive the starting process", "detach", "1");
    b.op(`record the exit in ${spec.detach.exitFile}`, "exit-file", spec.detach.exitFile);
  }
  if (cleanup.oomCounter) b.op(`read ${cleanup.oomCounter.file} at exit`, "oom-count", cleanup.oomCounter.file, cleanup.oomCounter.key);
  for (const dir of cleanup.removeDirs) b.op(`remove cgroup ${dir} at exit`, "cleanup-rmdir", dir);

  b.section("container");
  // A mount of another namespace cannot be bound: init clones it there, before its own /proc hides the host's.
  if (typeof spec.ipcNamespace === "number") b.op(`take /dev/shm of pid ${spec.ipcNamespace}`, "borrow-mount", String(spec.ipcNamespace), "/dev/shm");
  b.op("make mounts private", "propagation", String(MS_PRIVATE));
  addRootfsOps(b, spec.lowerDirs, spec.containerDir, userns !== undefined, spec.overlay, cgroups.procsFiles);
  b.op("open the root filesystem", "set-root", merged);
  const mountIn = (description: string, src: string, target: string, fstype: string, flags: number, options = "") => {
    b.op(`create ${target}`, "mkdir-in", target, String(0o755));
    b.op(description, "mount-in", src, target, fstype, String(flags), options);
  };
  // proc and mqueue may be mounted only by the owner of their namespace: rootless, the host's are bound.
  if (userns && spec.pidNamespace === "host") mountIn("bind the host's /proc", "/proc", "proc", "", MS_BIND | MS_REC);
  else mountIn("mount proc on /proc", "proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC);
  mountIn("mount tmpfs on /dev", "tmpfs", "dev", "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k");
  for (const [name, major, minor] of devices) {
    if (userns) {
      // mknod needs CAP_MKNOD in the initial user namespace: bind the host's nodes (as crun does rootless).
      b.op(`create /dev/${name}`, "touch-in", `dev/${name}`, String(0o666));
      b.op(`bind /dev/${name}`, "mount-in", `/dev/${name}`, `dev/${name}`, "", String(MS_BIND), "");
    } else {
      b.op(`create /dev/${name}`, "mknod-in", `dev/${name}`, String(S_IFCHR | 0o666), String(major), String(minor));
      // Its own mount keeps the node usable once /dev is nodev.
      b.op(`bind /dev/${name}`, "mount-in", join(merged, "dev", name), `dev/${name}`, "", String(MS_BIND), "");
    }
  }
  for (const d of extraDevices) {
    const target = d.target.replace(/^\/+/, "");
    b.op(`create ${dirname(d.target)}`, "mkdir-in", dirname(target), String(0o755));
    if (userns) {
      b.op(`create ${d.target}`, "touch-in", target, String(d.mode));
      b.op(`bind ${d.source} on ${d.target}`, "mount-in", d.source, target, "", String(MS_BIND), "");
    } else {
      b.op(`create ${d.target} (${d.type} ${d.major}:${d.minor})`, "mknod-in", target, String((d.type === "c" ? S_IFCHR : S_IFBLK) | d.mode), String(d.major), String(d.minor));
      // Its own mount keeps it usable once /dev is nodev (a privileged /dev never is).
      if (!spec.privileged) b.op(`bind ${d.target}`, "mount-in", join(merged, target), target, "", String(MS_BIND), "");
    }
  }
  // A node the container makes in /dev cannot be opened (the devices cgroup also refuses it).
  if (!spec.privileged) b.op("make /dev nodev", "mount-in", "", "dev", "", String(MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV), "");
  for (const [target, link] of devLinks) b.op(`link /${link}`, "symlink-in", target, link);
  // gid 5 (tty) exists only where the namespace maps more than the user's own id.
  mountIn("mount devpts on /dev/pts", "devpts", "dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, `newinstance,ptmxmode=0666,mode=0620${userns?.singleId ? "" : ",gid=5"}`);
  const shmSize = spec.system?.shmSizeBytes === undefined ? "65536k" : String(spec.system.shmSizeBytes);
  if (spec.ipcNamespace === undefined) {
    mountIn(`mount tmpfs on /dev/shm (size ${shmSize})`, "shm", "dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, `mode=1777,size=${shmSize}`);
  } else if (spec.ipcNamespace === "host") {
    // A shared IPC namespace shares its /dev/shm too (POSIX shared memory lives there).
    mountIn("bind the host's /dev/shm on /dev/shm", "/dev/shm", "dev/shm", "", MS_BIND);
  } else {
    b.op("create /dev/shm", "mkdir-in", "dev/shm", String(0o755));
    b.op(`attach the /dev/shm of pid ${spec.ipcNamespace}`, "attach-borrowed-in", "dev/shm");
  }
  if (userns && spec.ipcNamespace === "host") {
    if (existsSync("/dev/mqueue")) mountIn("bind the host's /dev/mqueue", "/dev/mqueue", "dev/mqueue", "", MS_BIND);
  } else mountIn("mount mqueue on /dev/mqueue", "mqueue", "dev/mqueue", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC);
  if (userns && spec.network === "host") {
    // sysfs may be mounted only by the owner of the network namespace: bind the host's instead.
    mountIn("bind /sys", "/sys", "sys", "", MS_BIND | MS_REC);
    b.op("make /sys read-only", "readonly-in", "sys");
  } else {
    const sysReadonly = spec.privileged ? 0 : MS_RDONLY;
    mountIn(`mount sysfs on /sys${spec.privileged ? "" : " (read-only)"}`, "sysfs", "sys", "sysfs", sysReadonly | MS_NOSUID | MS_NODEV | MS_NOEXEC);
  }
  b.op("create /etc", "mkdir-in", "etc", String(0o755));
  for (const file of ["hosts", "hostname", "resolv.conf"]) {
    b.op(`create /etc/${file}`, "touch-in", `etc/${file}`, String(0o644));
    b.op(`bind /etc/${file}`, "mount-in", join(spec.etcDir ?? spec.containerDir, file), `etc/${file}`, "", String(MS_BIND), "");
  }
  for (const m of spec.mounts) {
    const target = m.target.replace(/^\/+/, "");
    // An image's symlinks may not lead a mount out of the root (CVE-2021-30465 and kin).
    b.op(`check that ${m.target} stays inside the root filesystem`, "confine-in", target);
    if (m.kind === "tmpfs") {
      mountIn(`mount tmpfs on ${m.target}`, "tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV | (m.readonly ? MS_RDONLY : 0), m.options);
      continue;
    }
    if (m.isFile) {
      b.op(`create ${dirname(m.target)}`, "mkdir-in", dirname(target), String(0o755));
      b.op(`create ${m.target}`, "touch-in", target, String(0o644));
    } else {
      b.op(`create ${m.target}`, "mkdir-in", target, String(0o755));
    }
    b.op(`bind ${m.source} on ${m.target}`, "mount-in", m.source, target, "", String(MS_BIND | MS_REC), "");
    if (m.readonly) b.op(`make ${m.target} read-only`, "readonly-in", target);
  }
  // In the container's own network and IPC namespaces, before /proc/sys turns read-only.
  for (const [name, value] of spec.system?.sysctls ?? []) b.op(`set sysctl ${name} = ${value}`, "sysctl-in", `proc/sys/${name.replace(/\./g, "/")}`, value);
  if (!spec.privileged) {
    for (const p of maskedPaths) b.op(`mask /${p}`, "mask-in", p);
    for (const p of readonlyPaths) b.op(`make /${p} read-only`, "readonly-in", p);
  }
  if (spec.process.cwd !== "/") b.op(`create working directory ${spec.process.cwd}`, "mkdir-in", spec.process.cwd.replace(/^\/+/, ""), String(0o755));
  b.op("pivot_root into the root filesystem", "pivot", merged);
  if (spec.readonlyRootfs) b.op("make the root filesystem read-only", "remount-root-ro");
  b.op(`set hostname ${spec.hostname}`, "sethostname", spec.hostname);
  if (spec.system?.domainname !== undefined) b.op(`set domain name ${spec.system.domainname}`, "setdomainname", spec.system.domainname);
  // Set in init, so the payload inherits them (an exec does not: it starts from the shim).
  for (const [resource, soft, hard] of spec.system?.rlimits ?? []) b.op(`set resource limit ${resource} to ${soft}/${hard}`, "rlimit", String(resource), String(soft), String(hard));
  if (spec.network === "none" && spec.netnsOf === undefined) b.op("bring lo up", "loopback-up");
  addProcess(b, spec.process);

  return { records: b.records, describe: (i) => b.descriptions[i] ?? `step ${i}` };
}

/** Compiles the plan of an exec into a running container; `hostNamespaces` are clone flags of the host namespaces it shares. */
export function compileExecPlan(initPid: number, network: "none" | "host", procsFiles: string[], process: ProcessSpec, rootless = false, hostNamespaces = 0, tty?: { rows: number; columns: number }): CompiledPlan {
  const b = new PlanBuilder();
  b.section("settings");
  for (const f of procsFiles) b.op(`join cgroup ${f}`, "cgroup-procs", f);
  b.op(`join the namespaces of pid ${initPid}`, "target-pid", String(initPid));
  // Rootless, the container's user namespace is joined first (setns does it first with a pidfd).
  // The host's PID or IPC namespace (pid/ipc "host") is already ours, and rootless could not enter it.
  b.op("namespaces", "ns-flags", String(((namespaceFlags(network) | CLONE_NEWCGROUP) & ~hostNamespaces) | (rootless ? CLONE_NEWUSER : 0)));
  if (tty) b.op("open a terminal for the command in /dev/pts", "tty", String(tty.rows), String(tty.columns));
  addProcess(b, process);
  return { records: b.records, describe: (i) => b.descriptions[i] ?? `step ${i}` };
}

/**
 * The OCI bundle crun runs: the same rootfs as every other tool, and a config.json modelled on
 * `crun spec` (its mounts, masked and read-only paths, deny-all device cgroup) with Docker's
 * default capability set and the six namespaces bento uses (pid, mount, ipc, uts, network, cgroup).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** Docker's default capabilities (moby oci/caps/defaults.go), which bento's default set matches. */
const dockerCapabilities = [
  "CAP_CHOWN",
  "CAP_DAC_OVERRIDE",
  "CAP_FSETID",
  "CAP_FOWNER",
  "CAP_MKNOD",
  "CAP_NET_RAW",
  "CAP_SETGID",
  "CAP_SETUID",
  "CAP_SETFCAP",
  "CAP_SETPCAP",
  "CAP_NET_BIND_SERVICE",
  "CAP_SYS_CHROOT",
  "CAP_KILL",
  "CAP_AUDIT_WRITE",
];

/** The config.json of a bundle that runs `argv` in `rootfs`, in cgroup `cgroupsPath`. */
export function ociConfig(rootfs: string, argv: string[], cgroupsPath: string): object {
  const caps = { bounding: dockerCapabilities, effective: dockerCapabilities, permitted: dockerCapabilities };
  return {
    ociVersion: "1.0.0",
    process: {
      terminal: false,
      user: { uid: 0, gid: 0 },
      args: argv,
      env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
      cwd: "/",
      capabilities: caps,
      noNewPrivileges: true,
    },
    root: { path: rootfs, readonly: false },
    hostname: "crun",
    mounts: [
      { destination: "/proc", type: "proc", source: "proc" },
      { destination: "/dev", type: "tmpfs", source: "tmpfs", options: ["nosuid", "strictatime", "mode=755", "size=65536k"] },
      { destination: "/dev/pts", type: "devpts", source: "devpts", options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"] },
      { destination: "/dev/shm", type: "tmpfs", source: "shm", options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"] },
      { destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"] },
      { destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"] },
    ],
    linux: {
      cgroupsPath,
      resources: { devices: [{ allow: false, access: "rwm" }] },
      namespaces: ["pid", "network", "ipc", "uts", "mount", "cgroup"].map((type) => ({ type })),
      maskedPaths: ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"],
      readonlyPaths: ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"],
    },
  };
}

/** Writes a bundle directory (config.json only; root.path is absolute) and returns its path. */
export function writeOciBundle(dir: string, rootfs: string, argv: string[], cgroupsPath: string): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "config.json"), JSON.stringify(ociConfig(rootfs, argv, cgroupsPath), null, 2));
  return dir;
}

/**
 * A loaded {@link StackPlan} written back as a compose document, in the canonical long forms
 * `docker compose config` prints (ports, volumes, depends_on, secrets as maps), so a user can
 * compare what bento will run with what compose would. Where bento decides differently, the
 * model says so: a port without a host address carries `x-bento-host-ips` (bento's loopback
 * default, where compose would publish on every address).
 */
import type { TmpfsMount } from "../../container/mounts.js";
import type { ContainerOptions } from "../../container/options.js";
import type { PortSpec } from "../../network/port-spec.js";
import type { LifecycleHookPlan, ServicePlan, StackPlan } from "../plan.js";

type Doc = Record<string, unknown>;

const conditionNames = { started: "service_started", healthy: "service_healthy", completed: "service_completed_successfully" } as const;

/** A duration in milliseconds as compose writes one ("1m30s", "500ms"). */
function duration(ms: number): string {
  if (ms % 1000 !== 0) return `${ms}ms`;
  const s = ms / 1000;
  const h = Math.floor(s / 3600),
    m = Math.floor((s % 3600) / 60),
    rest = s % 60;
  return `${h ? `${h}h` : ""}${m ? `${m}m` : ""}${rest || (!h && !m) ? `${rest}s` : ""}`;
}

function port(spec: PortSpec): Doc {
  const p = typeof spec === "object" ? spec : { container: Number(String(spec).split("/")[0]), protocol: String(spec).split("/")[1] ?? "tcp" };
  const out: Doc = { mode: "ingress", target: p.container };
  if ("host" in p && p.host) out.published = String(p.host);
  out.protocol = p.protocol ?? "tcp";
  if ("hostIp" in p && p.hostIp !== undefined) out.host_ip = p.hostIp;
  else out["x-bento-host-ips"] = ["127.0.0.1", "::1"];
  return out;
}

function healthcheck(h: NonNullable<ContainerOptions["healthcheck"]>): Doc {
  const out: Doc = {};
  if (h.test !== undefined) out.test = h.test;
  const fields = [
    ["intervalMs", "interval"],
    ["timeoutMs", "timeout"],
    ["startPeriodMs", "start_period"],
    ["startIntervalMs", "start_interval"],
  ] as const;
  for (const [field, key] of fields) if (h[field] !== undefined) out[key] = duration(h[field]!);
  if (h.retries !== undefined) out.retries = h.retries;
  return out;
}

function set(out: Doc, key: string, value: unknown): void {
  if (value === undefined) return;
  if (Array.isArray(value) && value.length === 0) return;
  if (typeof value === "object" && value !== null && !Array.isArray(value) && Object.keys(value).length === 0) return;
  out[key] = value;
}

function service(s: ServicePlan): Doc {
  const o = s.options;
  const out: Doc = {};
  if (s.build !== undefined) {
    const b: Doc = { context: s.build.context };
    set(b, "dockerfile", s.build.dockerfile);
    set(b, "dockerfile_inline", s.build.dockerfileInline);
    set(b, "args", s.build.args);
    set(b, "target", s.build.target);
    out.build = b;
  }
  set(out, "cap_add", o.capAdd);
  set(out, "cap_drop", o.capDrop);
  set(out, "command", o.command);
  set(
    out,
    "configs",
    s.files
      .filter((f) => f.kind === "config")
      .map((f) => ({ source: f.source, target: f.target, mode: `0${f.mode.toString(8)}`, ...(f.uid === undefined ? {} : { uid: String(f.uid) }), ...(f.gid === undefined ? {} : { gid: String(f.gid) }) })),
  );
  set(out, "container_name", o.name);
  const limits: Doc = {};
  if (o.resources?.memory !== undefined) limits.memory = o.resources.memory;
  if (o.resources?.cpus !== undefined) limits.cpus = String(o.resources.cpus);
  if (o.resources?.pids !== undefined) limits.pids = o.resources.pids;
  if (Object.keys(limits).length > 0) out.deploy = { resources: { limits } };
  set(out, "depends_on", Object.fromEntries(Object.entries(s.dependsOn).map(([dep, d]) => [dep, { condition: conditionNames[d.condition], required: d.required }])));
  set(
    out,
    "devices",
    o.devices?.map((d) => (typeof d === "string" ? d : `${d.path}:${d.target ?? d.path}:${d.access ?? "rwm"}`)),
  );
  set(out, "dns", o.dns?.servers);
  set(out, "dns_opt", o.dns?.options);
  set(out, "dns_search", o.dns?.search);
  set(out, "domainname", o.domainname);
  set(out, "entrypoint", o.entrypoint);
  set(out, "environment", o.env);
  set(out, "expose", s.expose);
  set(out, "extra_hosts", o.extraHosts === undefined ? undefined : Object.entries(o.extraHosts).map(([host, address]) => `${host}=${address}`));
  if (o.healthcheck !== undefined) out.healthcheck = healthcheck(o.healthcheck);
  set(out, "hostname", o.hostname);
  set(out, "image", s.image);
  if (o.init !== undefined) out.init = o.init;
  if (s.sharesIpcOf !== undefined) out.ipc = `service:${s.sharesIpcOf}`;
  else if (typeof o.ipc === "string") out.ipc = o.ipc;
  set(out, "labels", o.labels);
  if (o.network === "host" || o.network === "none" || o.network === "slirp4netns" || o.network === "pasta") out.network_mode = o.network;
  else if (s.sharesNetworkOf !== undefined) out.network_mode = `service:${s.sharesNetworkOf}`;
  else set(out, "networks", Object.fromEntries(Object.entries(s.networks).map(([n, v]) => [n, v.aliases.length > 0 ? { aliases: v.aliases } : null])));
  if (s.sharesPidOf !== undefined) out.pid = `service:${s.sharesPidOf}`;
  else if (o.pid === "host") out.pid = "host";
  set(out, "ports", (o.ports ?? []).map(port));
  set(out, "post_start", s.postStart?.map(hook));
  set(out, "pre_stop", s.preStop?.map(hook));
  if (o.privileged !== undefined) out.privileged = o.privileged;
  set(out, "profiles", s.profiles);
  if (o.readonlyRootfs !== undefined) out.read_only = o.readonlyRootfs;
  out.restart = s.restart.policy === "on-failure" && s.restart.maxRetries !== undefined ? `on-failure:${s.restart.maxRetries}` : s.restart.policy;
  set(
    out,
    "secrets",
    s.files
      .filter((f) => f.kind === "secret")
      .map((f) => ({ source: f.source, target: f.target, mode: `0${f.mode.toString(8)}`, ...(f.uid === undefined ? {} : { uid: String(f.uid) }), ...(f.gid === undefined ? {} : { gid: String(f.gid) }) })),
  );
  if (o.noNewPrivileges !== undefined) out.security_opt = [`no-new-privileges:${o.noNewPrivileges}`];
  set(out, "shm_size", o.shmSize);
  if (o.stopTimeoutMs !== undefined) out.stop_grace_period = duration(o.stopTimeoutMs);
  set(out, "stop_signal", o.stopSignal);
  set(out, "sysctls", o.sysctls === undefined ? undefined : Object.fromEntries(Object.entries(o.sysctls).map(([k, v]) => [k, String(v)])));
  const tmpfs = (o.mounts ?? []).filter((m): m is TmpfsMount => typeof m === "object" && "tmpfs" in m);
  set(out, "ulimits", o.ulimits);
  set(out, "user", o.user);
  set(out, "volumes", [
    ...s.volumes.map((v) => ({
      type: v.type,
      ...(v.source === undefined ? {} : { source: v.source }),
      target: v.target,
      ...(v.readOnly ? { read_only: true } : {}),
      ...(v.type === "bind" ? { bind: { create_host_path: v.createHostPath ?? false } } : {}),
    })),
    ...tmpfs.map((m) => ({ type: "tmpfs", target: m.tmpfs, ...(m.sizeBytes === undefined ? {} : { tmpfs: { size: m.sizeBytes } }) })),
  ]);
  set(out, "working_dir", o.workdir);
  return out;
}

/** A post_start or pre_stop hook in compose's long syntax. */
function hook(h: LifecycleHookPlan): Doc {
  const d: Doc = { command: h.command };
  set(d, "user", h.user);
  if (h.privileged) d.privileged = true;
  set(d, "working_dir", h.workingDir);
  set(d, "environment", h.environment);
  return d;
}

function sortedKeys<T>(record: Record<string, T>): Record<string, T> {
  return Object.fromEntries(
    Object.keys(record)
      .sort()
      .map((k) => [k, record[k]!]),
  );
}

/**
 * The compose document a plan stands for, with keys sorted as `docker compose config` sorts them.
 *
 * @example
 * ```ts
 * import { stringify } from "yaml";
 * console.log(stringify(composeModel(loadCompose("compose.yaml"))));
 * ```
 */
export function composeModel(plan: StackPlan): Doc {
  const out: Doc = { name: plan.name };
  const services: Doc = {};
  for (const name of Object.keys(plan.services).sort()) services[name] = service(plan.services[name]!);
  out.services = services;
  set(out, "networks", sortedKeys(Object.fromEntries(Object.entries(plan.networks).map(([k, n]) => [k, { name: n.name, ...(n.external ? { external: true } : {}), ...(Object.keys(n.labels).length ? { labels: n.labels } : {}) }]))));
  set(out, "volumes", sortedKeys(Object.fromEntries(Object.entries(plan.volumes).map(([k, v]) => [k, { name: v.name, ...(v.external ? { external: true } : {}), ...(Object.keys(v.labels).length ? { labels: v.labels } : {}) }]))));
  const sources = (record: StackPlan["secrets"]) =>
    sortedKeys(Object.fromEntries(Object.entries(record).map(([k, f]) => [k, f.file !== undefined ? { file: f.file } : f.environment !== undefined ? { environment: f.environment } : { content: f.content ?? "" }])));
  set(out, "secrets", sources(plan.secrets));
  set(out, "configs", sources(plan.configs));
  return out;
}

/**
 * Between the runtime config the plan fold works on (src/image/config.ts, Docker's field names,
 * every field present) and the `config` object of a stored OCI image config (fields optional,
 * Docker's extras kept: Healthcheck, Shell, OnBuild).
 */
import type { ContainerConfig } from "../store/types.js";
import { emptyImageConfig, type HealthcheckConfig, type ImageConfig } from "../image/config.js";

/**
 * The runtime config of a stored image's `config` (absent fields get their empty values).
 *
 * @example
 * ```ts
 * runtimeConfigOf((await store.resolve("alpine:3.20")).config.config).Cmd; // ["/bin/sh"]
 * ```
 */
export function runtimeConfigOf(stored: ContainerConfig | undefined): ImageConfig {
  const base = emptyImageConfig();
  if (stored === undefined) return { ...base, Env: [], WorkingDir: "" };
  const config: ImageConfig = {
    Env: [...(stored.Env ?? [])],
    WorkingDir: stored.WorkingDir ?? "",
    User: stored.User ?? "",
    ExposedPorts: Object.fromEntries(Object.keys(stored.ExposedPorts ?? {}).map((k) => [k, {}])),
    Volumes: Object.fromEntries(Object.keys(stored.Volumes ?? {}).map((k) => [k, {}])),
    Labels: { ...(stored.Labels ?? {}) },
  };
  if (stored.Entrypoint != null) config.Entrypoint = [...stored.Entrypoint];
  if (stored.Cmd != null) config.Cmd = [...stored.Cmd];
  if (stored.StopSignal) config.StopSignal = stored.StopSignal;
  if (stored.Healthcheck?.Test !== undefined) config.Healthcheck = { ...stored.Healthcheck, Test: [...stored.Healthcheck.Test] } as HealthcheckConfig;
  if (stored.Shell !== undefined && stored.Shell.length > 0) config.Shell = [...stored.Shell];
  if (stored.OnBuild != null && stored.OnBuild.length > 0) config.OnBuild = [...stored.OnBuild];
  return config;
}

/**
 * The stored form of a runtime config: empty fields left out, as Docker writes them.
 *
 * @example
 * ```ts
 * storedConfigOf({ ...emptyImageConfig(), Cmd: ["sh"] }); // { Env: ["PATH=..."], Cmd: ["sh"], WorkingDir: "/" }
 * ```
 */
export function storedConfigOf(config: ImageConfig): ContainerConfig {
  const out: ContainerConfig = {};
  if (config.User !== "") out.User = config.User;
  if (Object.keys(config.ExposedPorts).length > 0) out.ExposedPorts = sortedRecord(config.ExposedPorts);
  if (config.Env.length > 0) out.Env = [...config.Env];
  if (config.Entrypoint != null) out.Entrypoint = [...config.Entrypoint];
  if (config.Cmd != null) out.Cmd = [...config.Cmd];
  if (Object.keys(config.Volumes).length > 0) out.Volumes = sortedRecord(config.Volumes);
  if (config.WorkingDir !== "") out.WorkingDir = config.WorkingDir;
  if (Object.keys(config.Labels).length > 0) out.Labels = sortedRecord(config.Labels);
  if (config.StopSignal !== undefined) out.StopSignal = config.StopSignal;
  if (config.Healthcheck !== undefined) out.Healthcheck = { ...config.Healthcheck, Test: [...config.Healthcheck.Test] };
  if (config.Shell !== undefined) out.Shell = [...config.Shell];
  if (config.OnBuild != null && config.OnBuild.length > 0) out.OnBuild = [...config.OnBuild];
  return out;
}

function sortedRecord<T>(record: Record<string, T>): Record<string, T> {
  return Object.fromEntries(
    Object.keys(record)
      .sort()
      .map((k) => [k, record[k] as T]),
  );
}

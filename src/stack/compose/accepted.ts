/**
 * Compose keys bento accepts without running anything differently, each with a one-line warning
 * saying what bento does instead, and the keys whose value decides whether bento can run the
 * service at all (`platform`, `security_opt`, `tty`, `stdin_open`).
 */
import type { ContainerOptions } from "../../container/options.js";
import { at, toBool, toStringList, type NormalizeContext, type Segments } from "./context.js";

/** Keys that do not change what runs, and what bento does about them. */
const ignored: Record<string, string> = {
  develop: "develop (compose watch) is ignored: bento runs what the files say when up() starts",
  logging: "logging is ignored: bento keeps each container's output itself (logs(), bento logs)",
  attach: "attach is ignored: bento records every service's output",
  annotations: "annotations are ignored: bento has no OCI annotations to set",
};

/** This machine's platform, as compose writes it. */
export function machinePlatform(): string {
  const arch: Record<string, string> = { x64: "amd64", arm64: "arm64", arm: "arm", ppc64: "ppc64le", s390x: "s390x", riscv64: "riscv64", ia32: "386" };
  return `linux/${arch[process.arch] ?? process.arch}`;
}

/**
 * The keys of `raw` handled here: names of ignored keys (each warned about), and the options
 * the others give (`security_opt: [no-new-privileges]`).
 *
 * @example
 * ```ts
 * acceptedKeys(ctx, ["services", "web"], { logging: { driver: "json-file" }, tty: true }); // warns twice; {}
 * ```
 */
export function acceptedKeys(ctx: NormalizeContext, service: Segments, raw: Record<string, unknown>): ContainerOptions {
  const name = String(service[service.length - 1]);
  for (const [key, warning] of Object.entries(ignored)) if (raw[key] !== undefined) ctx.warn(`service ${name}: ${warning}`);
  for (const key of ["tty", "stdin_open"] as const) {
    if (raw[key] !== undefined && toBool(ctx, at(service, key), raw[key])) ctx.warn(`service ${name}: ${key} is accepted, but bento gives a service no terminal and no stdin: its output is logged`);
  }
  if (typeof raw.platform === "string") {
    const wanted = raw.platform.replace(/\/v\d+$/, "");
    if (wanted !== machinePlatform())
      ctx.unsupported(at(service, "platform"), `${raw.platform} is not this machine's platform (${machinePlatform()}); bento runs images of this machine's platform only: remove platform or set it to ${machinePlatform()}`);
  }
  const options: ContainerOptions = {};
  if (raw.security_opt !== undefined) {
    toStringList(raw.security_opt).forEach((entry, i) => {
      const m = /^no-new-privileges(?:[:=](true|false))?$/.exec(entry);
      if (m) options.noNewPrivileges = m[1] !== "false";
      else ctx.unsupported(at(service, "security_opt", i), `${JSON.stringify(entry)} is not supported (only no-new-privileges is; bento applies its own seccomp and capability defaults)`);
    });
  }
  return options;
}

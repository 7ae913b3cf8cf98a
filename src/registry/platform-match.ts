/**
 * Platforms: parsing `os/arch[/variant]`, the default (this machine's architecture on Linux), and
 * choosing a manifest from an image index as containerd's platform matcher does: same OS and
 * architecture; for the variant, an exact match first, then a missing one (arm64's default is
 * v8). Attestation manifests (`unknown/unknown`) are never chosen.
 */
import { InvalidOptionError } from "../errors.js";
import { hostArchitecture } from "../store/platform.js";
import { MediaType, type Descriptor, type ImageIndex, type Platform } from "../store/types.js";

/** The variant an architecture implies when none is given. */
const DEFAULT_VARIANT: Record<string, string> = { arm64: "v8", arm: "v7" };

/**
 * Parses `linux/amd64`, `linux/arm64/v8` or `arm64` (Linux implied); an object passes through.
 *
 * @example
 * ```ts
 * parsePlatform("linux/arm/v7"); // { os: "linux", architecture: "arm", variant: "v7" }
 * ```
 */
export function parsePlatform(platform: string | Platform | undefined): Platform {
  if (platform === undefined) return defaultPlatform();
  if (typeof platform === "object") {
    if (!platform.os || !platform.architecture) throw new InvalidOptionError("platform", 'needs os and architecture, such as { os: "linux", architecture: "amd64" }');
    return platform;
  }
  const parts = platform.trim().toLowerCase().split("/");
  if (parts.length === 1 && parts[0]) return { os: "linux", architecture: normalizeArch(parts[0]) };
  if ((parts.length === 2 || parts.length === 3) && parts.every(Boolean)) {
    const [os, arch, variant] = parts as [string, string, string | undefined];
    return variant === undefined ? { os, architecture: normalizeArch(arch) } : { os, architecture: normalizeArch(arch), variant };
  }
  throw new InvalidOptionError("platform", `"${platform}" is not a platform; use os/arch[/variant], such as linux/amd64 or linux/arm64/v8`);
}

function normalizeArch(arch: string): string {
  if (arch === "x86_64" || arch === "x86-64") return "amd64";
  if (arch === "aarch64") return "arm64";
  return arch;
}

/** Linux on this machine's architecture (`linux/amd64` on x86-64). */
export function defaultPlatform(): Platform {
  return { os: "linux", architecture: hostArchitecture() };
}

/** `linux/arm64/v8`. */
export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join("/");
}

function variantOf(p: Platform): string | undefined {
  return p.variant ?? DEFAULT_VARIANT[p.architecture];
}

/**
 * The index entry for `want`, or undefined. Among matches, an exact variant beats an implied one,
 * and the first listed wins a tie.
 *
 * @example
 * ```ts
 * const entry = selectManifest(index, parsePlatform("linux/amd64"));
 * ```
 */
export function selectManifest(index: ImageIndex, want: Platform): Descriptor | undefined {
  let best: { entry: Descriptor; score: number } | undefined;
  for (const entry of index.manifests ?? []) {
    const p = entry.platform;
    if (p === undefined || entry.annotations?.["vnd.docker.reference.type"] === "attestation-manifest") continue;
    if (p.os !== want.os || normalizeArch(p.architecture) !== want.architecture) continue;
    const have = variantOf(p);
    const wanted = variantOf(want);
    let score: number;
    if (have === wanted) score = p.variant === want.variant ? 3 : 2;
    else if (want.variant === undefined && wanted === undefined) score = 1;
    else if (have === undefined) score = 1;
    else continue;
    if (best === undefined || score > best.score) best = { entry, score };
  }
  return best?.entry;
}

/** The platforms an index offers, for messages. */
export function platformsOf(index: ImageIndex): string[] {
  return (index.manifests ?? []).flatMap((m) => (m.platform && m.platform.os !== "unknown" ? [formatPlatform(m.platform)] : []));
}

/** The media type of a stored manifest or index, from its own field or its shape. */
export function documentType(bytes: Buffer): string {
  try {
    const doc = JSON.parse(bytes.toString("utf8")) as { mediaType?: unknown; manifests?: unknown };
    if (typeof doc.mediaType === "string") return doc.mediaType;
    return Array.isArray(doc.manifests) ? MediaType.ociIndex : MediaType.ociManifest;
  } catch {
    return "";
  }
}

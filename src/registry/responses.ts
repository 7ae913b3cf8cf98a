/**
 * Reading a registry's answers: the content type, the auth challenge to answer, the error text a
 * registry sends, and the pieces of messages about them.
 */
import { isDigest } from "../store/digest.js";
import { parseWwwAuthenticate, type AuthChallenge } from "./auth-challenge.js";

/** `@sha256:...` for a digest, `:tag` for a tag: how a reference follows a repository name. */
export function referenceSuffix(reference: string): string {
  return isDigest(reference) ? `@${reference}` : `:${reference}`;
}

/** A registry's message in parentheses, or nothing. */
export function suffix(message: string | undefined): string {
  return message ? ` (${message})` : "";
}

/** The media type of a response, without parameters. */
export function contentType(res: Response): string | undefined {
  const type = res.headers.get("content-type");
  return type === null ? undefined : (type.split(";")[0] as string).trim();
}

/** The Bearer challenge if offered, else Basic, else the first. */
export function pickChallenge(header: string | null): AuthChallenge | undefined {
  if (header === null) return { scheme: "basic", params: {} };
  const all = parseWwwAuthenticate(header);
  return all.find((c) => c.scheme === "bearer") ?? all.find((c) => c.scheme === "basic") ?? all[0] ?? { scheme: "basic", params: {} };
}

/** The registry's error text (`{"errors":[{"code","message"}]}`), when it sent one. */
export async function registryMessage(res: Response): Promise<string | undefined> {
  if (res.bodyUsed || res.body === null) return undefined;
  const text = await res.text().catch(() => "");
  try {
    const parsed = JSON.parse(text) as { errors?: Array<{ code?: string; message?: string }>; details?: string; message?: string };
    if (Array.isArray(parsed.errors) && parsed.errors.length > 0) {
      return parsed.errors.map((e) => [e.code, e.message].filter(Boolean).join(": ")).join("; ");
    }
    return parsed.details ?? parsed.message ?? undefined;
  } catch {
    return text.trim().slice(0, 200) || undefined;
  }
}

/**
 * The plain progress line of a build event: what `bento build --progress plain` prints.
 */
import { shortId } from "./table.js";

/** The progress events the display reads (the build engine's BuildProgressEvent, structurally). */
export interface ProgressEvent {
  type: string;
  step?: number;
  total?: number;
  stage?: string;
  instruction?: string;
  cached?: boolean;
  reason?: string;
  text?: string;
  durationMs?: number;
  id?: string;
  cachedSteps?: number;
  cacheRef?: string;
  message?: string;
}

/** One line of the progress display for an event, or undefined for events it does not show. */
export function progressLine(event: ProgressEvent): string | undefined {
  switch (event.type) {
    case "step": {
      const head = `[${event.stage ?? "0"}] step ${event.step}/${event.total}: ${event.instruction ?? ""}`;
      if (event.cached) return event.cacheRef === undefined ? `${head} (cached)` : `${head} (cached, from ${event.cacheRef})`;
      return event.reason ? `${head} (${event.reason})` : head;
    }
    case "step-done":
      return event.durationMs === undefined ? undefined : `  done in ${(event.durationMs / 1000).toFixed(1)}s`;
    case "warning":
      return `warning: ${event.message ?? ""}`;
    case "output":
      return event.text === undefined ? undefined : `  ${event.text.replace(/\n$/, "")}`;
    case "image":
      return `built ${shortId(event.id ?? "")}${event.cachedSteps === undefined ? "" : ` (${event.cachedSteps}/${event.total} steps cached)`}${event.durationMs === undefined ? "" : ` in ${(event.durationMs / 1000).toFixed(1)}s`}`;
    default:
      return undefined;
  }
}

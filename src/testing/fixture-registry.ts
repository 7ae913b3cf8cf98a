/**
 * Fixtures shared by concurrent vitest runs on one machine, counted on disk: under
 * `<runtimeDir>/fixtures/<name>/`, `owner.json` names the run that started the fixture (pid and
 * process start time, so a reused pid is not mistaken for it) with the fixture's details, and
 * `users/` holds one file per run using it. Changes happen under an flock(2) on `lock`, which the
 * kernel releases when a process dies, so a crash never leaves it held.
 *
 * A container cannot outlive the process that started it (DESIGN section 8: the kernel ends it with
 * that process). So "the last user removes it" works like this: the run that started the fixture
 * keeps it, and in its teardown waits until no other live run uses it, then removes it.
 */
import { randomBytes } from "node:crypto";
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { config } from "../config.js";
import { debug } from "../debug.js";
import { InvalidOptionError } from "../errors.js";
import { loadAddon } from "../native/load.js";

/** A process, told apart from a later one with the same pid by its start time. */
interface ProcessIdentity {
  pid: number;
  startTime: string;
}

interface OwnerRecord extends ProcessIdentity {
  details: unknown;
}

const namePattern = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const lockPollMs = 25;
const usersPollMs = 100;

/** The start time of a process in clock ticks since boot (proc(5), /proc/<pid>/stat field 22); undefined when it is gone. */
function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Field 2 (comm) may hold spaces and parentheses; the fields after it start past the last ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return fields[0] === "Z" ? undefined : fields[19];
  } catch {
    return undefined;
  }
}

function alive(identity: ProcessIdentity): boolean {
  return processStartTime(identity.pid) === identity.startTime;
}

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as T;
  } catch {
    return undefined;
  }
}

function writeJson(file: string, value: unknown): void {
  writeFileSync(`${file}.tmp`, JSON.stringify(value));
  renameSync(`${file}.tmp`, file);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A run's use of a shared fixture, from {@link SharedFixtureRegistry.acquire}. */
export interface SharedFixtureLease<D> {
  /** The fixture's details, as its owner recorded them. */
  readonly details: D;
  /** True when this run started the fixture (and so removes it). */
  readonly owner: boolean;
  /** Ends this run's use; the owner waits for the other users, then stops the fixture. */
  release(): Promise<void>;
}

/**
 * The on-disk registry of shared fixtures.
 *
 * @example
 * ```ts
 * const lease = await new SharedFixtureRegistry().acquire("pg", async () => ({ details: { url }, stop: () => running.stop() }));
 * await lease.release();
 * ```
 */
export class SharedFixtureRegistry {
  private readonly self: ProcessIdentity;

  constructor(
    /** Where the registry lives; default `<runtimeDir>/fixtures`. */
    readonly dir: string = join(config().runtimeDir, "fixtures"),
  ) {
    this.self = { pid: process.pid, startTime: processStartTime(process.pid) ?? "0" };
  }

  /**
   * Joins the fixture `name` when a live run owns it; otherwise starts it with `start` (other runs
   * wait meanwhile) and owns it.
   *
   * @example
   * ```ts
   * const lease = await registry.acquire("redis", startRedis);
   * ```
   */
  async acquire<D>(name: string, start: () => Promise<{ details: D; stop: () => Promise<void> }>): Promise<SharedFixtureLease<D>> {
    if (typeof name !== "string" || !namePattern.test(name)) {
      throw new InvalidOptionError("share", `"${String(name)}" may only hold letters, digits, "_", "." and "-", and must start with a letter or digit`);
    }
    const dir = join(this.dir, name);
    mkdirSync(join(dir, "users"), { recursive: true, mode: 0o700 });
    const token = `${this.self.pid}-${this.self.startTime}-${randomBytes(4).toString("hex")}`;
    const userFile = join(dir, "users", token);
    const unlock = await this.lock(dir);
    try {
      const owner = readJson<OwnerRecord>(join(dir, "owner.json"));
      if (owner !== undefined && alive(owner)) {
        writeJson(userFile, this.self);
        debug("wait", `shared fixture ${name}: joined (owner pid ${owner.pid})`);
        return { details: owner.details as D, owner: false, release: () => this.leave(dir, userFile) };
      }
      // No owner, or a dead one: what it started died with it (the sweep removes the rest).
      const { details, stop } = await start();
      writeJson(join(dir, "owner.json"), { ...this.self, details } satisfies OwnerRecord);
      writeJson(userFile, this.self);
      debug("wait", `shared fixture ${name}: started`);
      return { details, owner: true, release: () => this.retire(name, dir, userFile, stop) };
    } finally {
      unlock();
    }
  }

  /** Takes the registry entry's lock, polling: a blocking flock would block Node's event loop. */
  private async lock(dir: string): Promise<() => void> {
    const fd = openSync(join(dir, "lock"), "a", 0o600);
    const addon = loadAddon();
    while (!addon.flock(fd, "exclusive", false)) await sleep(lockPollMs);
    return () => closeSync(fd);
  }

  /** Live users other than `except`; removes the files of dead ones. */
  private otherUsers(dir: string, except: string): string[] {
    const users: string[] = [];
    for (const entry of readdirSync(join(dir, "users"))) {
      const file = join(dir, "users", entry);
      if (file === except || entry.endsWith(".tmp")) continue;
      const identity = readJson<ProcessIdentity>(file);
      if (identity !== undefined && alive(identity)) users.push(entry);
      else rmSync(file, { force: true });
    }
    return users;
  }

  private async leave(dir: string, userFile: string): Promise<void> {
    const unlock = await this.lock(dir);
    try {
      rmSync(userFile, { force: true });
    } finally {
      unlock();
    }
  }

  private async retire(name: string, dir: string, userFile: string, stop: () => Promise<void>): Promise<void> {
    for (let logged = false; ; logged = true) {
      const unlock = await this.lock(dir);
      try {
        const others = this.otherUsers(dir, userFile);
        if (others.length === 0) {
          // Still under the lock: a run that arrives now waits, then starts a fresh fixture.
          await stop();
          rmSync(join(dir, "owner.json"), { force: true });
          rmSync(userFile, { force: true });
          debug("wait", `shared fixture ${name}: stopped by its last user`);
          return;
        }
        if (!logged) debug("wait", `shared fixture ${name}: waiting for ${others.length} other run(s) to finish with it`);
      } finally {
        unlock();
      }
      await sleep(usersPollMs);
    }
  }
}

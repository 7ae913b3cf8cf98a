/**
 * `Image`: an immutable, fluent builder of image plans. Each method returns a new frozen Image, so a
 * base can be branched; nothing does I/O until the image is built or run.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { InvalidOptionError } from "../errors.js";
import { parseDockerfile, parseOnbuildTrigger } from "./dockerfile.js";
import { toDockerfile } from "./dockerfile-printer.js";
import { DockerfileSyntaxError } from "./errors.js";
import {
  checkTemplate,
  chmodOf,
  chownOf,
  commandOf,
  describe,
  healthcheckStepOf,
  healthcheckTestOf,
  keyValuesOf,
  stageNameOf,
  type AddOptions,
  type CopyOptions,
  type FromOptions,
  type HealthcheckOptions,
  type RunOptions,
} from "./image-steps.js";
import { buildEngine, type BuildOptions, type BuildResult, type FromArchiveOptions } from "./build-engine.js";
import type { FromHostOptions } from "../host/host-image.js";
import type { CopySource, ImageBase, ImagePlan, ImageStep, RunStep } from "./plan.js";
import { validatePlan } from "./plan-validate.js";
import { parseRunMount, formatRunMount } from "./run-mount.js";
import type { EscapeToken } from "./shell-lexer.js";
import { findStage, splitStages } from "./stages.js";

/** Options of `Image.fromDockerfile()`. */
export interface FromDockerfileOptions {
  /** The build context directory that COPY/ADD sources are relative to. */
  context?: string;
  /** `--build-arg` values: they override ARG defaults of the same name. */
  buildArgs?: Record<string, string>;
  /** The stage to build (`FROM ... AS <target>`); default the last one. */
  target?: string;
}

// The plan the next `new Image()` takes; set only by `Image.of`, synchronously, just before `new`.
let pendingPlan: ImagePlan | undefined;

const EMPTY_PLAN: ImagePlan = deepFreeze({ version: 1, steps: [] });

/**
 * An image plan under construction: `Dockerfile` instructions as methods. Immutable: each method
 * returns a new `Image`, and the result of a chain must be used (a discarded one does nothing).
 *
 * Strings that a Dockerfile would expand (ENV and LABEL values, WORKDIR, USER, COPY paths, ...) are
 * expanded here too, at build time: `$VAR` and `${VAR:-default}` see earlier ENV and ARG values.
 * Write a literal `$` as `\\$`. Command text of `run`, `cmd` and `entrypoint` is left to the shell.
 *
 * @example
 * ```ts
 * const base = Image.from("docker.io/library/alpine:3.20");
 * const app = base.env({ MODE: "test" }).workdir("/app").copy("dist/", "/app/").cmd(["node", "main.js"]);
 * const debug = base.run("apk add --no-cache curl"); // base is unchanged
 * ```
 */
export class Image {
  // Replaced only by build({ context }), which records the context the image was built from.
  #plan: ImagePlan;

  /**
   * An empty plan: call `from()` (or use {@link Image.from}) before adding steps other than `arg()`.
   *
   * @example
   * ```ts
   * const img = new Image().from("alpine:3.20");
   * ```
   */
  constructor() {
    this.#plan = pendingPlan ?? EMPTY_PLAN;
    pendingPlan = undefined;
    Object.freeze(this);
  }

  /**
   * An image that starts from a reference (`alpine:3.20`), `"scratch"`, or another Image.
   *
   * @example
   * ```ts
   * const img = Image.from("docker.io/library/postgres:16", { platform: "linux/amd64" });
   * ```
   */
  static from(refOrImage: string | Image, options: FromOptions = {}): Image {
    return new Image().from(refOrImage, options);
  }

  /**
   * An image whose root filesystem is a host directory (resolved to an absolute path now; whether it
   * exists is checked when the image is built or run).
   *
   * @example
   * ```ts
   * const img = Image.fromRootfs("./test/fixtures/rootfs").cmd(["/probe", "hostname"]);
   * ```
   */
  static fromRootfs(dir: string, options: Omit<FromOptions, "platform"> = {}): Image {
    if (typeof dir !== "string" || dir === "") throw new InvalidOptionError("fromRootfs.dir", "expected a directory path");
    return new Image().#startStage({ type: "rootfs", path: path.resolve(dir) }, options);
  }

  /**
   * An Image from a JSON plan (as `toPlan()` returns). Checks the version, every step kind and field.
   *
   * @example
   * ```ts
   * const copy = Image.fromPlan(JSON.parse(JSON.stringify(app.toPlan())));
   * ```
   */
  static fromPlan(plan: unknown): Image {
    return Image.#of(validatePlan(plan));
  }

  /**
   * An Image from a Dockerfile: every stage, `FROM ... AS name`, `COPY --from`, heredocs,
   * `RUN --mount`. `target` picks the stage to build; `buildArgs` override ARG defaults; COPY/ADD
   * sources are relative to `context` (default: the Dockerfile's directory). Given a path, the file
   * is read synchronously, once, here: an Image is a plan, and this is its constructor. Throws
   * `DockerfileSyntaxError` naming the file, line, column and instruction for a malformed file.
   *
   * @example
   * ```ts
   * const prod = Image.fromDockerfile("./Dockerfile", { context: ".", buildArgs: { VERSION: "2" }, target: "prod" });
   * const inline = Image.fromDockerfile({ dockerfile: "FROM alpine\nRUN echo hi\n" });
   * ```
   */
  static fromDockerfile(path: string, options?: FromDockerfileOptions): Image;
  static fromDockerfile(options: FromDockerfileOptions & { dockerfile: string }): Image;
  static fromDockerfile(pathOrOptions: string | (FromDockerfileOptions & { dockerfile: string }), maybeOptions: FromDockerfileOptions = {}): Image {
    let text: string;
    let file: string;
    let options: FromDockerfileOptions;
    if (typeof pathOrOptions === "string") {
      file = path.resolve(pathOrOptions);
      options = { context: path.dirname(file), ...maybeOptions };
      try {
        text = readFileSync(file, "utf8");
      } catch (error) {
        throw new InvalidOptionError("fromDockerfile.path", `cannot read ${JSON.stringify(file)}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}; pass the path of a Dockerfile, or { dockerfile: text }`);
      }
    } else if (typeof pathOrOptions === "object" && pathOrOptions !== null && typeof pathOrOptions.dockerfile === "string") {
      text = pathOrOptions.dockerfile;
      file = "<inline>";
      options = pathOrOptions;
    } else {
      throw new InvalidOptionError("fromDockerfile", "expected a Dockerfile path or { dockerfile: text }");
    }
    if (options.buildArgs !== undefined) {
      for (const [key, value] of Object.entries(options.buildArgs)) {
        if (typeof value !== "string") throw new InvalidOptionError(`fromDockerfile.buildArgs.${key}`, `expected a string, got ${describe(value)}`);
      }
    }
    const plan = parseDockerfile(text, {
      file,
      ...(options.target === undefined ? {} : { target: options.target }),
      ...(options.buildArgs === undefined ? {} : { buildArgs: options.buildArgs }),
      ...(options.context === undefined ? {} : { context: options.context }),
    });
    if (file === "<inline>") delete plan.dockerfile;
    return Image.#of(plan);
  }

  static #of(plan: ImagePlan): Image {
    pendingPlan = deepFreeze(plan);
    return new Image();
  }

  /**
   * Starts a stage from a reference, `"scratch"`, a stage of this plan (by its `as` name) or another
   * Image. Steps before it stay, as the earlier stages of a multi-stage Dockerfile.
   *
   * @example
   * ```ts
   * const app = Image.from("golang:1.22", { as: "build" }).run("go build -o /out/app").from("scratch").copy("/out/app", "/app", { from: "build" });
   * ```
   */
  from(refOrImage: string | Image, options: FromOptions = {}): Image {
    let base: ImageBase;
    if (refOrImage instanceof Image) {
      base = { type: "image", plan: refOrImage.#plan };
    } else if (typeof refOrImage === "string") {
      const ref = checkTemplate("from.ref", refOrImage, this.#escape);
      if (/\s/.test(ref)) throw new InvalidOptionError("from.ref", `an image reference has no spaces: ${JSON.stringify(ref)}`);
      const stage = findStage(splitStages(this.#plan).stages, ref);
      if (ref === "scratch") base = { type: "scratch" };
      else if (stage !== undefined && !/^\d+$/.test(ref)) base = { type: "stage", name: stage.name as string };
      else base = { type: "ref", ref };
    } else {
      throw new InvalidOptionError("from", `expected an image reference or an Image, got ${describe(refOrImage)}`);
    }
    return this.#startStage(base, options);
  }

  #startStage(base: ImageBase, options: FromOptions): Image {
    const step: ImageStep = { kind: "from", base };
    if (options.as !== undefined) {
      const name = stageNameOf("from.as", options.as);
      if (splitStages(this.#plan).stages.some((s) => s.name === name)) throw new InvalidOptionError("from.as", `a stage named "${name}" already exists in this plan`);
      step.stage = name;
    }
    if (options.platform !== undefined) step.platform = checkTemplate("from.platform", options.platform, this.#escape);
    return Image.#of({ ...this.#plan, steps: [...this.#plan.steps, step] });
  }

  /**
   * The plan as JSON-safe data (a deep copy): `{ version: 1, steps: [...] }`.
   *
   * @example
   * ```ts
   * JSON.stringify(Image.from("alpine").toPlan()); // '{"version":1,"steps":[{"kind":"from","base":{"type":"ref","ref":"alpine"}}]}'
   * ```
   */
  toPlan(): ImagePlan {
    return structuredClone(this.#plan);
  }

  /**
   * The plan, for `JSON.stringify(image)`.
   *
   * @example
   * ```ts
   * JSON.stringify(image) === JSON.stringify(image.toPlan()); // true
   * ```
   */
  toJSON(): ImagePlan {
    return this.toPlan();
  }

  /**
   * The equivalent Dockerfile text.
   *
   * @example
   * ```ts
   * Image.from("alpine").run("echo hi").toDockerfile(); // "FROM alpine\nRUN echo hi\n"
   * ```
   */
  toDockerfile(): string {
    return toDockerfile(this.#plan);
  }

  /**
   * Builds the image into the store (default `Store.default()`) and tags it: RUN steps run in
   * build containers, COPY and ADD read `context`, and every step goes through the build cache
   * (Docker's rules). Progress events say which step runs, whether it was cached, and why not.
   * Throws `BuildStepError` (the step, its Dockerfile line, exit code, last output lines) when a
   * step fails, and `BuildContextError` when a COPY/ADD source leaves the context. After a build
   * with `context`, the image remembers it: containers and later builds of this Image (and Images
   * made from it) read COPY/ADD sources from that directory, whatever the working directory is then.
   *
   * @example
   * ```ts
   * const { id, layers, config } = await app.build({ tag: "myapp:test", context: ".", onProgress: (e) => console.log(e) });
   * ```
   */
  async build(options: BuildOptions = {}): Promise<BuildResult> {
    const result = await buildEngine("build").build(this.#plan, options);
    // A later `new Container(image)` rebuilds from the plan: it must read the same context.
    if (typeof options.context === "string") this.#plan = deepFreeze({ ...this.#plan, context: path.resolve(options.context) });
    return result;
  }

  /**
   * Imports a `docker save` tar or an OCI archive into the store and returns an Image of it (by
   * image id). `tag` picks one image of a multi-image archive.
   *
   * @example
   * ```ts
   * const alpine = await Image.fromArchive("./alpine.tar");
   * const app = alpine.run("apk add --no-cache curl");
   * ```
   */
  static async fromArchive(archivePath: string, options: FromArchiveOptions = {}): Promise<Image> {
    return Image.from(await buildEngine("fromArchive").importArchive(archivePath, options));
  }

  /**
   * A base image made of this machine's own programs and the shared libraries they load (found
   * as the dynamic loader finds them, on glibc and musl hosts), at their host paths, with
   * `/etc/passwd`, `/etc/group` and `/tmp`. It needs nothing installed or downloaded, and is
   * stored as one content-addressed layer: the same programs on an unchanged host are a cache
   * hit. Programs are names looked up in PATH or absolute paths; include `sh` for `run()` steps.
   *
   * @example
   * ```ts
   * const base = await Image.fromHost(["sh", "node"]);
   * const web = base.cmd(["node", "-e", "require('http').createServer((q, s) => s.end('hi')).listen(8080)"]);
   * ```
   */
  static async fromHost(programs: readonly string[], options: FromHostOptions = {}): Promise<Image> {
    const { hostImage } = await import("../host/host-image.js");
    return Image.from((await hostImage(programs, options)).id);
  }

  /**
   * Declares a build argument (`ARG name[=default]`). Before the first `from()` it is a global ARG,
   * visible to FROM lines only; redeclare it (without a default) inside a stage to use it there.
   *
   * @example
   * ```ts
   * Image.from("alpine").arg("VERSION", "1.0").env("APP_VERSION", "$VERSION");
   * ```
   */
  arg(name: string, defaultValue?: string): Image {
    if (typeof name !== "string" || name === "" || /[\s=]/.test(name)) throw new InvalidOptionError("arg.name", "expected a name with no spaces and no '='");
    const arg = defaultValue === undefined ? { name } : { name, default: checkTemplate("arg.default", defaultValue, this.#escape, { allowEmpty: true }) };
    return this.#append({ kind: "arg", args: [arg] }, "arg", true);
  }

  /**
   * Sets environment variables in the image (`ENV`). Values may use `$VAR` of earlier ENV/ARG.
   *
   * @example
   * ```ts
   * img.env({ NODE_ENV: "production" }).env("PATH", "/app/bin:$PATH");
   * ```
   */
  env(vars: Record<string, string>): Image;
  env(key: string, value: string): Image;
  env(keyOrVars: string | Record<string, string>, value?: string): Image {
    return this.#append({ kind: "env", vars: keyValuesOf("env", keyOrVars, value, this.#escape) }, "env");
  }

  /**
   * Sets the working directory (`WORKDIR`); a relative path builds on the previous one.
   *
   * @example
   * ```ts
   * img.workdir("/app").workdir("src"); // /app/src
   * ```
   */
  workdir(dir: string): Image {
    return this.#append({ kind: "workdir", path: checkTemplate("workdir", dir, this.#escape) }, "workdir");
  }

  /**
   * Copies files from the build context, a stage or another image (`COPY`). Paths are relative to
   * the build context and may not leave it.
   *
   * @example
   * ```ts
   * img.copy(["package.json", "package-lock.json"], "/app/", { chown: "1000:1000" });
   * Image.from("scratch").copy("/out/app", "/app", { from: builderImage });
   * ```
   */
  copy(src: string | string[], dst: string, options: CopyOptions = {}): Image {
    const sources = this.#sources("copy", src);
    const step: ImageStep = { kind: "copy", sources, dest: checkTemplate("copy.dst", dst, this.#escape) };
    if (options.from !== undefined) step.from = this.#copySource(options.from);
    if (options.chown !== undefined) step.chown = chownOf("copy.chown", options.chown, this.#escape);
    if (options.chmod !== undefined) step.chmod = chmodOf("copy.chmod", options.chmod);
    if (options.link !== undefined) step.link = bool("copy.link", options.link);
    if (options.parents !== undefined) step.parents = bool("copy.parents", options.parents);
    if (options.exclude !== undefined) step.exclude = this.#sources("copy.exclude", options.exclude);
    return this.#append(step, "copy");
  }

  /**
   * Adds files (`ADD`): like `copy`, and local archives are extracted and URLs downloaded.
   *
   * @example
   * ```ts
   * img.add("vendor.tar.gz", "/opt/");
   * ```
   */
  add(src: string | string[], dst: string, options: AddOptions = {}): Image {
    const step: ImageStep = { kind: "add", sources: this.#sources("add", src), dest: checkTemplate("add.dst", dst, this.#escape) };
    if (options.chown !== undefined) step.chown = chownOf("add.chown", options.chown, this.#escape);
    if (options.chmod !== undefined) step.chmod = chmodOf("add.chmod", options.chmod);
    if (options.link !== undefined) step.link = bool("add.link", options.link);
    if (options.checksum !== undefined) {
      if (typeof options.checksum !== "string" || !/^sha256:[0-9a-f]{64}$/.test(options.checksum)) throw new InvalidOptionError("add.checksum", "expected sha256:<64 hex digits>");
      step.checksum = options.checksum;
    }
    if (options.keepGitDir !== undefined) step.keepGitDir = bool("add.keepGitDir", options.keepGitDir);
    if (options.unpack !== undefined) step.unpack = bool("add.unpack", options.unpack);
    if (options.exclude !== undefined) step.exclude = this.#sources("add.exclude", options.exclude);
    return this.#append(step, "add");
  }

  /**
   * Runs a command in a build container (`RUN`): a string is the shell form (the image's SHELL,
   * `/bin/sh -c` by default; it may span lines), an array the exec form.
   *
   * @example
   * ```ts
   * img.run("apk add --no-cache curl", { mounts: [{ type: "cache", target: "/var/cache/apk" }] });
   * img.run(["/bin/make", "install"], { env: { PREFIX: "/usr" } });
   * ```
   */
  run(command: string | string[], options: RunOptions = {}): Image {
    const step: RunStep = { kind: "run", command: commandOf("run.command", command, { allowNewlines: true }) };
    if (options.env !== undefined) {
      if (typeof options.env !== "object" || options.env === null) throw new InvalidOptionError("run.env", "expected a record of strings");
      step.env = Object.entries(options.env).map(([key, value]) => {
        if (key === "" || /[\s=]/.test(key)) throw new InvalidOptionError(`run.env.${key}`, "a name must be non-empty, with no spaces and no '='");
        if (typeof value !== "string") throw new InvalidOptionError(`run.env.${key}`, `expected a string, got ${describe(value)}`);
        return { key, value };
      });
    }
    if (options.network !== undefined) {
      if (!["default", "none", "host"].includes(options.network)) throw new InvalidOptionError("run.network", 'expected "default", "none" or "host"');
      step.network = options.network;
    }
    if (options.security !== undefined) {
      if (!["sandbox", "insecure"].includes(options.security)) throw new InvalidOptionError("run.security", 'expected "sandbox" or "insecure"');
      step.security = options.security;
    }
    if (options.mounts !== undefined) {
      if (!Array.isArray(options.mounts)) throw new InvalidOptionError("run.mounts", "expected an array of mounts");
      step.mounts = options.mounts.map((m, i) => {
        try {
          // The CSV round trip checks every field the way a Dockerfile's --mount is checked.
          return parseRunMount(formatRunMount(m));
        } catch (error) {
          throw new InvalidOptionError(`run.mounts[${i}]`, (error as Error).message);
        }
      });
    }
    return this.#append(step, "run");
  }

  /**
   * Sets the user (and group) that later steps and the container run as (`USER`).
   *
   * @example
   * ```ts
   * img.user("1000:1000");
   * ```
   */
  user(user: string): Image {
    return this.#append({ kind: "user", user: checkTemplate("user", user, this.#escape) }, "user");
  }

  /**
   * Adds labels (`LABEL`).
   *
   * @example
   * ```ts
   * img.label({ "org.opencontainers.image.source": "https://example.com/repo" }).label("team", "qa");
   * ```
   */
  label(labels: Record<string, string>): Image;
  label(key: string, value: string): Image;
  label(keyOrLabels: string | Record<string, string>, value?: string): Image {
    return this.#append({ kind: "label", labels: keyValuesOf("label", keyOrLabels, value, this.#escape) }, "label");
  }

  /**
   * Documents a port the container listens on (`EXPOSE`): a number, or text such as `"53/udp"`.
   *
   * @example
   * ```ts
   * img.expose(8080).expose("53/udp");
   * ```
   */
  expose(port: number | string): Image {
    let text: string;
    if (typeof port === "number") {
      if (!Number.isInteger(port) || port < 1 || port > 65535) throw new InvalidOptionError("expose", `expected a port between 1 and 65535, got ${port}`);
      text = String(port);
    } else {
      text = checkTemplate("expose", port, this.#escape);
      if (!text.includes("$") && !/^\d+(-\d+)?(\/(tcp|udp|sctp))?$/i.test(text)) throw new InvalidOptionError("expose", `expected a port such as 8080, "53/udp" or "8000-8010/tcp", got ${JSON.stringify(text)}`);
    }
    return this.#append({ kind: "expose", ports: [text] }, "expose");
  }

  /**
   * Declares mount points for anonymous volumes (`VOLUME`).
   *
   * @example
   * ```ts
   * img.volume("/data", "/logs");
   * ```
   */
  volume(...paths: string[]): Image {
    if (paths.length === 0) throw new InvalidOptionError("volume", "expected at least one path");
    return this.#append({ kind: "volume", paths: paths.map((p, i) => checkTemplate(`volume[${i}]`, p, this.#escape)) }, "volume");
  }

  /**
   * Sets the health check (`HEALTHCHECK`): a shell command string, Docker's test array
   * (`["CMD", ...argv]`, `["CMD-SHELL", text]`), or `"NONE"` to turn off an inherited check.
   *
   * @example
   * ```ts
   * img.healthcheck(["CMD", "wget", "-q", "-O-", "localhost:8080"], { intervalMs: 500, retries: 20 });
   * ```
   */
  healthcheck(test: string | string[], options: HealthcheckOptions = {}): Image {
    return this.#append(healthcheckStepOf(healthcheckTestOf(test), options), "healthcheck");
  }

  /**
   * Sets the shell that shell-form commands run with (`SHELL`), such as `["/bin/bash", "-c"]`.
   *
   * @example
   * ```ts
   * img.shell(["/bin/bash", "-eo", "pipefail", "-c"]).run("curl -f example.com | sh");
   * ```
   */
  shell(argv: string[]): Image {
    if (!Array.isArray(argv) || argv.length === 0 || !argv.every((a) => typeof a === "string" && a !== "")) {
      throw new InvalidOptionError("shell", 'expected a non-empty array of strings, such as ["/bin/bash", "-c"]');
    }
    return this.#append({ kind: "shell", argv: [...argv] }, "shell");
  }

  /**
   * Sets the signal that stops the container (`STOPSIGNAL`), such as `SIGINT` or `9`.
   *
   * @example
   * ```ts
   * img.stopSignal("SIGQUIT");
   * ```
   */
  stopSignal(signal: string): Image {
    const text = checkTemplate("stopSignal", signal, this.#escape);
    if (!text.includes("$") && !/^(SIG)?[A-Z][A-Z0-9+-]*$|^\d+$/i.test(text)) throw new InvalidOptionError("stopSignal", `expected a signal name such as SIGTERM or a number, got ${JSON.stringify(text)}`);
    return this.#append({ kind: "stopSignal", signal: text }, "stopSignal");
  }

  /**
   * Adds a trigger that images built FROM this one run first (`ONBUILD`): Dockerfile text, or a
   * function that adds steps to the Image it is given.
   *
   * @example
   * ```ts
   * img.onbuild("COPY . /app/src").onbuild((i) => i.run("make -C /app/src"));
   * ```
   */
  onbuild(instruction: string | ((image: Image) => Image)): Image {
    if (typeof instruction === "function") {
      const seed = Image.from("scratch");
      const result = instruction(seed);
      if (!(result instanceof Image)) throw new InvalidOptionError("onbuild", "the function must return the Image it built (builders are immutable)");
      const added = result.#plan.steps.slice(seed.#plan.steps.length);
      if (added.length === 0) throw new InvalidOptionError("onbuild", "the function added no steps");
      let image: Image = this;
      for (const step of added) image = image.onbuild(onbuildText(step, this.#escape));
      return image;
    }
    if (typeof instruction !== "string" || instruction.trim() === "") throw new InvalidOptionError("onbuild", 'expected Dockerfile text such as "RUN make" or a function');
    if (/[\r\n]/.test(instruction)) throw new InvalidOptionError("onbuild", "an ONBUILD trigger is one line");
    try {
      parseOnbuildTrigger(instruction);
    } catch (error) {
      if (!(error instanceof DockerfileSyntaxError)) throw error;
      throw new InvalidOptionError("onbuild", `${error.reason}${error.expected === undefined ? "" : ` (expected ${error.expected})`}`);
    }
    return this.#append({ kind: "onbuild", instruction: instruction.trim() }, "onbuild");
  }

  /**
   * Sets the entrypoint (`ENTRYPOINT`). Resets a CMD inherited from the base image, as Docker does
   * (a CMD set earlier in the same stage stays). `[]` removes the entrypoint.
   *
   * @example
   * ```ts
   * img.entrypoint(["/bin/httpd", "-f"]).cmd(["-p", "8080"]);
   * ```
   */
  entrypoint(command: string | string[]): Image {
    return this.#append({ kind: "entrypoint", command: commandOf("entrypoint", command, { allowEmptyArray: true }) }, "entrypoint");
  }

  /**
   * Sets the default command, or the default arguments of the entrypoint (`CMD`). The last one wins.
   *
   * @example
   * ```ts
   * img.cmd(["node", "server.js"]);
   * ```
   */
  cmd(command: string | string[]): Image {
    return this.#append({ kind: "cmd", command: commandOf("cmd", command, { allowEmptyArray: true }) }, "cmd");
  }

  /**
   * Applies a reusable piece of a plan: `fn` gets this Image and returns the extended one.
   *
   * @example
   * ```ts
   * const withCurl = (i: Image) => i.run("apk add --no-cache curl");
   * Image.from("alpine").with(withCurl);
   * ```
   */
  with(fn: (image: Image) => Image): Image {
    if (typeof fn !== "function") throw new InvalidOptionError("with", `expected a function, got ${describe(fn)}`);
    const result = fn(this);
    if (!(result instanceof Image)) throw new InvalidOptionError("with", "the function must return an Image (builders are immutable: return the result of the chain)");
    return result;
  }

  get #escape(): EscapeToken {
    return this.#plan.escape ?? "\\";
  }

  #append(step: ImageStep, method: string, allowedBeforeFrom = false): Image {
    if (!allowedBeforeFrom && !this.#plan.steps.some((s) => s.kind === "from")) {
      throw new InvalidOptionError(method, "no base image yet: start with Image.from(ref), Image.fromRootfs(dir) or .from(ref)");
    }
    return Image.#of({ ...this.#plan, steps: [...this.#plan.steps, step] });
  }

  #sources(option: string, src: unknown): string[] {
    const list = typeof src === "string" ? [src] : src;
    if (!Array.isArray(list) || list.length === 0) throw new InvalidOptionError(option, "expected a path or a non-empty array of paths");
    return list.map((s, i) => checkTemplate(list.length === 1 ? option : `${option}[${i}]`, s, this.#escape));
  }

  #copySource(from: unknown): CopySource {
    if (from instanceof Image) return { type: "image", plan: from.#plan };
    const text = checkTemplate("copy.from", from, this.#escape);
    const stage = findStage(splitStages(this.#plan).stages, text);
    return stage !== undefined ? { type: "stage", name: stage.name ?? String(stage.index) } : { type: "ref", ref: text };
  }
}

function onbuildText(step: ImageStep, escape: EscapeToken): string {
  const text = toDockerfile({ version: 1, escape, steps: [{ kind: "from", base: { type: "scratch" } }, step] })
    .split("\n")
    .filter((line) => line !== "" && !line.startsWith("#"))
    .slice(1);
  if (text.length !== 1) throw new InvalidOptionError("onbuild", "a step with a multi-line form (such as a multi-line RUN script) cannot be an ONBUILD trigger");
  return text[0] as string;
}

function bool(option: string, value: unknown): boolean {
  if (typeof value !== "boolean") throw new InvalidOptionError(option, `expected true or false, got ${describe(value)}`);
  return value;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

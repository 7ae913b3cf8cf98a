/**
 * `Image`: an immutable, fluent builder of image plans. Each method returns a new frozen Image, so a
 * base can be branched; nothing does I/O until the image is built or run.
 * Over 400 lines: one public method per Dockerfile instruction, each with its doc and example;
 * the checks that make their steps are in instruction-steps.ts, image-steps.ts and dockerfile-plan.ts.
 */
import path from "node:path";
import { InvalidOptionError } from "../errors.js";
import { toDockerfile } from "./dockerfile-printer.js";
import { planFromDockerfile, type FromDockerfileOptions } from "./dockerfile-plan.js";
import { checkTemplate, commandOf, describe, healthcheckStepOf, healthcheckTestOf, keyValuesOf, stageNameOf, type AddOptions, type CopyOptions, type FromOptions, type HealthcheckOptions, type RunOptions } from "./image-steps.js";
import { addStepOf, argStepOf, copyStepOf, exposeStepOf, onbuildStepOf, onbuildText, runStepOf, shellStepOf, stopSignalStepOf, volumeStepOf } from "./instruction-steps.js";
import { buildEngine, type BuildOptions, type BuildResult, type FromArchiveOptions } from "./build-engine.js";
import type { FromHostOptions } from "../host/host-image.js";
import type { CopySource, ImageBase, ImagePlan, ImageStep } from "./plan.js";
import { validatePlan } from "./plan-validate.js";
import type { EscapeToken } from "./shell-lexer.js";
import { findStage, splitStages } from "./stages.js";

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
    return Image.#of(planFromDockerfile(pathOrOptions, maybeOptions));
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
    return this.#append(argStepOf(name, defaultValue, this.#escape), "arg", true);
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
    return this.#append(
      copyStepOf(src, dst, options, this.#escape, (from) => this.#copySource(from)),
      "copy",
    );
  }

  /**
   * Adds files (`ADD`): like `copy`, and local archives are extracted and URLs downloaded. An
   * archive's symlinks are kept as they are (absolute targets too), its hardlinks are made to the
   * earlier entry they name; an entry leaving the destination, a hardlink to a name the archive
   * does not hold, or (rootless) a device node fails the step, naming the entry.
   *
   * @example
   * ```ts
   * img.add("vendor.tar.gz", "/opt/");
   * ```
   */
  add(src: string | string[], dst: string, options: AddOptions = {}): Image {
    return this.#append(addStepOf(src, dst, options, this.#escape), "add");
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
    return this.#append(runStepOf(command, options), "run");
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
    return this.#append(exposeStepOf(port, this.#escape), "expose");
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
    return this.#append(volumeStepOf(paths, this.#escape), "volume");
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
    return this.#append(shellStepOf(argv), "shell");
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
    return this.#append(stopSignalStepOf(signal, this.#escape), "stopSignal");
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
    return this.#append(onbuildStepOf(instruction), "onbuild");
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

  #copySource(from: unknown): CopySource {
    if (from instanceof Image) return { type: "image", plan: from.#plan };
    const text = checkTemplate("copy.from", from, this.#escape);
    const stage = findStage(splitStages(this.#plan).stages, text);
    return stage !== undefined ? { type: "stage", name: stage.name ?? String(stage.index) } : { type: "ref", ref: text };
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

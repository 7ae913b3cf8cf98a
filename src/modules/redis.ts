/**
 * `bento/modules/redis`: a Redis server as a test fixture. {@link redis} gives a `Container` that
 * runs the official image (or any image with its conventions), {@link redisConnection} the
 * details a client needs, and {@link redisImageFromDebian} an image with the same conventions
 * built from a Debian base, for machines that cannot pull the official image.
 *
 * @packageDocumentation
 * @module bento/modules/redis
 */
// Containers build plans through the build engine, which installs itself when imported.
import "../builder/index.js";
import "../registry/store.js"; // installs the registry into the build engine (FROM pulls, archives)
import { Container } from "../container/container.js";
import type { ImageLike } from "../container/image-source.js";
import type { ContainerOptions } from "../container/options.js";
import type { RunningContainer } from "../container/running-container.js";
import { InvalidOptionError } from "../errors.js";
import type { Image } from "../image/image.js";
import { Wait } from "../wait/wait.js";
import { networkHost } from "./container-env.js";
import { imageOf } from "./image-of.js";

/**
 * The image {@link redis} runs by default (pulled as `BENTO_PULL_POLICY` allows).
 *
 * @example
 * ```ts
 * await Store.default().pull(REDIS_IMAGE);
 * ```
 */
export const REDIS_IMAGE = "docker.io/library/redis:7-alpine";

/**
 * The port Redis listens on in the container.
 *
 * @example
 * ```ts
 * const port = running.hostPort(REDIS_PORT);
 * ```
 */
export const REDIS_PORT = 6379;

/**
 * The `redis-server` arguments {@link redis} puts before the caller's `args` (which can override
 * them): settings for a throwaway test server.
 * - `--save ""`, `--appendonly no`: nothing is written to disk, so nothing is saved at shutdown.
 * - `--hz 100` (default 10): Redis acts on SIGTERM in its periodic task, which runs `hz` times a
 *   second, so at 10 a `stop()` waited 50 ms on average (up to 100) for the server to notice; at
 *   100, 5 ms. An idle server's CPU use stays negligible.
 *
 * @example
 * ```ts
 * redis({ args: ["--appendonly", "yes"] }); // persistence back on for this server
 * ```
 */
export const REDIS_TEST_ARGS: readonly string[] = Object.freeze(["--save", "", "--appendonly", "no", "--hz", "100"]);

/**
 * Options of {@link redis}.
 *
 * @example
 * ```ts
 * const options: RedisOptions = { password: "secret", args: ["--appendonly", "yes"] };
 * ```
 */
export interface RedisOptions {
  /**
   * The image: a reference or an Image with `redis-server` on its PATH, a user `redis` and a
   * working directory it owns, as the official image has (its entrypoint script is not run:
   * `redis-server` starts directly as `redis`). Default {@link REDIS_IMAGE}; see
   * {@link redisImageFromDebian} for one built locally.
   */
  image?: string | ImageLike;
  /** Require this password (`--requirepass`); default none. */
  password?: string;
  /** More `redis-server` arguments, such as `["--maxmemory", "64mb"]`. */
  args?: string[];
  /**
   * More container options (name, mounts, network, resources...). `ports` defaults to
   * `[6379]`; `wait` defaults to the server's "Ready to accept connections" log line;
   * `entrypoint` to none and `user` to `redis`; `command` is made from
   * {@link REDIS_TEST_ARGS}, `password` and `args`.
   */
  container?: Omit<ContainerOptions, "command">;
}

/**
 * How a client reaches a Redis container from this machine.
 *
 * @example
 * ```ts
 * const { host, port, url } = await redisConnection(running);
 * ```
 */
export interface RedisConnection {
  /** The host to connect to (published ports listen on loopback). */
  host: string;
  /** The host port that container port 6379 is published on. */
  port: number;
  /** The password the server requires (`--requirepass`), if any. */
  password?: string;
  /** A `redis://` URL: `redis://:password@host:port` (no password part without one). */
  url: string;
  /** The URL for other containers on the same bento Network: the container's name and port 6379. */
  networkUrl: string;
}

/**
 * A Redis server to start: a `Container` whose `start()` resolves once the server logs that it
 * accepts connections (after it has loaded any data), with port 6379 published.
 *
 * @example
 * ```ts
 * import { redis, redisConnection } from "bento/modules/redis";
 * import { useContainer } from "bento/vitest";
 *
 * const cache = useContainer(redis({ password: "secret" }), { scope: "file" });
 * it("caches", async () => {
 *   const { url } = await redisConnection(cache.current); // redis://:secret@127.0.0.1:40211
 * });
 * ```
 */
export function redis(options: RedisOptions = {}): Container {
  const args = options.args ?? [];
  if (!Array.isArray(args) || !args.every((a) => typeof a === "string")) {
    throw new InvalidOptionError("redis.args", 'expected an array of strings, e.g. ["--maxmemory", "64mb"]');
  }
  if (options.password !== undefined && (typeof options.password !== "string" || options.password === "" || /[\0\s]/.test(options.password))) {
    throw new InvalidOptionError("redis.password", "expected a non-empty string without spaces or NUL");
  }
  // Protected mode off, as the official image builds it: clients on a network are not loopback.
  const command = ["redis-server", "--protected-mode", "no", ...REDIS_TEST_ARGS, ...(options.password === undefined ? [] : ["--requirepass", options.password]), ...args];
  return new Container(imageOf(options.image ?? REDIS_IMAGE), {
    ports: [REDIS_PORT],
    wait: Wait.forLog("Ready to accept connections"),
    // The server itself, as user redis: the image's entrypoint script would only chown its own
    // files and drop to that user, at the cost of a shell, a find and a setpriv at every start.
    entrypoint: [],
    user: "redis",
    ...options.container,
    command,
  });
}

/**
 * The connection details of a running Redis container; the password is read from its command
 * line (`--requirepass`).
 *
 * @example
 * ```ts
 * await using cache = await redis().start();
 * const { host, port } = await redisConnection(cache);
 * const socket = net.connect(port, host);
 * ```
 */
export async function redisConnection(running: RunningContainer): Promise<RedisConnection> {
  const argv = (await running.inspect()).process.argv;
  const at = argv.lastIndexOf("--requirepass");
  const password = at >= 0 ? argv[at + 1] : undefined;
  const host = running.host;
  const port = running.hostPort(REDIS_PORT);
  const url = `redis://${password === undefined ? "" : `:${encodeURIComponent(password)}@`}${host}:${port}`;
  const networkUrl = `redis://${password === undefined ? "" : `:${encodeURIComponent(password)}@`}${networkHost(running)}:${REDIS_PORT}`;
  return password === undefined ? { host, port, url, networkUrl } : { host, port, password, url, networkUrl };
}

// A subset of the official image's docker-entrypoint.sh: a command starting with an option or a
// .conf file runs redis-server; redis-server runs as user redis (setpriv, util-linux) in /data,
// with protected mode off unless the arguments set it (the official image's build turns its
// default off: clients come from other addresses than loopback).
const REDIS_ENTRYPOINT = `#!/bin/sh
set -eu
case "\${1:-}" in -*|*.conf) set -- redis-server "$@" ;; esac
if [ "\${1:-}" = redis-server ]; then
  case " $* " in *" --protected-mode "*) ;; *) set -- "$@" --protected-mode no ;; esac
  if [ "$(id -u)" = 0 ]; then
    find . \\! -user redis -exec chown redis '{}' +
    exec setpriv --reuid=redis --regid=redis --init-groups "$@"
  fi
fi
exec "$@"
`;

const REDIS_INSTALL = `set -eu
printf '#!/bin/sh\\nexit 101\\n' > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d
apt-get update -qq
apt-get install -y -qq --no-install-recommends redis-server > /dev/null
rm -rf /var/lib/apt/lists/*
mkdir -p /data
chown redis:redis /data`;

/**
 * A Redis image built from a Debian base (bookworm gives Redis 7.0) that follows the official
 * image's conventions: `redis-server` (or options, or a .conf file) as the command, run as user
 * redis in `/data`, port 6379, protected mode off. For machines without access to Docker Hub;
 * the build apt-installs over the host's network and is cached like any other. Unlike the
 * official image it declares no VOLUME.
 *
 * @example
 * ```ts
 * const image = Image.fromRootfs("/srv/debian-bookworm").with(redisImageFromDebian);
 * await using cache = await redis({ image }).start();
 * ```
 */
export function redisImageFromDebian(base: Image): Image {
  return base
    .run(REDIS_INSTALL, { env: { DEBIAN_FRONTEND: "noninteractive" } })
    .run(["/bin/sh", "-c", 'printf "%s" "$1" > /usr/local/bin/docker-entrypoint.sh && chmod 755 /usr/local/bin/docker-entrypoint.sh', "sh", REDIS_ENTRYPOINT])
    .env({ PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" })
    .workdir("/data")
    .expose(REDIS_PORT)
    .entrypoint(["docker-entrypoint.sh"])
    .cmd(["redis-server"]);
}

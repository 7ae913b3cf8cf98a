/**
 * bento/modules/redis against a real server: the Debian-built image (no Docker Hub here), the
 * readiness log line, and PING/SET/GET over a raw socket (RESP) through the published port.
 */
import "../setup-env.js";
import { debianBase, expectNoLeaks, serverSuites } from "./kit.js";
import { connect, type Socket } from "node:net";
import { createClient } from "redis";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Image } from "../../../src/image/image.js";
import { useContainer } from "../../../src/testing/vitest.js";
import { StartupError } from "../../../src/errors.js";
import { REDIS_IMAGE, redis, redisConnection, redisImageFromDebian } from "../../../src/modules/redis.js";

const describeServer = serverSuites("Redis", async () => (await debianBase()).with(redisImageFromDebian));

const started: string[] = [];
afterAll(() => expectNoLeaks(started));

/** A minimal RESP client: one command at a time, simple strings, errors, integers and bulk strings. */
class Resp {
  private buffered = Buffer.alloc(0);
  private waiting: ((closed: boolean) => void) | undefined;

  private constructor(private readonly socket: Socket) {
    socket.on("data", (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      this.waiting?.(false);
    });
    socket.on("close", () => this.waiting?.(true));
  }

  static open(port: number, host: string): Promise<Resp> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, host, () => resolve(new Resp(socket)));
      socket.once("error", reject);
    });
  }

  async command(...args: string[]): Promise<string | number | null> {
    this.socket.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join("")}`);
    for (;;) {
      const reply = this.parse();
      if (reply !== undefined) return reply;
      const closed = await new Promise<boolean>((resolve) => (this.waiting = resolve));
      if (closed) throw new Error(`connection closed before the reply to ${args[0]}`);
    }
  }

  private parse(): string | number | null | undefined {
    const end = this.buffered.indexOf("\r\n");
    if (end < 0) return undefined;
    const line = this.buffered.subarray(1, end).toString();
    const type = String.fromCharCode(this.buffered[0]!);
    if (type === "$") {
      const length = Number(line);
      if (length < 0) return this.take(end + 2, null);
      if (this.buffered.length < end + 2 + length + 2) return undefined;
      return this.take(end + 2 + length + 2, this.buffered.subarray(end + 2, end + 2 + length).toString());
    }
    if (type === "+") return this.take(end + 2, line);
    if (type === ":") return this.take(end + 2, Number(line));
    if (type === "-") return this.take(end + 2, `ERR:${line}`);
    throw new Error(`unexpected RESP reply ${JSON.stringify(this.buffered.toString())}`);
  }

  private take<T>(bytes: number, value: T): T {
    this.buffered = this.buffered.subarray(bytes);
    return value;
  }

  close(): void {
    this.socket.destroy();
  }
}

describeServer(`a Redis server from a Debian-built image`, () => {
  let image: Image;
  // debootstrap runs here on a machine without the cached rootfs (about 80 s).
  beforeAll(async () => {
    image = (await debianBase()).with(redisImageFromDebian);
  }, 900_000);

  it("defaults to the official image (not pullable here: BENTO_PULL_POLICY=never)", async () => {
    expect(() => redis({ password: "two words" })).toThrow(/redis.password/);
    const error = await redis()
      .start()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StartupError);
    expect(String((error as StartupError).cause)).toContain(REDIS_IMAGE);
  });

  it("answers PING, SET and GET on its published port", { timeout: 300_000 }, async () => {
    // Removed when the test finishes, as bento/vitest users would start it.
    const cache = await useContainer(redis({ image, container: { startupTimeoutMs: 280_000 } }));
    started.push(cache.id);
    const { host, port, url, password } = await redisConnection(cache);
    expect(password).toBeUndefined();
    expect(url).toBe(`redis://127.0.0.1:${port}`);
    const client = await Resp.open(port, host);
    try {
      expect(await client.command("PING")).toBe("PONG");
      expect(await client.command("SET", "greeting", "hello world")).toBe("OK");
      expect(await client.command("GET", "greeting")).toBe("hello world");
      expect(await client.command("GET", "missing")).toBeNull();
      expect(await client.command("INCR", "n")).toBe(1);
    } finally {
      client.close();
    }
    // The server runs as redis in /data, as the official image's does.
    const server = await cache.exec(["sh", "-c", 'for p in /proc/[0-9]*; do if [ "$(cat $p/comm)" = redis-server ]; then stat -c %U $p; readlink $p/cwd; fi; done'], { user: "redis" });
    expect(server.stdout).toBe("redis\n/data\n");
  });

  it("works with the redis client through its url, and names itself for other containers", { timeout: 300_000 }, async () => {
    await using cache = await redis({ image, password: "pw", container: { name: `cache-${process.pid}`, startupTimeoutMs: 280_000 } }).start();
    started.push(cache.id);
    const { url, networkUrl } = await redisConnection(cache);
    expect(networkUrl).toBe(`redis://:pw@cache-${process.pid}:6379`);
    const client = createClient({ url });
    await client.connect();
    try {
      await client.set("k", "v");
      expect(await client.get("k")).toBe("v");
      // The test settings: nothing persisted, a short periodic task.
      expect(await client.configGet("save")).toEqual({ save: "" });
      expect(await client.configGet("hz")).toEqual({ hz: "100" });
    } finally {
      await client.quit();
    }
  });

  it("requires the password when one is set", { timeout: 300_000 }, async () => {
    await using cache = await redis({ image, password: "s3cret", args: ["--save", ""], container: { startupTimeoutMs: 280_000 } }).start();
    started.push(cache.id);
    const { host, port, url, password } = await redisConnection(cache);
    expect(password).toBe("s3cret");
    expect(url).toBe(`redis://:s3cret@127.0.0.1:${port}`);
    const client = await Resp.open(port, host);
    try {
      expect(await client.command("GET", "x")).toMatch(/^ERR:NOAUTH/);
      expect(await client.command("AUTH", "s3cret")).toBe("OK");
      expect(await client.command("PING")).toBe("PONG");
    } finally {
      client.close();
    }
  });
});

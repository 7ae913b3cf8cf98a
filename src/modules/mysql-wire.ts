/**
 * A minimal MySQL/MariaDB client (client/server protocol 4.1, text queries only) for the mariadb
 * module's own administration: template and per-test databases. Authentication:
 * `mysql_native_password`, including a switch to it (MariaDB's default for password users).
 * Protocol reference: the MariaDB Knowledge Base, "Client/Server Protocol" (connection
 * handshake, COM_QUERY, result sets, OK/ERR/EOF packets).
 */
import { createHash } from "node:crypto";
import { connect, type Socket } from "node:net";
import { BentoError } from "../errors.js";

/** Client capability flags (include/mysql_com.h). */
const CLIENT_LONG_PASSWORD = 0x1;
const CLIENT_CONNECT_WITH_DB = 0x8;
const CLIENT_PROTOCOL_41 = 0x200;
const CLIENT_TRANSACTIONS = 0x2000;
const CLIENT_SECURE_CONNECTION = 0x8000;
const CLIENT_MULTI_STATEMENTS = 0x10000;
const CLIENT_MULTI_RESULTS = 0x20000;
const CLIENT_PLUGIN_AUTH = 0x80000;
/** A status flag of OK and EOF packets: another result of a multi-statement query follows. */
const SERVER_MORE_RESULTS_EXIST = 0x8;

/**
 * An error the server reported (an ERR packet).
 *
 * @example
 * ```ts
 * catch (e) { if (e instanceof MysqlServerError) console.log(e.errno, e.sqlState); } // 1146 "42S02"
 * ```
 */
export class MysqlServerError extends BentoError {
  /** In a multi-statement query: how many statements completed before this one failed. */
  completedStatements = 0;

  constructor(
    /** The server's error number, such as 1146 (no such table). */
    readonly errno: number,
    /** The SQLSTATE, such as `42S02`. */
    readonly sqlState: string,
    /** The server's message. */
    readonly serverMessage: string,
  ) {
    super("ERR_MYSQL", `ERROR ${errno} (${sqlState}): ${serverMessage}`);
  }
}

/** Where and as whom {@link MysqlWireClient.connect} connects. */
export interface MysqlWireOptions {
  host: string;
  port: number;
  user: string;
  password: string;
  /** The default database; none when empty or not given. */
  database?: string;
  /** Gives up connecting (and authenticating) after this long; default 10 s. */
  connectTimeoutMs?: number;
}

function nativePassword(password: string, scramble: Buffer): Buffer {
  if (password === "") return Buffer.alloc(0);
  const sha1 = (...parts: Buffer[]) => parts.reduce((h, p) => h.update(p), createHash("sha1")).digest();
  const stage1 = sha1(Buffer.from(password, "utf8"));
  const mask = sha1(scramble, sha1(stage1));
  return Buffer.from(stage1.map((b, i) => b ^ mask[i]!));
}

/** A reader over one packet's payload. */
class Reader {
  at = 0;
  constructor(readonly data: Buffer) {}
  u8(): number {
    return this.data[this.at++]!;
  }
  u16(): number {
    const v = this.data.readUInt16LE(this.at);
    this.at += 2;
    return v;
  }
  u32(): number {
    const v = this.data.readUInt32LE(this.at);
    this.at += 4;
    return v;
  }
  /** A length-encoded integer; null for the NULL marker 0xfb. */
  lenenc(): number | null {
    const first = this.u8();
    if (first < 0xfb) return first;
    if (first === 0xfb) return null;
    if (first === 0xfc) return this.u16();
    if (first === 0xfd) {
      const v = this.data.readUIntLE(this.at, 3);
      this.at += 3;
      return v;
    }
    const v = Number(this.data.readBigUInt64LE(this.at));
    this.at += 8;
    return v;
  }
  bytes(n: number): Buffer {
    const b = this.data.subarray(this.at, this.at + n);
    this.at += n;
    return b;
  }
  cstring(): string {
    const end = this.data.indexOf(0, this.at);
    const s = this.data.toString("utf8", this.at, end < 0 ? this.data.length : end);
    this.at = end < 0 ? this.data.length : end + 1;
    return s;
  }
  rest(): Buffer {
    return this.bytes(this.data.length - this.at);
  }
}

function errorOf(payload: Buffer): MysqlServerError {
  const r = new Reader(payload);
  r.u8();
  const errno = r.u16();
  let sqlState = "HY000";
  if (payload[r.at] === 0x23) {
    r.u8();
    sqlState = r.bytes(5).toString("latin1");
  }
  return new MysqlServerError(errno, sqlState, r.rest().toString("utf8"));
}

/**
 * One connection to a MySQL or MariaDB server. Queries run one at a time, in the order asked;
 * a query may hold several statements. The socket keeps Node alive only while a query is awaited.
 *
 * @example
 * ```ts
 * const client = await MysqlWireClient.connect({ host: "127.0.0.1", port, user: "root", password: "test" });
 * await client.query("CREATE DATABASE shop");
 * await client.close();
 * ```
 */
export class MysqlWireClient {
  private buffered = Buffer.alloc(0);
  private readonly waiting: ((p: Buffer | Error) => void)[] = [];
  private readonly queue: Buffer[] = [];
  private failure: Error | undefined;
  private sequence = 0;
  private tail: Promise<unknown> = Promise.resolve();
  private pending = 0;
  /** Resolves once the connection is closed (by either side, or broken). */
  readonly closed: Promise<void>;

  private constructor(private readonly socket: Socket) {
    this.closed = new Promise((resolve) => socket.once("close", () => resolve()));
    socket.on("data", (chunk: Buffer) => this.receive(chunk));
    const fail = (error: Error) => {
      this.failure ??= error;
      for (const w of this.waiting.splice(0)) w(this.failure);
    };
    socket.on("error", fail);
    socket.on("close", () => fail(new BentoError("ERR_MYSQL", "the server closed the connection")));
  }

  /**
   * Connects and authenticates. Rejects with a {@link MysqlServerError} when the server refuses.
   *
   * @example
   * ```ts
   * const client = await MysqlWireClient.connect({ host, port, user: "root", password });
   * ```
   */
  static async connect(options: MysqlWireOptions): Promise<MysqlWireClient> {
    const socket = connect({ host: options.host, port: options.port, noDelay: true });
    const client = new MysqlWireClient(socket);
    const timer = setTimeout(() => socket.destroy(new BentoError("ERR_MYSQL", `connecting to ${options.host}:${options.port} timed out`)), options.connectTimeoutMs ?? 10_000);
    timer.unref();
    try {
      await client.handshake(options);
      socket.unref();
      return client;
    } catch (error) {
      socket.destroy();
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  private async handshake(options: MysqlWireOptions): Promise<void> {
    const greeting = await this.next();
    if (greeting[0] === 0xff) throw errorOf(greeting);
    const r = new Reader(greeting);
    if (r.u8() !== 10) throw new BentoError("ERR_MYSQL", "the server does not speak protocol version 10");
    r.cstring();
    r.u32();
    const part1 = r.bytes(8);
    r.u8();
    r.u16();
    r.u8();
    r.u16();
    r.u16();
    const authLength = r.u8();
    r.bytes(10);
    const part2 = r.bytes(Math.max(13, authLength - 8));
    const scramble = Buffer.concat([part1, part2.subarray(0, part2.length - 1)]);
    const database = options.database ?? "";
    const flags = CLIENT_LONG_PASSWORD | CLIENT_PROTOCOL_41 | CLIENT_TRANSACTIONS | CLIENT_SECURE_CONNECTION | CLIENT_MULTI_STATEMENTS | CLIENT_MULTI_RESULTS | CLIENT_PLUGIN_AUTH | (database === "" ? 0 : CLIENT_CONNECT_WITH_DB);
    const head = Buffer.alloc(32);
    head.writeUInt32LE(flags, 0);
    head.writeUInt32LE(16 * 1024 * 1024, 4);
    head[8] = 45; // utf8mb4_general_ci
    const auth = nativePassword(options.password, scramble);
    this.send(Buffer.concat([head, Buffer.from(`${options.user}\0`, "utf8"), Buffer.from([auth.length]), auth, database === "" ? Buffer.alloc(0) : Buffer.from(`${database}\0`, "utf8"), Buffer.from("mysql_native_password\0")]));
    for (;;) {
      const reply = await this.next();
      if (reply[0] === 0x00) return;
      if (reply[0] === 0xff) throw errorOf(reply);
      if (reply[0] === 0xfe) {
        const sw = new Reader(reply);
        sw.u8();
        const plugin = sw.cstring();
        if (plugin !== "mysql_native_password") throw new BentoError("ERR_MYSQL", `the server asks for the authentication plugin ${plugin}; bento's client speaks mysql_native_password`);
        const data = sw.rest();
        this.send(nativePassword(options.password, data.subarray(0, 20)));
        continue;
      }
      throw new BentoError("ERR_MYSQL", `unexpected packet 0x${reply[0]?.toString(16)} during authentication`);
    }
  }

  private send(payload: Buffer): void {
    const head = Buffer.alloc(4);
    head.writeUIntLE(payload.length, 0, 3);
    head[3] = this.sequence++ & 0xff;
    this.socket.write(Buffer.concat([head, payload]));
  }

  private receive(chunk: Buffer): void {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    while (this.buffered.length >= 4) {
      const length = this.buffered.readUIntLE(0, 3);
      if (this.buffered.length < 4 + length) break;
      this.sequence = (this.buffered[3]! + 1) & 0xff;
      const payload = this.buffered.subarray(4, 4 + length);
      this.buffered = this.buffered.subarray(4 + length);
      const waiter = this.waiting.shift();
      if (waiter) waiter(payload);
      else this.queue.push(payload);
    }
  }

  private next(): Promise<Buffer> {
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(queued);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => this.waiting.push((p) => (p instanceof Error ? reject(p) : resolve(p))));
  }

  /**
   * Runs `sql` (one or more statements) and returns the rows of the last result set, every value
   * as text or null. Rejects with a {@link MysqlServerError} at the first statement that fails.
   *
   * @example
   * ```ts
   * const rows = await client.query("SELECT table_name FROM information_schema.tables WHERE table_schema = 'shop'");
   * ```
   */
  query(sql: string): Promise<(string | null)[][]> {
    // An idle session must not keep Node alive; one that a caller awaits must.
    this.pending++;
    this.socket.ref();
    const run = this.tail
      .then(() => this.runQuery(sql))
      .finally(() => {
        if (--this.pending === 0) this.socket.unref();
      });
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async runQuery(sql: string): Promise<(string | null)[][]> {
    this.sequence = 0;
    this.send(Buffer.concat([Buffer.from([0x03]), Buffer.from(sql, "utf8")]));
    let rows: (string | null)[][] = [];
    let completed = 0;
    for (;;) {
      const first = await this.next();
      if (first[0] === 0xff) {
        const error = errorOf(first);
        error.completedStatements = completed;
        throw error;
      }
      let status: number;
      if (first[0] === 0x00) {
        const r = new Reader(first);
        r.u8();
        r.lenenc();
        r.lenenc();
        status = r.u16();
      } else {
        const columns = new Reader(first).lenenc() ?? 0;
        for (let i = 0; i < columns; i++) await this.next();
        await this.next(); // EOF after the column definitions
        const result: (string | null)[][] = [];
        for (;;) {
          const row = await this.next();
          if (row[0] === 0xfe && row.length < 9) {
            status = row.readUInt16LE(3);
            break;
          }
          if (row[0] === 0xff) throw errorOf(row);
          const r = new Reader(row);
          const values: (string | null)[] = [];
          for (let i = 0; i < columns; i++) {
            const length = r.lenenc();
            values.push(length === null ? null : r.bytes(length).toString("utf8"));
          }
          result.push(values);
        }
        rows = result;
      }
      completed++;
      if ((status & SERVER_MORE_RESULTS_EXIST) === 0) return rows;
    }
  }

  /**
   * Ends the session (COM_QUIT) and closes the socket.
   *
   * @example
   * ```ts
   * await client.close();
   * ```
   */
  async close(): Promise<void> {
    if (this.socket.destroyed) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => this.socket.destroy(), 1000);
      this.socket.ref();
      this.socket.once("close", () => {
        clearTimeout(timer);
        resolve();
      });
      this.sequence = 0;
      this.send(Buffer.from([0x01]));
      this.socket.end();
    });
  }
}

/**
 * `name` as a MySQL identifier in backquotes (inner backquotes doubled).
 *
 * @example
 * ```ts
 * quoteMysqlIdent("order"); // "`order`"
 * ```
 */
export function quoteMysqlIdent(name: string): string {
  return `\`${name.replaceAll("`", "``")}\``;
}

/**
 * `text` as a MySQL string literal (quotes and backslashes escaped).
 *
 * @example
 * ```ts
 * quoteMysqlLiteral("it's"); // "'it\\'s'"
 * ```
 */
export function quoteMysqlLiteral(text: string): string {
  return `'${text.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`;
}

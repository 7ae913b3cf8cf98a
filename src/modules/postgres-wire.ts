/**
 * A minimal PostgreSQL client (frontend/backend protocol 3.0, simple queries only) for the
 * module's own administration: creating template and per-test databases and checking readiness.
 * It keeps bento free of a client-library dependency; tests and users bring their own (`pg`).
 * Authentication: trust, cleartext, MD5 and SCRAM-SHA-256 (RFC 5802 / RFC 7677), which is what
 * the official images and {@link postgres} configure. Protocol reference: the PostgreSQL manual,
 * chapter "Frontend/Backend Protocol", sections "Message Flow" and "Message Formats".
 */
import { createHash, createHmac, pbkdf2, randomBytes } from "node:crypto";
import { connect, type Socket } from "node:net";
import { promisify } from "node:util";
import { BentoError } from "../errors.js";

const pbkdf2Async = promisify(pbkdf2);

/**
 * An error the server reported (an ErrorResponse), with its fields.
 *
 * @example
 * ```ts
 * try { await client.query("SELECT * FROM nope"); } catch (e) { if (e instanceof PostgresServerError) console.log(e.sqlState); } // "42P01"
 * ```
 */
export class PostgresServerError extends BentoError {
  /** The SQLSTATE code, such as `42P01` (undefined table). */
  readonly sqlState: string;
  /** The server's primary message. */
  readonly serverMessage: string;
  /** The 1-based character position in the query that the error points at, when it gives one. */
  readonly position: number | undefined;
  /** The server's DETAIL, if any. */
  readonly detail: string | undefined;
  /** In a query of several statements: how many completed before this one failed. */
  completedStatements = 0;

  constructor(fields: Map<string, string>) {
    const message = fields.get("M") ?? "unknown error";
    const detail = fields.get("D");
    super("ERR_POSTGRES", `${fields.get("S") ?? "ERROR"}: ${message}${detail ? ` (${detail})` : ""}`);
    this.sqlState = fields.get("C") ?? "";
    this.serverMessage = message;
    const position = fields.get("P");
    this.position = position === undefined ? undefined : Number(position);
    this.detail = detail;
  }
}

/** Where and as whom {@link PostgresWireClient.connect} connects. */
export interface PostgresWireOptions {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  /** Gives up connecting (and authenticating) after this long; default 10 s. */
  connectTimeoutMs?: number;
}

/** The rows of a simple query: every value as the server's text, or null. */
export type PostgresRows = (string | null)[][];

/** A backend message: its type byte and body. */
interface Message {
  type: string;
  body: Buffer;
}

/** SCRAM's salted passwords are costly (4096 PBKDF2 rounds) and fixed per user and salt. */
const saltedPasswords = new Map<string, Promise<Buffer>>();

function cstring(text: string): Buffer {
  return Buffer.concat([Buffer.from(text, "utf8"), Buffer.from([0])]);
}

function frame(type: string, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  const head = Buffer.alloc(5);
  head.write(type, 0, "latin1");
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}

function int32(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(value);
  return b;
}

/** The fields of an ErrorResponse or NoticeResponse body. */
function errorFields(body: Buffer): Map<string, string> {
  const fields = new Map<string, string>();
  let at = 0;
  while (at < body.length && body[at] !== 0) {
    const end = body.indexOf(0, at + 1);
    fields.set(String.fromCharCode(body[at]!), body.toString("utf8", at + 1, end));
    at = end + 1;
  }
  return fields;
}

/**
 * One connection to a PostgreSQL server. Queries run one at a time, in the order they were
 * asked for. The socket keeps Node alive only while a query is awaited.
 *
 * @example
 * ```ts
 * const client = await PostgresWireClient.connect({ host: "127.0.0.1", port, user: "test", password: "test", database: "test" });
 * const rows = await client.query("SELECT current_database()"); // [["test"]]
 * await client.close();
 * ```
 */
export class PostgresWireClient {
  private buffered = Buffer.alloc(0);
  private readonly waiting: ((m: Message | Error) => void)[] = [];
  private readonly queue: Message[] = [];
  private failure: Error | undefined;
  private tail: Promise<unknown> = Promise.resolve();
  private pending = 0;
  /** Resolves once the connection is closed (by either side, or broken). */
  readonly closed: Promise<void>;
  /** The server's ParameterStatus values (`server_version`, `server_version_num` is not one of them). */
  readonly parameters = new Map<string, string>();

  private constructor(private readonly socket: Socket) {
    this.closed = new Promise((resolve) => socket.once("close", () => resolve()));
    socket.on("data", (chunk: Buffer) => this.receive(chunk));
    const fail = (error: Error) => {
      this.failure ??= error;
      for (const w of this.waiting.splice(0)) w(this.failure);
    };
    socket.on("error", fail);
    socket.on("close", () => fail(new BentoError("ERR_POSTGRES", "the server closed the connection")));
  }

  /**
   * Connects, authenticates and waits until the server is ready for queries. Rejects with a
   * {@link PostgresServerError} when the server refuses (such as SQLSTATE 57P03 while it starts
   * up, or 28P01 for a wrong password).
   *
   * @example
   * ```ts
   * const client = await PostgresWireClient.connect({ host, port, user, password, database: "postgres" });
   * ```
   */
  static async connect(options: PostgresWireOptions): Promise<PostgresWireClient> {
    const socket = connect({ host: options.host, port: options.port, noDelay: true });
    const client = new PostgresWireClient(socket);
    const timer = setTimeout(() => socket.destroy(new BentoError("ERR_POSTGRES", `connecting to ${options.host}:${options.port} timed out`)), options.connectTimeoutMs ?? 10_000);
    timer.unref();
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once("connect", resolve);
        socket.once("error", reject);
      });
      // StartupMessage: protocol 3.0, then name/value pairs, then an empty name.
      const params = Buffer.concat([cstring("user"), cstring(options.user), cstring("database"), cstring(options.database), cstring("client_encoding"), cstring("UTF8"), Buffer.from([0])]);
      const startup = Buffer.concat([int32(params.length + 8), int32(196608), params]);
      socket.write(startup);
      await client.authenticate(options.user, options.password);
      for (;;) {
        const m = await client.next();
        if (m.type === "Z") break;
        if (m.type === "E") throw new PostgresServerError(errorFields(m.body));
        if (m.type === "S") {
          const nameEnd = m.body.indexOf(0);
          client.parameters.set(m.body.toString("utf8", 0, nameEnd), m.body.toString("utf8", nameEnd + 1, m.body.indexOf(0, nameEnd + 1)));
        }
      }
      socket.unref();
      return client;
    } catch (error) {
      socket.destroy();
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /** The server's version as a number, such as 150008 for 15.8. */
  get serverVersionNum(): number {
    const [major = 0, minor = 0] = (this.parameters.get("server_version") ?? "0").split(/[.\s]/).map((n) => Number.parseInt(n, 10) || 0);
    return major >= 10 ? major * 10000 + minor : major * 10000 + minor * 100;
  }

  private async authenticate(user: string, password: string): Promise<void> {
    for (;;) {
      const m = await this.next();
      if (m.type === "E") throw new PostgresServerError(errorFields(m.body));
      if (m.type !== "R") throw new BentoError("ERR_POSTGRES", `unexpected message "${m.type}" during authentication`);
      const kind = m.body.readInt32BE(0);
      if (kind === 0) return;
      if (kind === 3) {
        this.socket.write(frame("p", cstring(password)));
      } else if (kind === 5) {
        const inner = createHash("md5")
          .update(password + user)
          .digest("hex");
        const outer = createHash("md5").update(inner).update(m.body.subarray(4, 8)).digest("hex");
        this.socket.write(frame("p", cstring(`md5${outer}`)));
      } else if (kind === 10) {
        const mechanisms = m.body.toString("utf8", 4).split("\0");
        if (!mechanisms.includes("SCRAM-SHA-256")) throw new BentoError("ERR_POSTGRES", `the server offers only ${mechanisms.filter(Boolean).join(", ")}; bento's client speaks SCRAM-SHA-256`);
        await this.scram(password);
      } else {
        throw new BentoError("ERR_POSTGRES", `the server asks for authentication method ${kind}, which bento's client does not speak (it speaks trust, password, md5, scram-sha-256)`);
      }
    }
  }

  /** SCRAM-SHA-256 without channel binding; the server ignores the SCRAM user name (it has the startup one). */
  private async scram(password: string): Promise<void> {
    const clientNonce = randomBytes(18).toString("base64");
    const clientFirstBare = `n=*,r=${clientNonce}`;
    const first = Buffer.from(`n,,${clientFirstBare}`);
    this.socket.write(frame("p", cstring("SCRAM-SHA-256"), int32(first.length), first));
    const challenge = await this.next();
    if (challenge.type === "E") throw new PostgresServerError(errorFields(challenge.body));
    const serverFirst = challenge.body.toString("utf8", 4);
    const attrs = new Map(serverFirst.split(",").map((kv) => [kv[0]!, kv.slice(2)] as const));
    const nonce = attrs.get("r") ?? "",
      salt = attrs.get("s") ?? "",
      iterations = Number(attrs.get("i"));
    if (!nonce.startsWith(clientNonce) || salt === "" || !Number.isInteger(iterations)) throw new BentoError("ERR_POSTGRES", "malformed SCRAM challenge from the server");
    const key = `${password}\0${salt}\0${iterations}`;
    let salted = saltedPasswords.get(key);
    if (salted === undefined) {
      salted = pbkdf2Async(password, Buffer.from(salt, "base64"), iterations, 32, "sha256");
      saltedPasswords.set(key, salted);
    }
    const saltedPassword = await salted;
    const hmac = (k: Buffer, text: string) => createHmac("sha256", k).update(text).digest();
    const clientKey = hmac(saltedPassword, "Client Key");
    const storedKey = createHash("sha256").update(clientKey).digest();
    const finalWithoutProof = `c=biws,r=${nonce}`;
    const authMessage = `${clientFirstBare},${serverFirst},${finalWithoutProof}`;
    const signature = hmac(storedKey, authMessage);
    const proof = Buffer.from(clientKey.map((b, i) => b ^ signature[i]!));
    this.socket.write(frame("p", Buffer.from(`${finalWithoutProof},p=${proof.toString("base64")}`)));
    const final = await this.next();
    if (final.type === "E") throw new PostgresServerError(errorFields(final.body));
    const expected = hmac(hmac(saltedPassword, "Server Key"), authMessage).toString("base64");
    if (final.body.toString("utf8", 4) !== `v=${expected}`) throw new BentoError("ERR_POSTGRES", "the server's SCRAM signature does not match: it does not know the password");
  }

  private receive(chunk: Buffer): void {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    while (this.buffered.length >= 5) {
      const length = this.buffered.readInt32BE(1);
      if (this.buffered.length < 1 + length) break;
      const message = { type: String.fromCharCode(this.buffered[0]!), body: this.buffered.subarray(5, 1 + length) };
      this.buffered = this.buffered.subarray(1 + length);
      // Notices and asynchronous parameter changes are not answers to anything.
      if (message.type === "N" || message.type === "A") continue;
      const waiter = this.waiting.shift();
      if (waiter) waiter(message);
      else this.queue.push(message);
    }
  }

  private next(): Promise<Message> {
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(queued);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => this.waiting.push((m) => (m instanceof Error ? reject(m) : resolve(m))));
  }

  /**
   * Runs `sql` (one or more statements) as a simple query and returns the rows of the last
   * statement that returned any. Rejects with a {@link PostgresServerError} when a statement fails.
   *
   * @example
   * ```ts
   * const [[version]] = await client.query("SHOW server_version");
   * ```
   */
  query(sql: string): Promise<PostgresRows> {
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

  private async runQuery(sql: string): Promise<PostgresRows> {
    this.socket.write(frame("Q", cstring(sql)));
    let rows: PostgresRows = [];
    let current: PostgresRows | undefined;
    let error: PostgresServerError | undefined;
    let completed = 0;
    for (;;) {
      const m = await this.next();
      if (m.type === "Z") break;
      if (m.type === "E") {
        error ??= new PostgresServerError(errorFields(m.body));
        error.completedStatements = completed;
      } else if (m.type === "T") current = [];
      else if (m.type === "D") current?.push(dataRow(m.body));
      else if (m.type === "C" || m.type === "I") {
        completed++;
        if (current !== undefined) rows = current;
        current = undefined;
      }
    }
    if (error) throw error;
    return rows;
  }

  /**
   * Ends the session (a Terminate message) and closes the socket.
   *
   * @example
   * ```ts
   * await client.close();
   * ```
   */
  async close(): Promise<void> {
    if (this.socket.destroyed) return;
    await new Promise<void>((resolve) => {
      // The server closes its end after a Terminate; a server that does not is cut off.
      const timer = setTimeout(() => this.socket.destroy(), 1000);
      this.socket.ref();
      this.socket.once("close", () => {
        clearTimeout(timer);
        resolve();
      });
      this.socket.end(frame("X"));
    });
  }
}

function dataRow(body: Buffer): (string | null)[] {
  const count = body.readInt16BE(0);
  const values: (string | null)[] = [];
  let at = 2;
  for (let i = 0; i < count; i++) {
    const length = body.readInt32BE(at);
    at += 4;
    if (length < 0) values.push(null);
    else {
      values.push(body.toString("utf8", at, at + length));
      at += length;
    }
  }
  return values;
}

/**
 * `name` as an SQL identifier in double quotes (inner quotes doubled).
 *
 * @example
 * ```ts
 * quoteIdent('my "db"'); // "\"my \"\"db\"\"\""
 * ```
 */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * `text` as an SQL string literal (inner quotes doubled; standard_conforming_strings is on by
 * default since PostgreSQL 9.1).
 *
 * @example
 * ```ts
 * quoteLiteral("it's"); // "'it''s'"
 * ```
 */
export function quoteLiteral(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

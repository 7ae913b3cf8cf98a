/**
 * What the postgres module's documentation says a user gets, checked against what it returns:
 * the defaults of postgres() as postgresConnection() reads them, and the README's example URL.
 * A busybox container stands in for the server (only the environment and the port are read).
 */
import "../setup-env.js";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Image } from "../../../src/image/image.js";
import { postgres, postgresConnection } from "../../../src/modules/postgres.js";
import { busyboxRootfs } from "../../fixtures/rootfs.js";
import { leftovers } from "../leaks.js";

const readme = readFileSync(join(import.meta.dirname, "../../../README.md"), "utf8");
// Busybox has no postgres user to own the memory tablespace's tmpfs.
const standIn = { image: Image.fromRootfs(busyboxRootfs()), memoryTablespace: false, container: { command: ["sleep", "60"], wait: undefined } };

describe(`postgres module: documented defaults`, () => {
  it('gives user, password and database "test" and a postgresql:// URL, as documented', async () => {
    let id = "";
    {
      await using db = await postgres(standIn).start();
      id = db.id;
      const connection = await postgresConnection(db);
      expect(connection).toEqual({
        host: "127.0.0.1",
        port: db.hostPort(5432),
        user: "test",
        password: "test",
        database: "test",
        url: `postgresql://test:test@127.0.0.1:${db.hostPort(5432)}/test`,
        networkUrl: `postgresql://test:test@${db.name}:5432/test`,
      });
    }
    expect(leftovers([id])).toEqual([]);
  });

  it("names the missing postgres user of an image, and the option that leaves the tmpfs out", async () => {
    await expect(postgres({ ...standIn, memoryTablespace: undefined }).start()).rejects.toThrow(/tmpfs \/var\/lib\/bento-postgres-memory.*no user "postgres"/s);
    expect(() => postgres({ memoryTablespace: "yes" as unknown as boolean })).toThrow(/postgres\.memoryTablespace: expected true or false/);
  });

  it("returns the URL the README shows", async () => {
    const shown = /await postgres\(\{ database: "app"[^\n]*\n[^\n]*postgresConnection\(db\);\s*\/\/ (\S+)/.exec(readme)?.[1];
    expect(shown, "the README's postgres example and its URL comment").toBeDefined();
    let id = "";
    {
      await using db = await postgres({ ...standIn, database: "app" }).start();
      id = db.id;
      const { url } = await postgresConnection(db);
      expect(url).toBe(shown!.replace("PORT", String(db.hostPort(5432))));
    }
    expect(leftovers([id])).toEqual([]);
  });
});

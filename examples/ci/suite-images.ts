/**
 * The images a suite builds in code, in one module that both the tests and the CI job that fills
 * the registry build cache import, so both build the very same plans (the same cache keys).
 */
import { Image } from "../../src/index.js";
import { POSTGRES_IMAGE, preparedPostgresImage } from "../../src/modules/postgres.js";

/**
 * The suite's Postgres: the official image with the schema initialized in a cached build step.
 *
 * @example
 * ```ts
 * await using db = await postgres({ image: suitePostgres, database: "app", user: "app", password: "app" }).start();
 * ```
 */
export const suitePostgres: Image = preparedPostgresImage(POSTGRES_IMAGE, {
  database: "app",
  user: "app",
  password: "app",
  initSql: "CREATE TABLE accounts (id serial PRIMARY KEY, email text UNIQUE NOT NULL);",
});

/**
 * A small HTTP fixture the suite talks to.
 *
 * @example
 * ```ts
 * await using web = await new Container(suiteWeb, { ports: [8080] }).start();
 * ```
 */
export const suiteWeb: Image = Image.from("docker.io/library/busybox:1.36").workdir("/srv/www").run('echo "<h1>fixture</h1>" > index.html').expose(8080).cmd(["httpd", "-f", "-p", "8080", "-h", "/srv/www"]);

/** Every image above, by name. */
export const suiteImages: Record<string, Image> = { postgres: suitePostgres, web: suiteWeb };

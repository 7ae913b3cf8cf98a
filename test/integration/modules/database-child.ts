/**
 * A script that makes one database from server details given as JSON in argv[2] and prints its
 * name, with nothing else keeping Node alive: the protocol client's pending work must.
 *
 *   node --import tsx database-child.ts '{"host":...,"port":...}'
 */
import { postgresDatabases } from "../../../src/modules/postgres.js";

const server = JSON.parse(process.argv[2]!);
const db = await postgresDatabases(server, { initSql: "CREATE TABLE t (x int)" }).create();
process.stdout.write(`created ${db.database}\n`);
await db.drop();
process.stdout.write("dropped\n");

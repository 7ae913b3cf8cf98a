/**
 * The server settings {@link postgres} runs with: made for throwaway test databases, not for data
 * that must survive a crash.
 */

/**
 * `postgres -c` settings for tests, the default command of {@link postgres}. A crash of the
 * container (or the machine) may corrupt the data: fine for a database that lives as long as a
 * test run, wrong for anything else. Give `container.command` (e.g. `["postgres"]`) for the
 * image's defaults.
 * - `fsync=off`, `synchronous_commit=off`, `full_page_writes=off`: no waiting for the disk at
 *   commits, checkpoints or `CREATE DATABASE` (the server's own page calls fsync "the most
 *   important" setting for durability, and the one that costs most on a loaded disk).
 * - `shared_buffers=32MB` (default 128MB), `max_connections=50` (default 100): less shared memory
 *   to set up at each start; a test suite's connections fit.
 * - `max_wal_size=256MB`, `checkpoint_timeout=1h`: no checkpoint in the middle of a run.
 *
 * @example
 * ```ts
 * postgres({ container: { command: ["postgres", ...POSTGRES_TEST_SETTINGS.flatMap((s) => ["-c", s]), "-c", "log_statement=all"] } });
 * ```
 */
export const POSTGRES_TEST_SETTINGS: readonly string[] = Object.freeze(["fsync=off", "synchronous_commit=off", "full_page_writes=off", "shared_buffers=32MB", "max_connections=50", "max_wal_size=256MB", "checkpoint_timeout=1h"]);

/**
 * `initdb` arguments for tests, which {@link postgres} puts in `POSTGRES_INITDB_ARGS` before
 * yours (a later one wins): `--wal-segsize=1`, write-ahead log files of 1 MB instead of 16 MB. A
 * server whose data directory comes from an image (`initAtBuild`, a snapshot) opens its current
 * WAL file for writing as it starts, which copies the whole file from the image's layer into the
 * container's own files; and initdb at a cold start writes one such file. A test database never
 * holds enough WAL for the size of its files to matter otherwise.
 *
 * @example
 * ```ts
 * postgres({ container: { env: { POSTGRES_INITDB_ARGS: "--wal-segsize=16" } } }); // the default size again
 * ```
 */
export const POSTGRES_TEST_INITDB_ARGS: readonly string[] = Object.freeze(["--wal-segsize=1"]);

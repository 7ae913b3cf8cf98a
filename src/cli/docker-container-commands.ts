/**
 * The docker-named commands for containers beyond run, exec, stop, wait, logs and rm, in the
 * order `bento --help` lists them.
 */
import type { Command } from "./command.js";
import { cpCommand } from "./cp.js";
import { killCommand } from "./kill.js";
import { portCommand } from "./port.js";
import { restartCommand, startCommand } from "./start.js";
import { statsCommand } from "./stats.js";
import { topCommand } from "./top.js";

/** `start`, `restart`, `kill`, `port`, `top`, `stats`, `cp`. */
export const dockerContainerCommands: readonly Command[] = [startCommand, restartCommand, killCommand, portCommand, topCommand, statsCommand, cpCommand];

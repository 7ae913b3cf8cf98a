/**
 * The docker-named commands for images and the store, in the order `bento --help` lists them.
 */
import type { Command } from "./command.js";
import { historyCommand } from "./history.js";
import { inspectCommand } from "./inspect.js";
import { loadCommand } from "./load.js";
import { pullCommand } from "./pull.js";
import { pushCommand } from "./push.js";
import { rmiCommand } from "./rmi.js";
import { saveCommand } from "./save.js";
import { systemCommand } from "./system.js";
import { tagCommand } from "./tag.js";

/** `inspect`, `pull`, `push`, `tag`, `rmi`, `save`, `load`, `history`, `system`. */
export const dockerImageCommands: readonly Command[] = [inspectCommand, pullCommand, pushCommand, tagCommand, rmiCommand, saveCommand, loadCommand, historyCommand, systemCommand];

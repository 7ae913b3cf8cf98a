/**
 * The client side of `bento attach`: a detached container's helper listens on an abstract unix
 * socket (see addon/shim/attach.hh); this connects to it, frames what is typed and resizes, and
 * hands out the terminal's output as it comes.
 */
import type { Socket } from "node:net";
import { Writable, type Readable } from "node:stream";
import { netModule } from "../deps.js";
import { ContainerStateError } from "../errors.js";

/** A detached container's terminal, reached from another process. */
export interface AttachedTerminal {
  /** The terminal's output from now on; it ends when the container's command does. */
  output: Readable;
  /** Typed into the terminal (Ctrl-C is the byte 0x03). */
  input: Writable;
  /** Sets the terminal's window size. */
  resize(rows: number, columns: number): void;
  /** Disconnects; the container goes on. */
  close(): void;
}

/** The abstract socket name a detached container with a terminal listens on. */
export function attachSocketName(id: string): string {
  return `bento-attach-${id}`;
}

function frame(type: "i" | "r", payload: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.write(type, 0, "latin1");
  head.writeUInt32LE(payload.length, 1);
  return Buffer.concat([head, payload]);
}

/** Connects to the terminal of container `id` (named `name` in errors). */
export async function connectTerminal(id: string, name: string): Promise<AttachedTerminal> {
  const socket: Socket = netModule().connect({ path: `\0${attachSocketName(id)}` });
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", () => reject(new ContainerStateError(`container ${name} has no terminal to attach to: only a running container started detached with a terminal (bento run -dit) has one`)));
  });
  socket.on("error", () => undefined); // the container ended while we wrote
  const input = new Writable({
    write(chunk: Buffer, _encoding, done) {
      socket.write(frame("i", chunk), () => done());
    },
  });
  return {
    output: socket,
    input,
    resize: (rows, columns) => socket.write(frame("r", Buffer.from(`${rows} ${columns}`))),
    close: () => socket.destroy(),
  };
}

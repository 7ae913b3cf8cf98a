import "../setup-env.js";
import { connect } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import "../../../src/builder/index.js";
import "../../../src/registry/store.js";
import { Container } from "../../../src/container/container.js";
import { Image } from "../../../src/image/image.js";
import { busyboxRootfs } from "../../fixtures/rootfs.js";
import { onlyRootInContainers } from "../rootless.js";
import { expectNoLeaks, runImage } from "./helpers.js";

afterEach(() => expectNoLeaks());

/**
 * The Dockerfile reference's ENTRYPOINT x CMD table, on built images. `echo` prints its argv, so
 * each cell's output is the argv the container ran, minus `echo` (the shell forms run
 * `/bin/sh -c "echo ..."`, which prints the words of the script).
 */
const entrypoints = {
  none: undefined,
  shell: "echo exec_entry p1_entry",
  exec: ["echo", "exec_entry", "p1_entry"],
} as const;
const cmds = {
  none: undefined,
  exec: ["echo", "exec_cmd", "p1_cmd"],
  shell: "echo exec_cmd p1_cmd",
} as const;
const table: Record<keyof typeof cmds, Record<keyof typeof entrypoints, string>> = {
  none: { none: "error", shell: "exec_entry p1_entry", exec: "exec_entry p1_entry" },
  exec: { none: "exec_cmd p1_cmd", shell: "exec_entry p1_entry", exec: "exec_entry p1_entry echo exec_cmd p1_cmd" },
  shell: { none: "exec_cmd p1_cmd", shell: "exec_entry p1_entry", exec: "exec_entry p1_entry /bin/sh -c echo exec_cmd p1_cmd" },
};

describe(`built images run with their config`, () => {
  for (const cmdKind of ["none", "exec", "shell"] as const) {
    for (const entryKind of ["none", "shell", "exec"] as const) {
      it(`CMD ${cmdKind} x ENTRYPOINT ${entryKind}: ${table[cmdKind][entryKind]}`, async () => {
        // A RUN makes this an image that is really built (a layer, a stored config).
        let image = Image.fromRootfs(busyboxRootfs()).run("echo built > /built");
        const entry = entrypoints[entryKind];
        const cmd = cmds[cmdKind];
        if (entry !== undefined) image = image.entrypoint(typeof entry === "string" ? entry : [...entry]);
        if (cmd !== undefined) image = image.cmd(typeof cmd === "string" ? cmd : [...cmd]);
        const built = await image.build();
        const expected = table[cmdKind][entryKind];
        if (expected === "error") {
          await expect(new Container(Image.from(built.id)).start()).rejects.toThrow(/no ENTRYPOINT or CMD/);
          return;
        }
        expect((await runImage(Image.from(built.id))).stdout).toBe(`${expected}\n`);
      });
    }
  }

  it("resets an inherited CMD when a child image sets ENTRYPOINT, and keeps a CMD set in the same stage", async () => {
    const parent = await Image.fromRootfs(busyboxRootfs()).run("true > /p").cmd(["echo", "parent-cmd"]).build({ tag: "entry-parent:1" });
    const child = Image.from("entry-parent:1").entrypoint(["echo", "entry"]);
    expect((await runImage(child)).stdout).toBe("entry\n");
    expect((await runImage(Image.from(parent.id).cmd(["echo", "own"]).entrypoint(["echo", "entry"]))).stdout).toBe("entry echo own\n");
    // A container's command replaces CMD and is appended to an exec-form ENTRYPOINT.
    expect((await runImage(child, { command: ["given"] })).stdout).toBe("entry given\n");
  });

  it("supplies env, workdir, user, exposed ports, stop signal and healthcheck from the built config", async () => {
    const image = Image.fromRootfs(busyboxRootfs())
      .env({ APP_MODE: "built" })
      .workdir("/srv/www")
      .run("echo '<h1>hi</h1>' > index.html && chown -R app /srv/www")
      .user("app")
      .expose(8080)
      .stopSignal("SIGUSR1")
      .healthcheck(["CMD", "true"], { intervalMs: 100 })
      .cmd(["sh", "-c", "trap 'echo got USR1; exit 0' USR1; httpd -f -p 8080 & echo $APP_MODE $(pwd) $(id -un); wait"]);
    // Rootless without a subordinate id range, app (1000) does not exist in the build container:
    // the RUN step's chown fails, and the build error shows the command's own message.
    if (onlyRootInContainers) return void (await expect(new Container(image).start()).rejects.toThrow(/chown -R app .*exit code 1.*chown: \/srv\/www.*Invalid argument/s));
    const running = await new Container(image).start();
    try {
      const inspect = await running.inspect();
      expect(inspect.process.cwd).toBe("/srv/www");
      expect(inspect.process.uid).toBe(1000);
      expect(inspect.process.env).toContain("APP_MODE=built");
      expect(inspect.image.StopSignal).toBe("SIGUSR1");
      expect(inspect.image.Healthcheck?.Test).toEqual(["CMD", "true"]);
      // EXPOSE'd ports are published (as docker run -P).
      const port = running.hostPort(8080);
      const body = await new Promise<string>((resolve, reject) => {
        const tryOnce = (left: number): void => {
          const socket = connect(port, "127.0.0.1", () => socket.end("GET /index.html HTTP/1.0\r\n\r\n"));
          let data = "";
          socket.on("data", (d: Buffer) => (data += d.toString()));
          socket.on("end", () => (data.includes("200") || left === 0 ? resolve(data) : setTimeout(() => tryOnce(left - 1), 100)));
          socket.on("error", (e) => (left === 0 ? reject(e) : setTimeout(() => tryOnce(left - 1), 100)));
        };
        tryOnce(30);
      });
      expect(body).toContain("<h1>hi</h1>");
    } finally {
      const stopped = await running.stop();
      expect(await stopped.logs()).toContain("got USR1");
      expect(await stopped.logs()).toContain("built /srv/www app");
      await stopped.remove();
    }
  });
});

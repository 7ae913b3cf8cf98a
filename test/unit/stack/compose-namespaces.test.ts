import { describe, expect, it } from "vitest";
import { ComposeError } from "../../../src/stack/errors.js";
import { loadCompose } from "../../../src/stack/compose/load.js";
import { composeModel } from "../../../src/stack/compose/model.js";

function composeError(yaml: string): ComposeError {
  try {
    loadCompose({ yaml, env: {}, projectName: "p" });
  } catch (e) {
    if (e instanceof ComposeError) return e;
    throw e;
  }
  throw new Error("expected a ComposeError");
}

describe("network_mode: service:x", () => {
  it("shares x's network namespace and starts after x (an implicit dependency)", () => {
    const plan = loadCompose({ yaml: "services:\n  side:\n    image: x\n    network_mode: service:app\n  app:\n    image: x\n", env: {}, projectName: "p" });
    expect(plan.services.side).toMatchObject({ sharesNetworkOf: "app", networks: {}, dependsOn: { app: { condition: "started", required: true } } });
    expect(plan.unsupported).toEqual([]);
    expect((composeModel(plan).services as Record<string, unknown>).side).toMatchObject({ network_mode: "service:app" });
  });

  it("keeps an explicit condition on the shared service", () => {
    const plan = loadCompose({ yaml: "services:\n  side:\n    image: x\n    network_mode: service:app\n    depends_on: { app: { condition: service_healthy } }\n  app:\n    image: x\n", env: {}, projectName: "p" });
    expect(plan.services.side!.dependsOn).toEqual({ app: { condition: "healthy", required: true } });
  });

  it("an unknown service is an error naming the key path; nothing is loaded", () => {
    const e = composeError("services:\n  side:\n    image: x\n    network_mode: service:nope\n  app:\n    image: x\n");
    expect(e.path).toBe("services.side.network_mode");
    expect(e.line).toBe(4);
    expect(e.message).toMatch(/shares the network of the undefined service "nope" \(services: side, app\); name one of them after "service:"/);
  });

  it("refuses keys the shared namespace decides, itself, and container:x", () => {
    expect(composeError('services:\n  side:\n    image: x\n    network_mode: service:app\n    ports: ["80"]\n  app:\n    image: x\n')).toMatchObject({ path: "services.side.ports" });
    expect(composeError("services:\n  side:\n    image: x\n    network_mode: service:app\n    hostname: h\n  app:\n    image: x\n").message).toMatch(/shares the network namespace of app .* which decides hostname; set it on app/);
    expect(composeError("services:\n  side:\n    image: x\n    network_mode: service:side\n").message).toMatch(/cannot share its own network namespace/);
    const plan = loadCompose({ yaml: "services:\n  side:\n    image: x\n    network_mode: container:abc\n", env: {}, projectName: "p" });
    expect(plan.unsupported).toEqual([{ path: "services.side.network_mode", reason: expect.stringMatching(/can share only each other's network; use "service:<name>"/) }]);
  });

  it("a cycle through network_mode is a cycle", () => {
    expect(() => loadCompose({ yaml: "services:\n  a:\n    image: x\n    network_mode: service:b\n  b:\n    image: x\n    depends_on: [a]\n", env: {}, projectName: "p" })).toThrow(/cycle/i);
  });
});

describe("privileged and devices", () => {
  it("become container options", () => {
    const plan = loadCompose({
      yaml: 'services:\n  a:\n    image: x\n    privileged: true\n    devices: ["/dev/fuse", "/dev/net/tun:/dev/tun:rw", { source: /dev/null, target: /dev/nothing, permissions: r }]\n',
      env: {},
      projectName: "p",
    });
    expect(plan.unsupported).toEqual([]);
    expect(plan.services.a!.options).toMatchObject({ privileged: true, devices: ["/dev/fuse", "/dev/net/tun:/dev/tun:rw", { path: "/dev/null", target: "/dev/nothing", access: "r" }] });
    expect((composeModel(plan).services as Record<string, unknown>).a).toMatchObject({ privileged: true, devices: ["/dev/fuse", "/dev/net/tun:/dev/tun:rw", "/dev/null:/dev/nothing:r"] });
  });

  it("a device that does not exist, is no device, or lands outside /dev is an error naming the entry", () => {
    const missing = composeError('services:\n  a:\n    image: x\n    devices: ["/dev/fuse", "/dev/nope-bento"]\n');
    expect(missing.path).toBe("services.a.devices[1]");
    expect(missing.message).toMatch(/"\/dev\/nope-bento" does not exist on this machine \(ENOENT\); load the driver that makes it, or remove the entry/);
    expect(composeError('services:\n  a:\n    image: x\n    devices: ["/etc/passwd:/dev/passwd"]\n').message).toMatch(/"\/etc\/passwd" is not a character or block device/);
    expect(composeError('services:\n  a:\n    image: x\n    devices: ["/dev/fuse:/fuse"]\n').message).toMatch(/"\/fuse" must be a path under \/dev/);
    expect(composeError('services:\n  a:\n    image: x\n    devices: ["/dev/fuse:/dev/fuse:rwx"]\n').message).toMatch(/"rwx" is not an access/);
  });
});

describe("post_start and pre_stop", () => {
  it("become hooks, a string command split as compose splits it", () => {
    const plan = loadCompose({
      yaml: "services:\n  a:\n    image: x\n    post_start:\n      - command: touch '/tmp/a b'\n        user: nobody\n        working_dir: /tmp\n        environment: [A=1]\n    pre_stop:\n      - command: [sh, -c, 'exit 0']\n        privileged: true\n",
      env: {},
      projectName: "p",
    });
    expect(plan.unsupported).toEqual([]);
    expect(plan.services.a!.postStart).toEqual([{ command: ["touch", "/tmp/a b"], user: "nobody", workingDir: "/tmp", environment: { A: "1" }, privileged: false }]);
    expect(plan.services.a!.preStop).toEqual([{ command: ["sh", "-c", "exit 0"], privileged: true, environment: {} }]);
    expect((composeModel(plan).services as Record<string, unknown>).a).toMatchObject({ pre_stop: [{ command: ["sh", "-c", "exit 0"], privileged: true }] });
  });

  it("an empty command or a relative working_dir names the key", () => {
    expect(composeError("services:\n  a:\n    image: x\n    post_start:\n      - command: []\n").path).toBe("services.a.post_start[0].command");
    expect(composeError("services:\n  a:\n    image: x\n    pre_stop:\n      - { command: x, working_dir: tmp }\n").message).toMatch(/services\.a\.pre_stop\[0\]\.working_dir: "tmp" must be an absolute path/);
  });
});

describe("pid and ipc", () => {
  it("host and own modes become options; service:x a shared namespace and an implicit dependency", () => {
    const plan = loadCompose({
      yaml: "services:\n  debug:\n    image: x\n    pid: service:app\n    ipc: service:app\n  app:\n    image: x\n    ipc: shareable\n  h:\n    image: x\n    pid: host\n    ipc: host\n",
      env: {},
      projectName: "p",
    });
    expect(plan.unsupported).toEqual([]);
    expect(plan.services.debug).toMatchObject({ sharesPidOf: "app", sharesIpcOf: "app", dependsOn: { app: { condition: "started", required: true } } });
    expect(plan.services.app!.options.ipc).toBe("shareable");
    expect(plan.services.h!.options).toMatchObject({ pid: "host", ipc: "host" });
    const model = composeModel(plan).services as Record<string, unknown>;
    expect(model.debug).toMatchObject({ pid: "service:app", ipc: "service:app" });
    expect(model.h).toMatchObject({ pid: "host", ipc: "host" });
  });

  it("an unknown service, a private IPC donor, or an unknown mode is an error naming the key", () => {
    const unknown = composeError("services:\n  a:\n    image: x\n    pid: service:ghost\n");
    expect([unknown.path, unknown.line]).toEqual(["services.a.pid", 4]);
    expect(unknown.message).toMatch(/shares the pid namespace of the undefined service "ghost" \(services: a\)/);
    expect(composeError("services:\n  a:\n    image: x\n    ipc: service:b\n  b:\n    image: x\n").message).toMatch(/services\.a\.ipc: the IPC namespace of b is private; set ipc: shareable on b to let a join it/);
    expect(composeError("services:\n  a:\n    image: x\n    pid: private\n").message).toMatch(/"private" is not a pid mode; use "host", "service:<name>"/);
    expect(composeError("services:\n  a:\n    image: x\n    ipc: host\n    shm_size: 1m\n").message).toMatch(/services\.a\.shm_size: the container uses the \/dev\/shm of the host/);
    const plan = loadCompose({ yaml: "services:\n  a:\n    image: x\n    pid: container:abc\n", env: {}, projectName: "p" });
    expect(plan.unsupported.map((u) => u.path)).toEqual(["services.a.pid"]);
  });
});

import { describe, expect, it } from "vitest";
import { ComposeError } from "../../../src/stack/errors.js";
import { loadCompose } from "../../../src/stack/compose/load.js";
import { Stack } from "../../../src/stack/stack.js";
import { machinePlatform } from "../../../src/stack/compose/accepted.js";

function composeError(yaml: string): ComposeError {
  try {
    loadCompose({ yaml, env: {}, projectName: "p" });
  } catch (e) {
    if (e instanceof ComposeError) return e;
    throw e;
  }
  throw new Error("expected a ComposeError");
}

describe("system keys", () => {
  it("become container options", () => {
    const plan = loadCompose({
      yaml: 'services:\n  a:\n    image: x\n    extra_hosts: { api.test: 10.0.0.5 }\n    dns: [1.1.1.1]\n    dns_search: corp\n    domainname: d.example\n    sysctls: [net.core.somaxconn=512]\n    ulimits: { nproc: 100, nofile: { soft: 10, hard: "20" } }\n    shm_size: 256m\n',
      env: {},
      projectName: "p",
    });
    expect(plan.services.a!.options).toMatchObject({
      extraHosts: { "api.test": "10.0.0.5" },
      dns: { servers: ["1.1.1.1"], search: ["corp"] },
      domainname: "d.example",
      sysctls: { "net.core.somaxconn": "512" },
      ulimits: { nproc: 100, nofile: { soft: 10, hard: 20 } },
      shmSize: "256m",
    });
    expect(plan.unsupported).toEqual([]);
  });

  it("a sysctl outside the container's namespaces is an error naming the key and the fix; nothing starts", async () => {
    const yaml = "services:\n  a:\n    image: x\n    sysctls:\n      kernel.hostname: evil\n";
    const e = composeError(yaml);
    expect(e.path).toBe('services.a.sysctls["kernel.hostname"]');
    expect(e.line).toBe(5);
    expect(e.message).toMatch(/sysctls\["kernel\.hostname"\]: only sysctls of the container's own namespaces may be set \(net\.\*.*\), as Docker allows; set kernel\.hostname on the host instead/);
    expect(() => new Stack("s").service("a", { image: { toPlan: () => ({}) } as never, sysctls: { "vm.swappiness": 1 } })).toThrow(/services\.a\.sysctls\.vm\.swappiness: only sysctls/);
  });

  it("refuses host-gateway off the host network, net.* sysctls on it, bad addresses and limits", () => {
    expect(composeError('services:\n  a:\n    image: x\n    extra_hosts: ["h:host-gateway"]\n').message).toMatch(
      /extra_hosts\.h: host-gateway needs network: "host" \(in compose, network_mode: host\): a bento container has its own network namespace with no route to the host/,
    );
    expect(composeError("services:\n  a:\n    image: x\n    network_mode: host\n    sysctls: { net.core.somaxconn: 1 }\n").message).toMatch(/net\.\* sysctls would change the host's network namespace/);
    expect(composeError("services:\n  a:\n    image: x\n    extra_hosts: { h: not-an-ip }\n").message).toMatch(/"not-an-ip" is not an IP address \(or "host-gateway"\)/);
    expect(composeError("services:\n  a:\n    image: x\n    ulimits: { files: 10 }\n").message).toMatch(/services\.a\.ulimits\.files: "files" is not a limit; use one of cpu, fsize/);
    expect(composeError("services:\n  a:\n    image: x\n    ulimits: { nofile: { soft: 20, hard: 10 } }\n").message).toMatch(/the soft limit 20 is above the hard limit 10/);
  });

  it("accepts keys that change nothing that runs with a one-line warning; platform only when it is this machine's", () => {
    const plan = loadCompose({
      yaml: `services:\n  a:\n    image: x\n    platform: ${machinePlatform()}\n    tty: true\n    stdin_open: true\n    logging: { driver: json-file }\n    develop: { watch: [] }\n    security_opt: [no-new-privileges:true]\n`,
      env: {},
      projectName: "p",
    });
    expect(plan.unsupported).toEqual([]);
    expect(plan.services.a!.options.noNewPrivileges).toBe(true);
    expect(plan.warnings).toEqual([
      "service a: develop (compose watch) is ignored: bento runs what the files say when up() starts",
      "service a: logging is ignored: bento keeps each container's output itself (logs(), bento logs)",
      "service a: tty is accepted, but bento gives a service no terminal and no stdin: its output is logged",
      "service a: stdin_open is accepted, but bento gives a service no terminal and no stdin: its output is logged",
    ]);
    const other = loadCompose({ yaml: 'services:\n  a:\n    image: x\n    platform: linux/mips64le\n    security_opt: ["seccomp=unconfined"]\n', env: {}, projectName: "p" });
    expect(other.unsupported.map((u) => u.path)).toEqual(["services.a.platform", "services.a.security_opt[0]"]);
    expect(other.unsupported[0]!.reason).toMatch(/linux\/mips64le is not this machine's platform \(linux\/.*\); bento runs images of this machine's platform only/);
  });
});

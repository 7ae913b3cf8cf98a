/**
 * bento's compose schema (JSON Schema draft-07), written for bento: every key of the compose
 * specification is known (a typo is an error, not an ignored key), the keys bento honours have their
 * exact shapes, and the keys it does not honour accept any value (the loader reports them with their
 * path). It validates the document after interpolation, so numbers and booleans may also be strings
 * (`retries: "${RETRIES}"`). Each `description` is the fix an error message quotes.
 *
 * The full specification schema (compose-go's `compose-spec.json`) is not shipped: pass its path as
 * the `schema` option of `loadCompose` to validate the raw document against it as well.
 *
 * Over 400 lines: one document with an entry per compose key; split, a key's shape would be harder to find.
 */

type Schema = Record<string, unknown>;

const any: Schema = {};
const str = (description: string): Schema => ({ type: "string", description });
const int = (description: string): Schema => ({ anyOf: [{ type: "integer" }, { type: "string", pattern: "^\\s*[-+]?\\d+\\s*$" }], description });
const num = (description: string): Schema => ({ anyOf: [{ type: "number" }, { type: "string", pattern: "^\\s*[-+]?(\\d+\\.?\\d*|\\.\\d+)\\s*$" }], description });
const bool = (description: string): Schema => ({
  anyOf: [{ type: "boolean" }, { type: "string", pattern: "^(true|True|TRUE|false|False|FALSE|y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF)$" }],
  description,
});
const listOfStrings = (description: string): Schema => ({ type: "array", items: { type: "string" }, description });
const stringOrList = (description: string): Schema => ({ anyOf: [{ type: "string" }, { type: "array", items: { type: "string" } }], description });
const listOrDict = (description: string): Schema => ({
  anyOf: [
    { type: "object", additionalProperties: { type: ["string", "number", "boolean", "null"] } },
    { type: "array", items: { type: "string" } },
  ],
  description,
});
const duration = (description: string): Schema => ({ type: "string", description });

/** An object whose keys are `props` plus `x-` extensions; any other key is an error. */
function object(props: Record<string, Schema>, description: string, extra: Schema = {}): Schema {
  return { type: "object", properties: props, patternProperties: { "^x-": any }, additionalProperties: false, description, ...extra };
}

/** `post_start` and `pre_stop`: commands run in the container with exec. */
function lifecycleHooks(key: string): Schema {
  const hook = object(
    {
      command: { anyOf: [{ type: "string" }, { type: "array", items: { type: "string" } }], description: "the command, a string or a list" },
      user: str("the user to run it as"),
      privileged: bool("true for every capability"),
      working_dir: str("its working directory"),
      environment: listOrDict("variables added to the container's"),
    },
    `a ${key} hook`,
    { required: ["command"] },
  );
  return { type: "array", items: hook, description: `${key} hooks: [{ command, user?, privileged?, working_dir?, environment? }]` };
}

/** Keys bento does not honour: known, any value accepted, reported by the loader. */
function unsupported(...keys: string[]): Record<string, Schema> {
  return Object.fromEntries(keys.map((k) => [k, any]));
}

let built: Schema | undefined;

/**
 * The schema, as a JSON object (draft-07), built on its first use.
 *
 * @example
 * ```ts
 * new Ajv({ allErrors: true }).compile(composeSchema())(document);
 * ```
 */
export function composeSchema(): Schema {
  built ??= buildSchema();
  return built;
}

// A module's top-level code is compiled in full and run as it loads, a function's body only when
// first called: built here, the schema costs `import "bento"` nothing until a compose file is read.
function buildSchema(): Schema {
  const build = {
    anyOf: [
      { type: "string" },
      object(
        {
          context: str("the build context directory, relative to the compose file"),
          dockerfile: str("the Dockerfile's path, relative to the context"),
          dockerfile_inline: str("the Dockerfile's text"),
          args: listOrDict('build arguments as a map ({ VERSION: "1" }) or a list (["VERSION=1"])'),
          target: str("the stage to build"),
          ...unsupported(
            "additional_contexts",
            "cache_from",
            "cache_to",
            "entitlements",
            "extra_hosts",
            "isolation",
            "labels",
            "network",
            "no_cache",
            "no_cache_filter",
            "platforms",
            "privileged",
            "provenance",
            "pull",
            "sbom",
            "secrets",
            "shm_size",
            "ssh",
            "tags",
            "ulimits",
          ),
        },
        "build options",
      ),
    ],
    description: 'a context path ("./app") or { context, dockerfile, args, target }',
  };

  const port = {
    anyOf: [
      { type: "number" },
      { type: "string" },
      object(
        {
          target: int("the container port"),
          published: { anyOf: [{ type: "string" }, { type: "integer" }], description: "the host port or range" },
          host_ip: str("the host address to publish on"),
          protocol: str('"tcp" or "udp"'),
          mode: str('"ingress" or "host"'),
          name: str("a name for the port"),
          app_protocol: str("the application protocol, such as http"),
        },
        "a long-syntax port",
        { required: ["target"] },
      ),
    ],
    description: 'a port such as 8080, "8080:80", "127.0.0.1:8080:80/udp" or { target: 80, published: 8080 }',
  };

  const volumeMount = {
    anyOf: [
      { type: "string" },
      object(
        {
          type: { type: "string", enum: ["bind", "volume", "tmpfs", "cluster", "npipe", "image"], description: 'the mount type: "volume", "bind" or "tmpfs"' },
          source: str("a volume name (type volume) or a host path (type bind)"),
          target: str("the absolute path in the container"),
          read_only: bool("true for a read-only mount"),
          consistency: str("ignored on Linux"),
          bind: object({ create_host_path: bool("create the host path when missing"), ...unsupported("propagation", "recursive", "selinux") }, "bind options"),
          volume: object({ ...unsupported("labels", "nocopy", "subpath") }, "volume options"),
          tmpfs: object({ size: { anyOf: [{ type: "integer", minimum: 0 }, { type: "string" }], description: 'the size in bytes, or with a unit ("64m")' }, mode: num("the mode in octal, such as 1777") }, "tmpfs options"),
          ...unsupported("image"),
        },
        "a long-syntax volume",
        { required: ["type"] },
      ),
    ],
    description: 'a volume such as "data:/var/lib/data", "./src:/app:ro", "/tmp" or { type: "bind", source: "./src", target: "/app" }',
  };

  const healthcheck = object(
    {
      test: stringOrList('a shell command string, or ["CMD", "prog", "arg"], ["CMD-SHELL", "command"] or ["NONE"]'),
      interval: duration('a duration such as "30s" or "1m30s"'),
      timeout: duration('a duration such as "30s"'),
      start_period: duration('a duration such as "10s"'),
      start_interval: duration('a duration such as "5s"'),
      retries: int("the number of consecutive failures that make the service unhealthy"),
      disable: bool("true to disable the image's healthcheck"),
    },
    "healthcheck options",
  );

  const dependsOn = {
    anyOf: [
      listOfStrings("service names"),
      {
        type: "object",
        additionalProperties: object(
          {
            condition: { type: "string", enum: ["service_started", "service_healthy", "service_completed_successfully"], description: "service_started, service_healthy or service_completed_successfully" },
            required: bool("false to go on without this dependency"),
            restart: bool("restart the dependent when this service restarts"),
          },
          "a dependency",
          { required: ["condition"] },
        ),
      },
    ],
    description: 'a list of service names, or a map { db: { condition: "service_healthy" } }',
  };

  const serviceNetworks = {
    anyOf: [
      listOfStrings("network names"),
      {
        type: "object",
        additionalProperties: {
          anyOf: [
            { type: "null" },
            object(
              { aliases: listOfStrings("extra names of the service on this network"), ...unsupported("driver_opts", "gw_priority", "interface_name", "ipv4_address", "ipv6_address", "link_local_ips", "mac_address", "priority") },
              "network options",
            ),
          ],
        },
      },
    ],
    description: 'a list of network names, or a map { backend: { aliases: ["db"] } }',
  };

  const envFile = {
    anyOf: [
      { type: "string" },
      { type: "array", items: { anyOf: [{ type: "string" }, object({ path: str("the env file's path"), required: bool("false to skip a missing file"), ...unsupported("format") }, "an env file", { required: ["path"] })] } },
    ],
    description: 'a path (".env.web"), a list of paths, or [{ path, required }]',
  };

  const deploy = object(
    {
      resources: object(
        {
          limits: object(
            {
              memory: { anyOf: [{ type: "string" }, { type: "integer" }], description: 'a size such as "512m" or "1g"' },
              cpus: num('the number of CPUs, such as 0.5 or "1.5"'),
              pids: int("the maximum number of processes"),
            },
            "resource limits",
          ),
          ...unsupported("reservations"),
        },
        "resources",
      ),
      replicas: int("the number of replicas (bento runs one)"),
      ...unsupported("endpoint_mode", "labels", "mode", "placement", "restart_policy", "rollback_config", "update_config"),
    },
    "deploy options",
  );

  /** A service's `secrets:` or `configs:`: names, or { source, target, uid, gid, mode }. */
  function serviceFileList(kind: "secrets" | "configs"): Schema {
    const entry = object(
      {
        source: str(`the name of a top-level ${kind} entry`),
        target: str(kind === "secrets" ? "the file name under /run/secrets, or an absolute path" : "the absolute path of the file in the container"),
        uid: { anyOf: [{ type: "string" }, { type: "integer" }], description: "the numeric owner" },
        gid: { anyOf: [{ type: "string" }, { type: "integer" }], description: "the numeric group" },
        mode: { anyOf: [{ type: "string" }, { type: "integer" }], description: "the mode in octal, such as 0440" },
      },
      `a ${kind === "secrets" ? "secret" : "config"}`,
      { required: ["source"] },
    );
    return { type: "array", items: { anyOf: [{ type: "string" }, entry] }, description: `a list of ${kind} names, or { source, target, uid, gid, mode }` };
  }

  /** A top-level secret or config: one of file, environment, content. */
  function fileSource(kind: "secret" | "config"): Schema {
    return object(
      {
        file: str(`the ${kind}'s file, relative to the compose file`),
        environment: str(`the variable holding the ${kind}`),
        content: str(`the ${kind}'s text`),
        name: str("its name"),
        ...unsupported("external", "driver", "driver_opts", "template_driver", "labels"),
      },
      `a ${kind}: { file }, { environment } or { content }`,
    );
  }

  const service = object(
    {
      image: str('an image reference such as "postgres:16"'),
      build,
      command: { anyOf: [{ type: "null" }, { type: "string" }, { type: "array", items: { type: "string" } }], description: 'a command string ("npm start") or a list (["npm", "start"])' },
      entrypoint: { anyOf: [{ type: "null" }, { type: "string" }, { type: "array", items: { type: "string" } }], description: "an entrypoint string or a list" },
      environment: listOrDict('variables as a map ({ MODE: "test" }) or a list (["MODE=test"])'),
      env_file: envFile,
      ports: { type: "array", items: port, description: "a list of ports" },
      expose: { type: "array", items: { anyOf: [{ type: "string" }, { type: "number" }] }, description: 'a list of ports such as "8080" or "53/udp"' },
      volumes: { type: "array", items: volumeMount, description: "a list of volumes" },
      tmpfs: stringOrList('a path ("/run") or a list of paths, each optionally with ":size=64m,mode=1777"'),
      depends_on: dependsOn,
      healthcheck,
      working_dir: str("an absolute path in the container"),
      user: str('"name", "uid", "name:group" or "uid:gid"'),
      hostname: str("a hostname"),
      container_name: str("a container name"),
      labels: listOrDict('labels as a map or a list of "key=value"'),
      networks: serviceNetworks,
      network_mode: str('"none", "host", "slirp4netns", "pasta" or "service:<name>"'),
      deploy,
      restart: str('"no", "on-failure[:max-retries]", "always" or "unless-stopped"'),
      profiles: listOfStrings("profile names"),
      init: bool("true to run an init process as PID 1"),
      stop_signal: str('a signal name such as "SIGINT"'),
      stop_grace_period: duration('a duration such as "10s"'),
      read_only: bool("true for a read-only root filesystem"),
      cap_add: listOfStrings('capability names such as "NET_ADMIN"'),
      cap_drop: listOfStrings('capability names such as "NET_RAW", or "ALL"'),
      mem_limit: { anyOf: [{ type: "string" }, { type: "integer" }], description: 'a size such as "512m"' },
      cpus: num("the number of CPUs"),
      cpu_shares: int("a relative CPU weight"),
      pids_limit: int("the maximum number of processes"),
      privileged: bool("true for every capability and host device, no seccomp filter (docker run --privileged)"),
      devices: {
        type: "array",
        items: { anyOf: [{ type: "string" }, object({ source: str("the host device"), target: str("its path in the container"), permissions: str('"rwm" or some of it') }, "a device", { required: ["source"] })] },
        description: 'host devices such as ["/dev/fuse", "/dev/net/tun:/dev/tun:rwm"]',
      },
      extra_hosts: listOrDict('host names and addresses, { "api.test": "10.0.0.5" } or ["api.test:10.0.0.5"]; "host-gateway" needs network_mode: host'),
      dns: stringOrList("nameserver addresses"),
      dns_search: stringOrList("search domains"),
      dns_opt: listOfStrings('resolver options such as "ndots:2"'),
      domainname: str("the NIS domain name"),
      sysctls: listOrDict('namespaced sysctls such as { "net.core.somaxconn": 1024 }'),
      ulimits: {
        type: "object",
        additionalProperties: { anyOf: [{ type: "integer" }, { type: "string" }, object({ soft: int("the soft limit"), hard: int("the hard limit") }, "soft and hard limits", { required: ["soft", "hard"] })] },
        description: "limits such as { nofile: { soft: 1024, hard: 4096 }, nproc: 512 }",
      },
      shm_size: { anyOf: [{ type: "string" }, { type: "integer" }], description: 'a size such as "256m"' },
      secrets: serviceFileList("secrets"),
      configs: serviceFileList("configs"),
      tty: bool("true or false (accepted; bento gives no terminal)"),
      stdin_open: bool("true or false (accepted; bento gives no stdin)"),
      develop: any,
      logging: any,
      attach: any,
      annotations: any,
      platform: str('the platform, such as "linux/amd64": this machine\'s'),
      security_opt: listOfStrings('"no-new-privileges" (other options are not supported)'),
      pid: str('"host" or "service:<name>"'),
      ipc: str('"private", "shareable", "host" or "service:<name>"'),
      post_start: lifecycleHooks("post_start"),
      pre_stop: lifecycleHooks("pre_stop"),
      ...unsupported(
        "blkio_config",
        "cgroup",
        "cgroup_parent",
        "cpu_count",
        "cpu_percent",
        "cpu_period",
        "cpu_quota",
        "cpu_rt_period",
        "cpu_rt_runtime",
        "cpuset",
        "credential_spec",
        "device_cgroup_rules",
        "extends",
        "external_links",
        "gpus",
        "group_add",
        "isolation",
        "label_file",
        "links",
        "mac_address",
        "mem_reservation",
        "mem_swappiness",
        "memswap_limit",
        "models",
        "oom_kill_disable",
        "oom_score_adj",
        "pre_start",
        "provider",
        "pull_policy",
        "pull_refresh_after",
        "runtime",
        "scale",
        "storage_opt",
        "use_api_socket",
        "userns_mode",
        "uts",
        "volumes_from",
      ),
    },
    "a service",
  );

  const network = {
    anyOf: [
      { type: "null" },
      object(
        {
          name: str("the network's name"),
          external: bool("true for a network created outside the project"),
          labels: listOrDict("labels"),
          driver: str('"bridge"'),
          ...unsupported("attachable", "driver_opts", "enable_ipv4", "enable_ipv6", "internal", "ipam"),
        },
        "network options",
      ),
    ],
    description: "network options, or nothing",
  };

  const volume = {
    anyOf: [
      { type: "null" },
      object(
        {
          name: str("the volume's name"),
          external: bool("true for a volume created outside the project"),
          labels: listOrDict("labels"),
          driver: str('"local"'),
          ...unsupported("driver_opts"),
        },
        "volume options",
      ),
    ],
    description: "volume options, or nothing",
  };

  return {
    $schema: "http://json-schema.org/draft-07/schema#",
    $id: "https://bento.dev/schemas/compose-subset.json",
    ...object(
      {
        version: { anyOf: [{ type: "string" }, { type: "number" }], description: "obsolete; ignored" },
        name: str("the project name: lower-case letters, digits, '_' and '-'"),
        services: { type: "object", additionalProperties: service, propertyNames: { pattern: "^[a-zA-Z0-9._-]+$" }, description: "a map of services" },
        networks: { type: "object", additionalProperties: network, propertyNames: { pattern: "^[a-zA-Z0-9._-]+$" }, description: "a map of networks" },
        volumes: { type: "object", additionalProperties: volume, propertyNames: { pattern: "^[a-zA-Z0-9._-]+$" }, description: "a map of volumes" },
        secrets: { type: "object", additionalProperties: fileSource("secret"), description: "a map of secrets" },
        configs: { type: "object", additionalProperties: fileSource("config"), description: "a map of configs" },
        ...unsupported("include", "models"),
      },
      "a compose file",
    ),
  };
}

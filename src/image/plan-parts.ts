/**
 * The values plan steps hold: where a step came from, stage bases, COPY sources, command lines,
 * key-value pairs, ARG declarations, heredocs and RUN mounts. Part of the plan IR (plan.ts).
 */
import type { ImagePlan } from "./plan.js";

/** Where a step came from in a Dockerfile (1-based, inclusive). Not part of a step's meaning. */
export interface SourceLocation {
  /** The first line of the instruction (1-based). */
  line: number;
  /** The last line of the instruction (1-based, inclusive); past `line` for continuations and heredocs. */
  endLine: number;
}

/** What a stage starts from. */
export type ImageBase =
  /** An empty filesystem and config. */
  | {
      /** Discriminant: starts from nothing (`FROM scratch`). */
      type: "scratch";
    }
  /** An image reference such as `docker.io/library/alpine:3.20` (template, expanded with global ARGs). */
  | {
      /** Discriminant: starts from an image reference. */
      type: "ref";
      /** The image reference (template). */
      ref: string;
    }
  /** An absolute host directory used as the root filesystem; checked when the image is built or run. */
  | {
      /** Discriminant: starts from a host directory. */
      type: "rootfs";
      /** The absolute host path of the directory. */
      path: string;
    }
  /** Another plan, embedded: the image `Image.from(otherImage)` starts from. */
  | {
      /** Discriminant: starts from an embedded plan. */
      type: "image";
      /** The embedded plan; its last stage is the base. */
      plan: ImagePlan;
    }
  /** An earlier stage of this plan, by its name (or its index, as a decimal string, when unnamed). */
  | {
      /** Discriminant: starts from an earlier stage. */
      type: "stage";
      /** The stage's name, or its 0-based index as a decimal string. */
      name: string;
    };

/**
 * Where `copy --from` reads: an earlier stage, an image reference, or an embedded plan. A `ref` (or
 * a FROM `ref`) with variables whose expanded value names an earlier stage means that stage, as in
 * BuildKit; only literal names are resolved to `stage` when the plan is made.
 */
export type CopySource =
  | {
      /** Discriminant: an earlier stage of this plan. */
      type: "stage";
      /** The stage's name, or its 0-based index as a decimal string. */
      name: string;
    }
  | {
      /** Discriminant: an image reference. */
      type: "ref";
      /** The image reference, or a stage name behind variables (template). */
      ref: string;
    }
  | {
      /** Discriminant: an embedded plan (`copy(..., { from: otherImage })`). */
      type: "image";
      /** The embedded plan; files are read from its last stage. */
      plan: ImagePlan;
    };

/** A command as written: a shell-form string (run by the image's SHELL) or an exec-form argv. */
export type CommandLine =
  | {
      /** Discriminant: shell form (`RUN make all`). */
      form: "shell";
      /** The command text, passed unexpanded as the last argument of the SHELL argv. */
      text: string;
    }
  | {
      /** Discriminant: exec form (`RUN ["make", "all"]`). */
      form: "exec";
      /** The program and its arguments, run without a shell. */
      argv: string[];
    };

/** A name/value pair of ENV or LABEL; both are templates. */
export interface KeyValue {
  /** The variable or label name (template). */
  key: string;
  /** The value (template). */
  value: string;
}

/** One declared ARG; `default` is a template. */
export interface ArgDeclaration {
  /** The argument's name. */
  name: string;
  /** The default value (template); absent for `ARG NAME` without `=`. */
  default?: string;
}

/** A here-document attached to RUN, COPY or ADD (`<<EOF` ... `EOF`). */
export interface Heredoc {
  /** The delimiter word, without quotes. */
  name: string;
  /** The body as written, every line with its newline; with `chomp`, leading tabs are still there. */
  content: string;
  /** False when the delimiter was quoted (`<<'EOF'`): the body is not expanded. */
  expand: boolean;
  /** True for `<<-EOF`: leading tabs are stripped from the body and from the delimiter line. */
  chomp: boolean;
  /** The file descriptor before `<<` (`3<<EOF`), when one was written. */
  fd?: number;
}

/** A `RUN --mount` specification (BuildKit's mount types). */
export interface RunMount {
  /** The mount type (`type=`): a bind from a stage or the context, a persistent cache, a tmpfs, a secret or an SSH agent socket. */
  type: "bind" | "cache" | "tmpfs" | "secret" | "ssh";
  /** Where the mount appears in the build container. */
  target?: string;
  /** Path in `from` (bind, cache) or secret/ssh source. */
  source?: string;
  /** Stage or image reference the source comes from (bind, cache). */
  from?: string;
  /** Read-only (bind defaults to true, cache to false). */
  readonly?: boolean;
  /** Cache or secret id. */
  id?: string;
  /** Cache sharing mode. */
  sharing?: "shared" | "private" | "locked";
  /** File mode, as octal text (`0700`). */
  mode?: string;
  /** Numeric owner uid of the mount (cache, secret, ssh). */
  uid?: number;
  /** Numeric owner gid of the mount (cache, secret, ssh). */
  gid?: number;
  /** Fail when the secret or ssh agent is missing. */
  required?: boolean;
  /** tmpfs size in bytes. */
  sizeBytes?: number;
  /** Expose a secret as this environment variable. */
  env?: string;
}

/** Network mode of a RUN step: BuildKit's `default`, `none` and `host`. */
export type RunNetwork = "default" | "none" | "host";

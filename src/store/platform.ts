/** The machine's platform in OCI terms (image-spec `image-index.md`, Go's GOARCH names). */

const NODE_TO_OCI_ARCH: Record<string, string> = {
  x64: "amd64",
  arm64: "arm64",
  arm: "arm",
  ia32: "386",
  ppc64: "ppc64le",
  s390x: "s390x",
  riscv64: "riscv64",
};

/** The OCI architecture name of this machine (`amd64` for Node's `x64`). */
export function hostArchitecture(): string {
  return NODE_TO_OCI_ARCH[process.arch] ?? process.arch;
}

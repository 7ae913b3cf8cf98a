#!/usr/bin/env bash
# Proves that bento works from a clean clone with nothing arranged first, on a throwaway copy:
# a clone of the committed HEAD in a temporary directory (no sibling ../shared, its own
# BENTO_HOME), `npm ci`, the demo (it needs no Debian package: Image.fromHost), then the README's
# test command, `npm test` (which installs the Debian packages it uses when run as root).
#
#   scripts/fresh-machine-check.sh           # all of it
#   scripts/fresh-machine-check.sh --quick   # the demo and the unit tests only (what CI runs)
#
# Everything it makes is removed at the end, also when a step fails.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
mode=full
case "${1:-}" in
  "") ;;
  --quick) mode=quick ;;
  *) echo "usage: $0 [--quick]" >&2; exit 2 ;;
esac

work="$(mktemp -d "${TMPDIR:-/tmp}/bento-fresh-XXXXXX")"
trap 'rm -rf "$work"' EXIT
step() { printf '\n== fresh-machine check: %s\n' "$1"; }

step "clean clone of $(git -C "$repo" rev-parse --short HEAD) into $work/bento"
git clone -q --no-hardlinks "$repo" "$work/bento"
cd "$work/bento"
if [ -e ../shared ]; then echo "unexpected ../shared beside the clone" >&2; exit 1; fi

export BENTO_HOME="$work/home" BENTO_RUNTIME_DIR="$work/run"

step "npm ci"
npm ci --no-audit --no-fund

step "npm run demo"
npm run demo

if [ "$mode" = quick ]; then
  step "unit tests (npx vitest run test/unit)"
  npx vitest run test/unit
else
  step "the README's test command: npm test"
  npm test
fi
step "passed ($mode)"

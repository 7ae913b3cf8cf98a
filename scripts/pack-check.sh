#!/usr/bin/env bash
# Proves the published package installs and runs without a compiler: `npm pack` (its prepack
# builds any missing prebuilt binaries), then `npm install ./bento-*.tgz` into an empty project
# whose PATH holds no compiler, make or python, then the demo from the installed package. The
# install must take the prebuilt binaries (node-gyp could not build anything there).
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/bento-pack-XXXXXX")"
trap 'rm -rf "$work"' EXIT
step() { printf '\n== pack check: %s\n' "$1"; }

step "npm pack"
(cd "$repo" && npm pack --pack-destination "$work" --silent)
tarball="$(ls "$work"/bento-*.tgz)"
tar -tzf "$tarball" | grep -E '^package/prebuilds/' || { echo "the tarball has no prebuilds/" >&2; exit 1; }

step "a PATH without compilers"
mkdir -p "$work/bin"
for dir in /usr/local/bin /usr/bin /bin; do
  for tool in "$dir"/*; do
    name="$(basename "$tool")"
    case "$name" in
      cc|c++|gcc|g++|cpp|make|gmake|python|python3|python3.*|clang*|*-gcc|*-gcc-*|*-g++|*-g++-*|*-cc|ld|*-ld|as|*-as) continue ;;
    esac
    [ -e "$work/bin/$name" ] || ln -s "$tool" "$work/bin/$name"
  done
done
if PATH="$work/bin" command -v g++ cc make python3 >/dev/null 2>&1; then echo "a compiler is still on PATH" >&2; exit 1; fi

step "npm install ./$(basename "$tarball") into an empty project"
mkdir "$work/project"
cd "$work/project"
PATH="$work/bin" npm init -y >/dev/null
PATH="$work/bin" npm install --no-audit --no-fund "$tarball"
test ! -e node_modules/bento/build || { echo "the install built from source instead of using the prebuilt binaries" >&2; exit 1; }

step "the demo, from the installed package"
PATH="$work/bin" BENTO_HOME="$work/home" BENTO_RUNTIME_DIR="$work/run" node node_modules/bento/dist/demo.js
step "passed"

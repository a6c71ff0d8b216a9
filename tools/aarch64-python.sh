#!/usr/bin/env bash
# An aarch64 CPython 3.13 for the artifact tier (tests/artifact), run under qemu-user on an x86_64 machine:
#   tools/aarch64-python.sh ROOT        builds ROOT (once; a second run with the same package list does nothing)
#   qemu-aarch64-static -L ROOT ROOT/usr/bin/python3.13 ...
# Everything comes from Debian packages: qemu-user-static from the machine's own apt sources (installed when missing),
# and Debian 13 (trixie) arm64 packages fetched with a private apt configuration under ROOT's sibling work folder, so
# the machine's apt state and architectures are never touched. Each package is unpacked with dpkg-deb -x, not
# installed (no maintainer scripts run). Lambda's python3.13 runs on Amazon Linux 2023 (glibc 2.34); trixie's
# glibc is newer, so this root can load whatever Lambda can (the glibc ceiling is checked separately, on the wheels).
set -euo pipefail

ROOT=${1:?usage: $0 ROOT}
mkdir -p "$(dirname "$ROOT")"
ROOT="$(cd "$(dirname "$ROOT")" && pwd)/$(basename "$ROOT")"
WORK="$ROOT.apt"
SUITE=trixie
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
# The interpreter, the C libraries it and the extensions link against (awslambdaric's needs libstdc++), and CA
# certificates for TLS.
PACKAGES=(python3.13-minimal libpython3.13-minimal libpython3.13-stdlib libc6 libgcc-s1 libstdc++6 libssl3t64 zlib1g libffi8
  libexpat1 libbz2-1.0 liblzma5 libzstd1 libsqlite3-0 libuuid1 libncursesw6 libtinfo6 libreadline8t64 media-types
  ca-certificates openssl)
STAMP="$ROOT/.complete"
WANT="$SUITE arm64 ${PACKAGES[*]}"

as_root=()
[[ "$(id -u)" == 0 ]] || as_root=(sudo)

# qemu-user-static, and Debian's archive keyring (Debian has it; Ubuntu, e.g. GitHub's runners, packages it too).
missing=()
command -v qemu-aarch64-static >/dev/null 2>&1 || missing+=(qemu-user-static)
[[ -r "$KEYRING" ]] || missing+=(debian-archive-keyring)
if (( ${#missing[@]} )); then
  echo "Installing ${missing[*]} (apt) for the artifact tier"
  "${as_root[@]}" apt-get update -qq
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$WANT" ]]; then
  exit 0
fi

echo "Building an aarch64 Python 3.13 root from Debian $SUITE arm64 packages in $ROOT"
rm -rf "$ROOT" "$WORK"
mkdir -p "$ROOT" "$WORK"/{etc/apt/sources.list.d,etc/apt/preferences.d,etc/apt/apt.conf.d,state/lists/partial,cache/archives/partial,debs}
cat >"$WORK/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: http://deb.debian.org/debian
Suites: $SUITE
Components: main
Architectures: arm64
Signed-By: $KEYRING
EOF
: >"$WORK/state/status"
: >"$WORK/etc/apt/sources.list"
cat >"$WORK/apt.conf" <<EOF
Dir::State "$WORK/state/";
Dir::State::status "$WORK/state/status";
Dir::Cache "$WORK/cache/";
Dir::Etc "$WORK/etc/apt/";
Dir::Etc::SourceList "$WORK/etc/apt/sources.list";
APT::Architecture "arm64";
APT::Architectures { "arm64"; };
Acquire::Languages "none";
APT::Sandbox::User "$(id -un)";
EOF
export APT_CONFIG="$WORK/apt.conf"
apt-get update -qq
(cd "$WORK/debs" && apt-get download -qq "${PACKAGES[@]}")
for deb in "$WORK"/debs/*.deb; do
  dpkg-deb -x "$deb" "$ROOT"
done
# The dynamic loader is looked up at /lib/ld-linux-aarch64.so.1 (usrmerge: it lives in usr/lib).
[[ -e "$ROOT/lib" ]] || ln -s usr/lib "$ROOT/lib"
rm -rf "$WORK"
# Debian compiles the standard library's bytecode in a maintainer script, which unpacking skips: compile it once here
# (bytecode is the same on every architecture) or every emulated start recompiles what it imports. Any Python 3.13
# will do; without one, the root still works, only slower.
if command -v "${PYTHON313:-python3.13}" >/dev/null 2>&1 && "${PYTHON313:-python3.13}" -c '' 2>/dev/null; then
  "${PYTHON313:-python3.13}" -m compileall -q -j 0 -x 'lib2to3|test|idlelib' "$ROOT/usr/lib/python3.13" >/dev/null || true
fi
echo "$WANT" >"$STAMP"

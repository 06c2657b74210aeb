# Shared by tools/setup.sh (what running procsim needs) and tools/test.sh (what the tests
# need on top): install missing Debian packages with apt-get, and procsim into .venv.
# Sourced, not run. With DRY_RUN=1 nothing is installed: each step says what it would do.

DRY_RUN="${DRY_RUN:-0}"

say() { echo "setup: $*"; }

# die MESSAGE: one clear message on stderr, exit status 2
die() {
  echo "setup: $*" >&2
  exit 2
}

# pkg_installed NAME: whether the Debian package (or its 64-bit-time twin NAMEt64, as
# Debian 13 renamed some libraries) is installed
pkg_installed() {
  local s
  for name in "$1" "$1t64"; do
    s="$(dpkg-query -W -f='${db:Status-Status}' "$name" 2>/dev/null || true)"
    [ "$s" = installed ] && return 0
  done
  return 1
}

# apt_install WHAT PKG...: install the packages that are missing (none missing: nothing is
# run, so a second run is a quick no-op). apt-get's own progress is shown.
apt_install() {
  local what="$1"
  shift
  if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg-query >/dev/null 2>&1; then
    say "no apt-get here: install $what yourself if missing ($*)"
    return 0
  fi
  local missing=() p
  for p in "$@"; do
    pkg_installed "$p" || missing+=("$p")
  done
  if [ "${#missing[@]}" -eq 0 ]; then
    say "$what: already installed"
    return 0
  fi
  if [ "$DRY_RUN" = 1 ]; then
    say "$what: would install with apt-get: ${missing[*]}"
    return 0
  fi
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 ||
      die "$what: need root to install ${missing[*]} (run as root, or install sudo)"
    sudo=(sudo)
  fi
  say "$what: installing with apt-get: ${missing[*]}"
  "${sudo[@]}" apt-get update
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y --no-install-recommends "${missing[@]}"
}

# pip_install_project [EXTRA]: install procsim (editable, with the extra, e.g. "dev") into
# .venv with pip, unless tools/venv_check.py finds everything already there (no network).
pip_install_project() {
  local extra="${1:-}" spec="." with="" why
  [ -n "$extra" ] && spec=".[$extra]" && with=" with its $extra tools"
  if [ -x .venv/bin/procsim ] && why="$(.venv/bin/python tools/venv_check.py $extra)"; then
    say "procsim$with: already installed in .venv"
    return 0
  fi
  [ -x .venv/bin/procsim ] || why="not installed yet"
  if [ "$DRY_RUN" = 1 ]; then
    say "would install procsim$with into .venv with pip ($why)"
    return 0
  fi
  say "installing procsim$with into .venv with pip ($why; the first time: a few hundred MB" \
    "to download, about 1 GB installed)"
  .venv/bin/python -m pip install --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install --disable-pip-version-check -e "$spec"
}

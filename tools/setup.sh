#!/usr/bin/env bash
# Set up procsim to RUN it, on Debian/Ubuntu: the system libraries the app needs (OpenGL and
# EGL from Mesa for the 3-D scene, the X and GLib libraries OpenCV and MediaPipe load,
# fonts), then a virtual environment in .venv with procsim installed.
# What only the tests need (a PostgreSQL server, Chromium) is installed by tools/test.sh.
#
# Usage: bash tools/setup.sh [--dry-run]
#   --dry-run   say what would be installed; install nothing
# Environment: PYTHON=/path/to/python3.X chooses the Python (3.10, 3.11 or 3.12).
# Safe to run again: it only installs what is missing (a second run is a quick no-op).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=tools/setup-lib.sh
. tools/setup-lib.sh

for arg in "$@"; do
  case "$arg" in
    --dry-run) DRY_RUN=1 ;;
    -h | --help)
      awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
      exit 0
      ;;
    *) die "unknown option $arg (expected --dry-run)" ;;
  esac
done

# What running procsim needs from the system (Debian package names).
RUN_PACKAGES=(
  libgl1 libglx-mesa0 libgl1-mesa-dri libegl1 libegl-mesa0 libopengl0 libgles2 # OpenGL, EGL
  libglib2.0-0 libsm6 libxext6 # loaded by OpenCV (cv2)
  fonts-dejavu-core            # the font of the HTML reports and plots
  espeak-ng                    # the patient's voice (sim/app/voice.py; without it: words only)
)

# The Pythons procsim runs on: pyproject.toml's requires-python. mediapipe 0.10.21 (the last
# release that ships its hand models inside the package) has no wheels for Python 3.13.
SUPPORTED=(3.10 3.11 3.12)
SUPPORTED_WORDS="${SUPPORTED[0]}, ${SUPPORTED[1]} or ${SUPPORTED[2]}"

py_version() { "$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || true; }
supported() {
  local v
  for v in "${SUPPORTED[@]}"; do [ "$1" = "$v" ] && return 0; done
  return 1
}
unsupported() { # unsupported WHO VERSION
  die "procsim needs Python $SUPPORTED_WORDS, and $1 is" \
    "Python $2 (mediapipe 0.10.21, which carries the hand models, cannot be installed on it)." \
    "Install Python ${SUPPORTED[2]} (e.g. 'uv python install ${SUPPORTED[2]}', pyenv, or your" \
    "distribution's python${SUPPORTED[2]} package), then run:" \
    "PYTHON=/path/to/python${SUPPORTED[2]} bash tools/setup.sh"
}

# 1. Choose the Python before installing anything, so that a wrong one stops at once.
PY=""
NEED_PYTHON3=0
if [ -x .venv/bin/python ]; then
  v="$(py_version .venv/bin/python)"
  supported "$v" || die "the existing .venv has Python ${v:-(broken)}; remove it (rm -rf .venv)" \
    "and run again with Python $SUPPORTED_WORDS"
  PY=.venv/bin/python
elif [ -n "${PYTHON:-}" ]; then
  command -v "$PYTHON" >/dev/null 2>&1 || die "PYTHON=$PYTHON: no such program"
  v="$(py_version "$PYTHON")"
  [ -n "$v" ] || die "PYTHON=$PYTHON: does not run"
  supported "$v" || unsupported "PYTHON=$PYTHON" "$v"
  PY="$PYTHON"
else
  found=""
  for cand in python3 python3.12 python3.11 python3.10; do
    command -v "$cand" >/dev/null 2>&1 || continue
    v="$(py_version "$cand")"
    [ -n "$v" ] || continue
    [ -n "$found" ] || found="$cand:$v"
    if supported "$v"; then
      PY="$(command -v "$cand")"
      break
    fi
  done
  if [ -z "$PY" ] && [ -n "$found" ]; then
    unsupported "${found%%:*}" "${found##*:}"
  elif [ -z "$PY" ]; then
    NEED_PYTHON3=1 # no Python at all (a minimal system): apt installs the distribution's
  fi
fi
[ -n "$PY" ] && [ "$PY" != .venv/bin/python ] && say "using $PY (Python $v)"

# 2. System packages; with them, python3 and venv support (python3.X-venv: Debian and
#    Ubuntu ship venv without ensurepip otherwise) when the venv is still to be made.
packages=("${RUN_PACKAGES[@]}")
if [ "$NEED_PYTHON3" = 1 ]; then
  packages+=(python3 python3-venv)
elif [ "$PY" != .venv/bin/python ] && ! "$PY" -c 'import ensurepip, venv' 2>/dev/null; then
  if command -v apt-get >/dev/null 2>&1; then
    packages+=("python$v-venv")
  else
    die "$PY cannot make a virtual environment (no venv/ensurepip module): install your" \
      "distribution's python3-venv package, or use another Python with PYTHON=..."
  fi
fi
apt_install "system libraries" "${packages[@]}"

if [ "$NEED_PYTHON3" = 1 ]; then
  [ "$DRY_RUN" = 1 ] && { say "would then make .venv with the installed python3"; exit 0; }
  PY="$(command -v python3 || true)"
  [ -n "$PY" ] || die "no python3 found: install Python $SUPPORTED_WORDS"
  v="$(py_version "$PY")"
  supported "$v" || unsupported python3 "$v"
fi

# 3. The virtual environment and procsim in it.
if [ ! -x .venv/bin/python ]; then
  if [ "$DRY_RUN" = 1 ]; then
    say "would make .venv with $PY (Python $v) and install procsim into it with pip"
    exit 0
  fi
  say "making .venv with $PY"
  "$PY" -m venv .venv
fi
pip_install_project
[ "$DRY_RUN" = 1 ] || say "done: run .venv/bin/procsim practice"

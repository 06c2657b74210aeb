#!/usr/bin/env bash
# Set up (if needed) and run the whole test suite, offscreen (no display needed).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
export SDL_VIDEODRIVER="${SDL_VIDEODRIVER:-offscreen}"
export PYOPENGL_PLATFORM="${PYOPENGL_PLATFORM:-egl}"
export SDL_AUDIODRIVER="${SDL_AUDIODRIVER:-dummy}"
exec .venv/bin/python -m pytest -q "$@"

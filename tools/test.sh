#!/usr/bin/env bash
# Run the whole test suite, offscreen (no display needed). Sets up first: what running
# procsim needs (tools/setup.sh), then on top what only the tests need: a PostgreSQL server
# (the lab-store tests start one), headless Chromium (the HTML-report tests open the
# reports in it) and Debian's chromedriver (Selenium drives the instructor portal with it),
# and the dev tools (pytest, pytest-xdist, hypothesis, ruff, mypy, selenium).
# The tests are spread over the machine's cores (pytest-xdist, -n auto); -n 0 runs them in
# one process. Arguments go to pytest (e.g. bash tools/test.sh tests/lab -x).
# PROCSIM_SETUP_DRY_RUN=1: only say what would be installed, then stop (runs no tests).
set -euo pipefail
case "${1:-}" in
  -h|--help)
    cat <<'USAGE'
usage: bash tools/test.sh [PYTEST ARGS...]

Runs procsim's test suite offscreen (no display needed). First it sets up what running
procsim needs (tools/setup.sh), then what only the tests need: a PostgreSQL server,
headless Chromium with its chromedriver and the dev tools (pytest, pytest-xdist,
hypothesis, ruff, mypy, selenium). A second run only checks that they are there. The tests
run spread over the machine's cores (pytest-xdist's -n auto).

  bash tools/test.sh                 the whole suite
  bash tools/test.sh tests/lab -x    arguments go to pytest
  bash tools/test.sh -n 0            in one process (a debugger, or output in order)

PROCSIM_SETUP_DRY_RUN=1 bash tools/test.sh   say what would be installed, run nothing
USAGE
    exit 0
    ;;
esac
cd "$(dirname "$0")/.."
# shellcheck source=tools/setup-lib.sh
. tools/setup-lib.sh
if [ "${PROCSIM_SETUP_DRY_RUN:-0}" = 1 ]; then
  DRY_RUN=1
  bash tools/setup.sh --dry-run
else
  bash tools/setup.sh
fi

TEST_PACKAGES=(postgresql chromium chromium-driver)
apt_install "test tools" "${TEST_PACKAGES[@]}"
[ -x .venv/bin/python ] && pip_install_project dev
[ "$DRY_RUN" = 1 ] && exit 0

export SDL_VIDEODRIVER="${SDL_VIDEODRIVER:-offscreen}"
export PYOPENGL_PLATFORM="${PYOPENGL_PLATFORM:-egl}"
export SDL_AUDIODRIVER="${SDL_AUDIODRIVER:-dummy}"
exec .venv/bin/python -m pytest -q -n auto "$@"

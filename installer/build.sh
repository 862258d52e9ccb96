#!/usr/bin/env bash
# Build the frozen app (installer/pathscaat.spec) from a clean virtual environment and pack
# the Linux archive: PathSCAAT/ (both programs), install.sh, a .desktop entry and the icon.
#
#   installer/build.sh            -> installer/build/pathscaat-<version>-linux-<arch>.tar.gz
#
# Environment: PYTHON (default python3), PATHSCAAT_BUILD_DIR (default installer/build),
# PATHSCAAT_BUILD_VENV (reuse this venv instead of a clean one: a quick rebuild),
# PIP_INSTALL_ARGS (extra pip arguments, e.g. a CPU-only torch index, installer/README.md),
# PATHSCAAT_BUILD_ARCHIVE=0 (build the folder only: CI, which smoke-tests the folder).
# The spec itself is the same on Windows and macOS (installer/README.md has their commands).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${PATHSCAAT_BUILD_DIR:-$ROOT/installer/build}
mkdir -p "$BUILD"
BUILD=$(cd "$BUILD" && pwd)
t0=$(date +%s)

if [ -n "${PATHSCAAT_BUILD_VENV:-}" ]; then
  VENV=$PATHSCAAT_BUILD_VENV
  echo "build: reusing the venv $VENV"
else
  VENV=$BUILD/venv
  rm -rf "$VENV"
  "${PYTHON:-python3}" -m venv "$VENV"
  # shellcheck disable=SC2086  # PIP_INSTALL_ARGS is a list of words
  "$VENV/bin/pip" install --disable-pip-version-check -q ${PIP_INSTALL_ARGS:-} "$ROOT[build]"
fi
VERSION=$("$VENV/bin/python" -c "from importlib.metadata import version; print(version('pathscaat'))")
t1=$(date +%s)

echo "build: pyinstaller (a few minutes)"
rm -rf "$BUILD/dist"
"$VENV/bin/pyinstaller" --noconfirm --clean --log-level WARN \
  --distpath "$BUILD/dist" --workpath "$BUILD/work" "$ROOT/installer/pathscaat.spec"
APP=$BUILD/dist/PathSCAAT
t2=$(date +%s)

# The archive: PathSCAAT/ plus the installer's files, under one top folder.
NAME=pathscaat-$VERSION-linux-$(uname -m)
rm -f "$BUILD/$NAME.tar.gz"
if [ "${PATHSCAAT_BUILD_ARCHIVE:-1}" != "0" ]; then
  EXTRA=$BUILD/extra
  rm -rf "$EXTRA" && mkdir -p "$EXTRA"
  cp "$ROOT/installer/install.sh" "$EXTRA/install.sh"
  cp "$ROOT/resources/pathscaat.desktop" "$EXTRA/pathscaat.desktop"
  cp "$ROOT/resources/icons/app.svg" "$EXTRA/pathscaat.svg"
  chmod +x "$EXTRA/install.sh"
  GZIP_CMD=$(command -v pigz || echo gzip)
  tar -cf - --transform "s,^,$NAME/," -C "$BUILD/dist" PathSCAAT \
    -C "$EXTRA" install.sh pathscaat.desktop pathscaat.svg | "$GZIP_CMD" -1 > "$BUILD/$NAME.tar.gz"
fi
t3=$(date +%s)

echo "build: venv $((t1 - t0)) s, pyinstaller $((t2 - t1)) s, archive $((t3 - t2)) s"
echo "build: folder $(du -sh "$APP" | cut -f1) $APP"
[ ! -f "$BUILD/$NAME.tar.gz" ] || echo "build: archive $(du -sh "$BUILD/$NAME.tar.gz" | cut -f1) $BUILD/$NAME.tar.gz"
echo "build: largest parts of the folder (MiB):"
{ du -sm "$APP"/_internal/* | sort -rn | head -8 | sed "s,$APP/,  ,"; } || true
{ du -sm "$APP"/_internal/nvidia/* "$APP"/_internal/torch/lib 2>/dev/null | sort -rn | head -6 \
  | sed "s,$APP/,  ,"; } || true

#!/bin/sh
# Install PathSCAAT for this user, without root: the app folder in ~/.local/share/pathscaat,
# `pathscaat` and `pathscaat-gui` in ~/.local/bin, the menu entry and its icon.
#
#   ./install.sh              install (or update) from this unpacked archive
#   ./install.sh --uninstall  remove all of it again
#
# PREFIX=/some/where ./install.sh installs under that folder instead of ~/.local.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
PREFIX=${PREFIX:-$HOME/.local}
DEST=$PREFIX/share/pathscaat
APPS=$PREFIX/share/applications
ICONS=$PREFIX/share/icons/hicolor/scalable/apps

if [ "${1:-}" = "--uninstall" ]; then
  rm -rf "$DEST"
  rm -f "$PREFIX/bin/pathscaat" "$PREFIX/bin/pathscaat-gui" "$APPS/pathscaat.desktop" \
    "$ICONS/pathscaat.svg"
  echo "PathSCAAT removed from $PREFIX."
  exit 0
fi
if [ ! -x "$HERE/PathSCAAT/pathscaat-gui" ]; then
  echo "install.sh: $HERE/PathSCAAT/pathscaat-gui is missing; unpack the whole archive" \
    "and run install.sh from its folder." >&2
  exit 1
fi

mkdir -p "$PREFIX/share" "$PREFIX/bin" "$APPS" "$ICONS"
rm -rf "$DEST.new"
cp -R "$HERE/PathSCAAT" "$DEST.new"  # copy first: a failed copy leaves the old install
rm -rf "$DEST"
mv "$DEST.new" "$DEST"
ln -sf "$DEST/pathscaat" "$PREFIX/bin/pathscaat"
ln -sf "$DEST/pathscaat-gui" "$PREFIX/bin/pathscaat-gui"
cp "$HERE/pathscaat.svg" "$ICONS/pathscaat.svg"
sed -e "s|^Exec=pathscaat-gui|Exec=\"$DEST/pathscaat-gui\"|" \
  -e "s|^TryExec=pathscaat-gui|TryExec=$DEST/pathscaat-gui|" \
  "$HERE/pathscaat.desktop" > "$APPS/pathscaat.desktop"
command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database "$APPS" || true

echo "PathSCAAT installed in $DEST."
case ":$PATH:" in
  *":$PREFIX/bin:"*) ;;
  *) echo "Add $PREFIX/bin to your PATH to run pathscaat and pathscaat-gui from a terminal." ;;
esac
echo "Start it from the applications menu, or: pathscaat-gui [SLIDE]"

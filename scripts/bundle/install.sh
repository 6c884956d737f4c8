#!/bin/sh
# Installs this Matinee bundle for the current user, no root needed:
#   ${XDG_DATA_HOME:-~/.local/share}/matinee/versions/<build>/   this bundle
#   .../matinee/current -> versions/<build>    (the one before: .../previous)
#   ~/.local/bin/matinee -> .../matinee/launcher
# Runtime packages (Debian): libtorrent-rasterbar2.0, libcurl4, libsqlite3-0 and ffmpeg.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
version=$(cat "$here/VERSION")
build=$(cat "$here/BUILD")
case "$build" in '' | *[!0-9]*) echo "install.sh: this bundle's BUILD is not a number" >&2; exit 1 ;; esac
root="${XDG_DATA_HOME:-$HOME/.local/share}/matinee"
bindir="$HOME/.local/bin"
mkdir -p "$root/versions" "$bindir"

dest="$root/versions/$build"
current=""
[ -L "$root/current" ] && current=$(basename "$(readlink "$root/current")")
if [ "$current" = "$build" ]; then
    echo "Matinee $version (build $build) is already installed in $root."
else
    # Copied beside the others, then moved in: never half a version in place.
    tmp="$root/versions/.install-$build-$$"
    rm -rf "$tmp" "$dest"
    cp -Rp "$here" "$tmp"
    mv "$tmp" "$dest"
    if [ -n "$current" ]; then
        ln -sfn "versions/$current" "$root/previous.new" && mv -T "$root/previous.new" "$root/previous"
    fi
    ln -sfn "versions/$build" "$root/current.new" && mv -T "$root/current.new" "$root/current"
    rm -f "$root/trial"
fi
cp "$here/launcher" "$root/launcher.new" && chmod 755 "$root/launcher.new" && mv -f "$root/launcher.new" "$root/launcher"
ln -sfn "$root/launcher" "$bindir/matinee"

if ! "$root/current/bin/matinee" --version >/dev/null 2>&1; then
    echo "install.sh: Matinee is installed but does not start here; it needs: sudo apt-get install libtorrent-rasterbar2.0 libcurl4 libsqlite3-0 ffmpeg" >&2
    exit 1
fi
echo "Installed Matinee $version (build $build) in $root; the command is $bindir/matinee"
case ":$PATH:" in *":$bindir:"*) ;; *) echo "Add $bindir to your PATH to run it as: matinee" ;; esac

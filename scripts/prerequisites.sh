# Shared by run.sh and test.sh (sourced, not run): puts a .NET 10 SDK on PATH and installs missing Debian
# packages. Each function says exactly what it needs when it cannot install it itself.

# The Debian packages the whole test suite needs, and why:
#   chromium                      browser tests (Playwright drives Debian's build; browser downloads do not work offline)
#   python3 python3-numpy python3-opencv
#                                 the independent references (OpenCV DNN for Darknet, cv2.resize, COCO eval port,
#                                 the Ultralytics letterbox/decoding reference)
#   imagemagick                   independent encoders for the format tests
#   nginx                         the reverse-proxy test
#   fonts-dejavu-core             annotation tags (no font draws empty tags)
#   ffmpeg                        video input and output (lookout detect clip.mp4)
#   python3-yaml openssl systemd  deploy/check.sh (Kubernetes YAML, certificates, systemd-analyze verify)
#   ca-certificates curl          downloads (NuGet restore, the .NET installer)
LOOKOUT_TEST_PACKAGES=(chromium python3 python3-numpy python3-opencv imagemagick nginx fonts-dejavu-core ffmpeg
  python3-yaml openssl systemd ca-certificates curl)

# Installs whichever of the named Debian packages are missing: as root directly, else through sudo; otherwise
# stops with the exact apt-get line to run.
lookout_ensure_packages() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "Missing packages: ${missing[*]}. This is not a Debian/Ubuntu machine (no apt-get): install them with your package manager." >&2
    return 1
  fi
  local sudo=""
  if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo"
    else
      echo "Missing Debian packages. Install them as root, then run this again:" >&2
      echo "  sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
      return 1
    fi
  fi
  echo "Installing: ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Puts a .NET 10 SDK on PATH: the machine's own, one installed earlier into ~/.dotnet, or a fresh one there
# (Microsoft's dotnet-install script; needs curl).
lookout_ensure_dotnet() {
  if command -v dotnet >/dev/null 2>&1 && dotnet --list-sdks 2>/dev/null | grep -q '^10\.'; then return 0; fi
  if [ -x "$HOME/.dotnet/dotnet" ] && "$HOME/.dotnet/dotnet" --list-sdks | grep -q '^10\.'; then
    export PATH="$HOME/.dotnet:$PATH"
    return 0
  fi
  command -v curl >/dev/null 2>&1 || lookout_ensure_packages curl ca-certificates || return 1
  echo "Installing the .NET 10 SDK into ~/.dotnet (Microsoft's dotnet-install script)…"
  curl -fsSL https://dot.net/v1/dotnet-install.sh -o /tmp/dotnet-install.sh
  bash /tmp/dotnet-install.sh --channel 10.0 --install-dir "$HOME/.dotnet"
  export PATH="$HOME/.dotnet:$PATH"
}

# The .NET runtime identifier of this machine, for `dotnet publish -r`: only its ONNX Runtime and SkiaSharp
# natives are then published. Lookout ships for linux-x64 and linux-arm64 (e.g. Raspberry Pi 4/5, 64-bit OS).
lookout_rid() {
  case "$(uname -m)" in
    x86_64|amd64) echo linux-x64 ;;
    aarch64|arm64) echo linux-arm64 ;;
    *) echo "Unsupported architecture $(uname -m): Lookout runs on linux-x64 and linux-arm64 (a 64-bit OS; a 32-bit Raspberry Pi OS is not supported)." >&2; return 1 ;;
  esac
}

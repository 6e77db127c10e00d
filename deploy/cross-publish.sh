#!/usr/bin/env bash
# Publishes Lookout for another Linux architecture from this machine (default linux-arm64, as for a Raspberry
# Pi 4/5) exactly as deploy/Dockerfile does (framework-dependent, -r on restore and publish), prints the file
# list and size, and checks that every native file in it is built for that architecture (ELF e_machine) and that
# no other platform's natives came along (Windows DLLs, macOS dylibs): ONNX Runtime's and SkiaSharp's for the
# target were picked, not this machine's.
#
#   deploy/cross-publish.sh                 # linux-arm64 into artifacts/publish-linux-arm64
#   deploy/cross-publish.sh linux-x64 linux-arm64
#
# It proves the cross-build only. Running the result needs a machine of that architecture, which CI (x64)
# does not have: there, copy the folder over and run `dotnet lookout.dll serve`, or build the image with
# `--platform linux/arm64` (docs/deployment.md).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/prerequisites.sh
lookout_ensure_dotnet
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
[ $# -gt 0 ] || set -- linux-arm64
status=0
for rid in "$@"; do
  out="artifacts/publish-$rid"
  rm -rf "$out"
  echo "=== dotnet publish src/Lookout.Cli -c Release -r $rid --self-contained false -o $out"
  started=$(date +%s)
  dotnet restore src/Lookout.Cli/Lookout.Cli.csproj -r "$rid" -nologo -v quiet
  dotnet publish src/Lookout.Cli/Lookout.Cli.csproj -c Release --no-restore -r "$rid" --self-contained false -o "$out" -nologo -v quiet
  echo "published in $(( $(date +%s) - started )) s"
  # The Dockerfile runs the cross-built lookout.dll on the build machine (the model fetch): its managed part must
  # load here. The natives are the target's and cannot.
  dotnet "$out/lookout.dll" models list >/dev/null || { echo "FAIL: dotnet $out/lookout.dll models list does not run on $(uname -m)"; status=1; }
  echo "ok dotnet $out/lookout.dll models list runs on $(uname -m) (managed code is AnyCPU)"
  python3 - "$out" "$rid" <<'PY' || status=1
import os, sys
out, rid = sys.argv[1], sys.argv[2]
# ELF e_machine of each architecture Lookout publishes for.
expected = {"linux-x64": (62, "x86-64"), "linux-arm64": (183, "AArch64")}[rid]
total, wrong, natives = 0, [], []
for name in sorted(os.listdir(out)):
    path = os.path.join(out, name)
    if os.path.isdir(path):
        size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs)
        print(f"{size:>12,}  {name}/"); total += size; continue
    size = os.path.getsize(path); total += size
    with open(path, "rb") as f: head = f.read(20)
    kind = ""
    if head[:4] == b"\x7fELF":
        machine = int.from_bytes(head[18:20], "little")
        kind = {62: "ELF x86-64", 183: "ELF AArch64", 40: "ELF ARM"}.get(machine, f"ELF machine {machine}")
        natives.append(name)
        if machine != expected[0]: wrong.append(f"{name} ({kind})")
    elif head[:2] == b"MZ":
        # A PE file: managed if its CLR runtime header (data directory 14) is present, else a Windows native DLL.
        with open(path, "rb") as f: pe = f.read(4096)
        opt = int.from_bytes(pe[0x3c:0x40], "little") + 24
        dirs = opt + (96 if pe[opt:opt + 2] == b"\x0b\x01" else 112)
        if int.from_bytes(pe[dirs + 14 * 8 + 4:dirs + 14 * 8 + 8], "little") == 0:
            kind = "Windows native DLL"; wrong.append(f"{name} ({kind})")
    elif name.endswith(".dylib"):
        kind = "macOS native"; wrong.append(f"{name} ({kind})")
    print(f"{size:>12,}  {name}  {kind}")
print(f"{rid}: {len(os.listdir(out))} entries, {total/1e6:.1f} MB; native files {', '.join(natives)}")
if wrong: sys.exit(f"FAIL: not {expected[1]} natives: {', '.join(wrong)}")
if not any(n.startswith("libonnxruntime") for n in natives) or not any(n.startswith("libSkiaSharp") for n in natives):
    sys.exit("FAIL: ONNX Runtime's or SkiaSharp's native library is missing from the publish")
print(f"ok every native file is {expected[1]}")
PY
  [ "$rid" = linux-arm64 ] && [ "$(uname -m)" != aarch64 ] && \
    echo "note: built, not run: running the linux-arm64 publish needs an arm64 machine, and this one is $(uname -m)."
done
exit $status

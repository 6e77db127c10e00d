#!/usr/bin/env bash
# Static checks of the deployment files, for machines without a Docker engine, a Kubernetes cluster or a booted
# systemd (CI runs this through DeployFilesTests). Needs: nginx, openssl, python3 + python3-yaml, systemd
# (systemd-analyze). Prints one line per check; exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."
py=/usr/bin/python3
[ -x "$py" ] || py=python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# 1. systemd unit. systemd-analyze verify works without a running systemd; on a build machine the only complaint
#    allowed is that /opt/lookout/lookout is not installed. Anything else (unknown keys, bad values) fails.
command -v systemd-analyze >/dev/null || fail "systemd-analyze is missing (apt-get install -y systemd)"
out=$(systemd-analyze verify deploy/lookout.service 2>&1 || true)
rest=$(printf '%s\n' "$out" | grep -v -e '^$' -e 'Command /opt/lookout/lookout is not executable' || true)
[ -z "$rest" ] || fail "systemd-analyze verify deploy/lookout.service: $rest"
echo "ok systemd-analyze verify deploy/lookout.service${out:+ (only: ${out//$'\n'/ })}"

# 2. nginx: the template filled for a throw-away certificate, checked by nginx -t in a private prefix.
[ -x /usr/sbin/nginx ] || fail "/usr/sbin/nginx is missing (apt-get install -y nginx)"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=localhost \
  -keyout "$tmp/privkey.pem" -out "$tmp/fullchain.pem" 2>/dev/null || fail "openssl could not make a test certificate"
export LOOKOUT_DOMAIN=lookout.example.org LOOKOUT_UPSTREAM=127.0.0.1:5000 LOOKOUT_HTTPS_LISTEN=127.0.0.1:8443 \
  LOOKOUT_HTTP_LISTEN=127.0.0.1:8080 LOOKOUT_CERT="$tmp/fullchain.pem" LOOKOUT_KEY="$tmp/privkey.pem"
"$py" - deploy/nginx/lookout.conf "$tmp/lookout.conf" <<'PY'
import os, re, sys
text = open(sys.argv[1]).read()
filled = re.sub(r"\$\{(LOOKOUT_[A-Z_]+)\}", lambda m: os.environ[m.group(1)], text)
left = [l for l in filled.splitlines() if "${" in l and not l.lstrip().startswith("#")]
if left: sys.exit("unfilled placeholders: " + "; ".join(left))
open(sys.argv[2], "w").write(filled)
PY
user=""; [ "$(id -u)" = 0 ] && user="user root;"
cat > "$tmp/nginx.conf" <<EOF
$user
pid $tmp/nginx.pid;
error_log $tmp/error.log;
events {}
http {
  access_log off;
  client_body_temp_path $tmp/body; proxy_temp_path $tmp/proxy; fastcgi_temp_path $tmp/fastcgi;
  uwsgi_temp_path $tmp/uwsgi; scgi_temp_path $tmp/scgi;
  include $tmp/lookout.conf;
}
EOF
/usr/sbin/nginx -t -q -e "$tmp/error.log" -p "$tmp" -c "$tmp/nginx.conf" || fail "nginx -t on the filled deploy/nginx/lookout.conf: $(cat "$tmp/error.log")"
echo "ok nginx -t deploy/nginx/lookout.conf (filled)"

# 3. Kubernetes YAML and the Dockerfile: parsed and cross-checked (no cluster, no engine here).
"$py" - <<'PY'
import glob, re, sys
try:
    import yaml
except ImportError:
    sys.exit("FAIL: python3-yaml is missing (apt-get install -y python3-yaml)")

def fail(msg): sys.exit("FAIL: " + msg)

docs = {}
for path in sorted(glob.glob("deploy/kubernetes/*.yaml")):
    for d in yaml.safe_load_all(open(path)):
        if d is None: continue
        for key in ("apiVersion", "kind", "metadata"):
            if key not in d: fail(f"{path}: a document without {key}")
        docs[d["kind"]] = d
for kind in ("Deployment", "Service", "HorizontalPodAutoscaler"):
    if kind not in docs: fail(f"deploy/kubernetes has no {kind}")

dep = docs["Deployment"]
labels = dep["spec"]["template"]["metadata"]["labels"]
if dep["spec"]["selector"]["matchLabels"].items() - labels.items(): fail("Deployment selector does not match its pod labels")
pod = dep["spec"]["template"]["spec"]
c = pod["containers"][0]
ports = {p["name"]: p["containerPort"] for p in c["ports"]}
if ports.get("http") != 5000: fail("container port http must be 5000")
def probe(name, path):
    p = c.get(name) or fail(f"no {name}")
    if p["httpGet"]["path"] != path: fail(f"{name} must GET {path}")
probe("readinessProbe", "/readyz"); probe("livenessProbe", "/healthz"); probe("startupProbe", "/readyz")
s = c["startupProbe"]
if s["periodSeconds"] * s["failureThreshold"] < 60: fail("startupProbe allows under 60 s for the model to load")
sc = c["securityContext"]
if not sc.get("readOnlyRootFilesystem") or sc.get("allowPrivilegeEscalation") is not False: fail("container securityContext too loose")
if not pod["securityContext"].get("runAsNonRoot"): fail("pod must runAsNonRoot")
res = c["resources"]
def mib(q):
    m = re.fullmatch(r"(\d+)(Mi|Gi)", q) or fail(f"memory quantity {q}")
    return int(m.group(1)) * (1024 if m.group(2) == "Gi" else 1)
if not (mib(res["requests"]["memory"]) >= 192 and mib(res["limits"]["memory"]) >= 512): fail("memory sized below the measured use")
mounts = {m["mountPath"] for m in c["volumeMounts"]}
if "/var/cache/lookout" not in mounts: fail("no writable cache mount with a read-only root")
env = {e["name"]: e.get("value") for e in c.get("env", [])}
if env.get("LOOKOUT__ARCHIVE__ENABLED") != "false": fail("replicas must not archive (stateless)")

svc = docs["Service"]
if svc["spec"]["selector"].items() - labels.items(): fail("Service selector matches no pod")
if any(p["targetPort"] not in (5000, "http") for p in svc["spec"]["ports"]): fail("Service targets the wrong port")
hpa = docs["HorizontalPodAutoscaler"]
t = hpa["spec"]["scaleTargetRef"]
if (t["kind"], t["name"]) != ("Deployment", dep["metadata"]["name"]): fail("HPA scales something else")
if hpa["spec"]["metrics"][0]["resource"]["name"] != "cpu": fail("HPA must scale on CPU")
if "Ingress" in docs:
    b = docs["Ingress"]["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    if b["name"] != svc["metadata"]["name"]: fail("Ingress points at another Service")
print(f"ok kubernetes: {', '.join(sorted(docs))} parsed and cross-checked")

# Dockerfile: instruction names, stages, and that every COPY source exists and is not dockerignored.
known = {"FROM","RUN","CMD","LABEL","EXPOSE","ENV","ADD","COPY","ENTRYPOINT","VOLUME","USER","WORKDIR","ARG","ONBUILD","STOPSIGNAL","HEALTHCHECK","SHELL"}
lines, cur = [], ""
for raw in open("deploy/Dockerfile"):
    s = raw.rstrip("\n")
    if not cur and (not s.strip() or s.lstrip().startswith("#")): continue
    if s.endswith("\\"): cur += s[:-1] + " "; continue
    lines.append((cur + s).strip()); cur = ""
stages, final, froms, runs = [], {}, [], []
ignore = [l.strip() for l in open(".dockerignore") if l.strip() and not l.startswith("#")]
import fnmatch, os
def ignored(p):
    return any(fnmatch.fnmatch(p, pat.rstrip("/")) or fnmatch.fnmatch(p, pat.rstrip("/") + "/*") or
               fnmatch.fnmatch("x/" + p, pat.rstrip("/")) for pat in ignore)
for l in lines:
    op, _, rest = l.partition(" ")
    if op.upper() not in known or op != op.upper(): fail(f"Dockerfile: unknown or lower-case instruction {op!r}")
    if op == "FROM":
        m = re.fullmatch(r"(?:--platform=\S+ )?(\S+)(?: AS (\S+))?", rest) or fail(f"Dockerfile: bad FROM {rest}")
        stages.append(m.group(2)); final = {"image": m.group(1)}; froms.append(m.group(1))
    final.setdefault(op, []).append(rest)
    if op == "RUN": runs.append(rest)
    if op == "COPY":
        args = rest.split()
        frm = [a for a in args if a.startswith("--from=")]
        srcs = [a for a in args if not a.startswith("--")][:-1]
        if frm:
            if frm[0][7:] not in stages[:-1]: fail(f"Dockerfile: COPY {frm[0]} names no earlier stage")
        else:
            for src in srcs:
                if not os.path.exists(src.rstrip("/")): fail(f"Dockerfile: COPY source {src} does not exist")
                if ignored(src.rstrip("/")): fail(f"Dockerfile: COPY source {src} is excluded by .dockerignore")
if not final["image"].startswith("mcr.microsoft.com/dotnet/aspnet:10.0"): fail("final stage must run on aspnet:10.0")
if not any(i.startswith("mcr.microsoft.com/dotnet/sdk:10.0") for i in froms): fail("no sdk:10.0 build stage")
# Without a runtime identifier on restore and publish, the image ships every platform's natives (685 MB, not 49).
for verb in ("restore", "publish"):
    cmd = [r for r in runs if f"dotnet {verb}" in r]
    if not cmd or not re.search(r"dotnet " + verb + r"\b[^&]*\s-r\s", cmd[0]): fail(f"Dockerfile: dotnet {verb} without -r <runtime identifier>")
if not final.get("USER") or final["USER"][-1] in ("root", "0"): fail("final stage must switch to a non-root USER")
if "/healthz" not in " ".join(final.get("HEALTHCHECK", [])): fail("HEALTHCHECK must probe /healthz")
if "5000" not in final.get("EXPOSE", []): fail("EXPOSE 5000 missing")
if "fonts-dejavu-core" not in " ".join(final.get("RUN", [])): fail("runtime stage must install fonts-dejavu-core")
if '"serve"' not in final.get("ENTRYPOINT", [""])[-1]: fail("ENTRYPOINT must be lookout serve")
print(f"ok Dockerfile: {len(lines)} instructions, stages {stages}, COPY sources present and not dockerignored (structural lint; no engine here)")
PY

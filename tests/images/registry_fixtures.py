"""Registries for the registry-client tests (test_registry.py), reusable by the CLI's tests.

`start_registry(tmp, kind)` runs Debian's docker-registry (distribution 2.8) on 127.0.0.1 at a
free port with its storage under `tmp`, in one of three flavours: "http" (plain HTTP), "tls" (a
self-signed certificate for IP:127.0.0.1 made here with openssl; the CA is in `reg.cert_dir`) and
"auth" (plain HTTP with htpasswd basic auth, user `berth` / `s3cret`, bcrypt). `FaultProxy` sits
in front of one and answers the way public registries do (Bearer tokens from its own /token
realm) or misbehaves on purpose (503s, connections cut mid-blob). Images are loaded with
skopeo. Every process started here is stopped by its fixture.
"""
import base64
import warnings
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import crypt
import hashlib
import http.client
import http.server
import json
import os
import re
import shutil
import socket
import subprocess
import tarfile
import threading
import time
import urllib.request
import ssl
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
REGISTRY_BIN = "/usr/bin/docker-registry"
USER, PASSWORD = "berth", "s3cret"

needs_registry = pytest.mark.skipif(
    not (os.access(REGISTRY_BIN, os.X_OK) and shutil.which("skopeo") and shutil.which("openssl")),
    reason="needs docker-registry, skopeo and openssl")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def host_arch():
    m = os.uname().machine
    return {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "i686": "386"}.get(m, m)


@dataclass
class Registry:
    kind: str
    host: str            # "127.0.0.1:PORT"
    storage: Path        # the filesystem driver's root
    proc: subprocess.Popen
    log: Path
    cert_dir: str = ""   # kind "tls": holds ca.crt
    auth_file: str = ""  # kind "auth": a config.json with the right password

    def blob_data(self, digest):
        hexd = digest.split(":", 1)[1]
        return self.storage / "docker/registry/v2/blobs/sha256" / hexd[:2] / hexd / "data"

    def skopeo_dest(self):
        args = []
        if self.kind == "tls":
            args += ["--dest-cert-dir", self.cert_dir]
        else:
            args += ["--dest-tls-verify=false"]
        if self.kind == "auth":
            args += ["--dest-creds", f"{USER}:{PASSWORD}"]
        return args

    def load(self, src, name, all_images=False):
        """skopeo copy SRC (e.g. oci-archive:/x.tar) to this registry as NAME (repo:tag)."""
        cmd = ["skopeo", "copy", "-q", "--preserve-digests", *self.skopeo_dest(), src, f"docker://{self.host}/{name}"]
        if all_images:
            cmd.insert(2, "--all")
        subprocess.run(cmd, check=True, env=clean_env())

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def clean_env():
    env = dict(os.environ)
    for k in list(env):
        if k.lower() in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
            del env[k]
    return env


def make_cert(d: Path):
    d.mkdir(parents=True, exist_ok=True)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-keyout", str(d / "server.key"), "-out", str(d / "server.pem"),
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    cas = d / "cas"
    cas.mkdir()
    shutil.copy(d / "server.pem", cas / "ca.crt")  # self-signed: the cert is its own CA
    return cas


def start_registry(tmp: Path, kind="http"):
    tmp.mkdir(parents=True, exist_ok=True)
    port = free_port()
    storage = tmp / "storage"
    storage.mkdir()
    cfg = {
        "version": 0.1,
        "log": {"level": "warn", "accesslog": {"disabled": True}},
        # No blob descriptor cache: tests edit and delete blobs under the registry's feet.
        "storage": {"filesystem": {"rootdirectory": str(storage)}, "delete": {"enabled": True},
                    "maintenance": {"uploadpurging": {"enabled": False}}},
        "http": {"addr": f"127.0.0.1:{port}", "secret": "berth-test"},
    }
    reg = dict(cert_dir="", auth_file="")
    if kind == "tls":
        reg["cert_dir"] = str(make_cert(tmp / "tls"))
        cfg["http"]["tls"] = {"certificate": str(tmp / "tls/server.pem"),
                              "key": str(tmp / "tls/server.key")}
    if kind == "auth":
        htpasswd = tmp / "htpasswd"
        htpasswd.write_text(f"{USER}:{crypt.crypt(PASSWORD, crypt.mksalt(crypt.METHOD_BLOWFISH))}\n")
        cfg["auth"] = {"htpasswd": {"realm": "berth-test", "path": str(htpasswd)}}
        reg["auth_file"] = str(write_auth_file(tmp / "auth.json", f"127.0.0.1:{port}", USER, PASSWORD))
    config = tmp / "config.yml"
    config.write_text(json.dumps(cfg))  # JSON is YAML
    log = tmp / "registry.log"
    with open(log, "wb") as lf:
        proc = subprocess.Popen([REGISTRY_BIN, "serve", str(config)], stdout=lf, stderr=lf,
                                env=clean_env())
    r = Registry(kind, f"127.0.0.1:{port}", storage, proc, log, **reg)
    scheme = "https" if kind == "tls" else "http"
    ctx = ssl._create_unverified_context()
    deadline = time.monotonic() + 20
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"docker-registry exited: {log.read_text()}")
        try:
            urllib.request.urlopen(f"{scheme}://{r.host}/v2/", timeout=2, context=ctx)
            break
        except urllib.error.HTTPError:
            break  # 401: it answers
        except OSError:
            if time.monotonic() > deadline:
                r.stop()
                raise
            time.sleep(0.1)
    return r


def write_auth_file(path: Path, host, user, password):
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    path.write_text(json.dumps({"auths": {host: {"auth": token}}}))
    return path


# ---- images ------------------------------------------------------------------------------

def sha256(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


@dataclass
class Layout:
    """An OCI image layout directory (blobs/sha256 is a content store's layout too)."""
    path: Path
    top: dict  # descriptor of the image (manifest or index) tagged `tag`
    tag: str

    def blob(self, digest):
        return (self.path / "blobs/sha256" / digest.split(":", 1)[1]).read_bytes()

    def json_blob(self, digest):
        return json.loads(self.blob(digest))

    def manifest(self):
        return self.json_blob(self.top["digest"])

    def oci_ref(self):
        return f"oci:{self.path}:{self.tag}"

    def fill_store(self, store: Path):
        """A content store (ContentStore::open layout) holding every blob of the layout."""
        (store / "blobs").mkdir(parents=True, exist_ok=True)
        shutil.copytree(self.path / "blobs/sha256", store / "blobs/sha256", dirs_exist_ok=True)


def busybox_layout(tmp: Path, gzip=True):
    tar = tmp / "busybox.tar"
    env = dict(os.environ, BUSYBOX_IMAGE_GZIP="1" if gzip else "0")
    subprocess.run([str(REPO / "scripts/make-busybox-image.sh"), str(tar), "berthtest/busybox:1"],
                   check=True, env=env, capture_output=True)
    out = tmp / "busybox"
    with tarfile.open(tar) as t:
        t.extractall(out)
    index = json.loads((out / "index.json").read_text())
    return Layout(out, index["manifests"][0], "1")


def add_blob(layout: Path, data: bytes):
    d = sha256(data)
    (layout / "blobs/sha256" / d.split(":", 1)[1]).write_bytes(data)
    return d


def multiarch_layout(base: Layout, tmp: Path, other_arch=None):
    """`base` plus a second image for another architecture, under one OCI index tagged
    "multi". Returns (layout, {arch: manifest digest})."""
    other_arch = other_arch or ("arm64" if host_arch() != "arm64" else "amd64")
    out = tmp / "multi"
    shutil.copytree(base.path, out)
    m1 = base.manifest()
    config2 = base.json_blob(m1["config"]["digest"])
    config2["architecture"] = other_arch
    c2 = json.dumps(config2, separators=(",", ":")).encode()
    m2 = dict(m1, config=dict(m1["config"], digest=add_blob(out, c2), size=len(c2)))
    m2b = json.dumps(m2, separators=(",", ":")).encode()
    m2d = add_blob(out, m2b)
    index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
             "manifests": [
                 {"mediaType": m1["mediaType"], "digest": base.top["digest"],
                  "size": base.top["size"], "platform": {"architecture": host_arch(), "os": "linux"}},
                 {"mediaType": m1["mediaType"], "digest": m2d, "size": len(m2b),
                  "platform": {"architecture": other_arch, "os": "linux"}}]}
    ib = json.dumps(index, separators=(",", ":")).encode()
    top = {"mediaType": index["mediaType"], "digest": add_blob(out, ib), "size": len(ib)}
    outer = {"schemaVersion": 2, "manifests": [
        dict(top, annotations={"org.opencontainers.image.ref.name": "multi"})]}
    (out / "index.json").write_text(json.dumps(outer))
    return Layout(out, top, "multi"), {host_arch(): base.top["digest"], other_arch: m2d}


def multilayer_layout(tmp: Path, name="layers"):
    """scripts/make-test-images.sh's multi-layer image, or None when the script is absent."""
    script = REPO / "scripts/make-test-images.sh"
    if not script.exists() or not shutil.which("zstd"):
        return None
    out = tmp / "test-images"
    subprocess.run([str(script), str(out)], check=True, capture_output=True)
    index = json.loads((out / name / "index.json").read_text())
    return Layout(out / name, index["manifests"][0], "latest")


# ---- a proxy that answers like a public registry, or badly -----------------------------------

@dataclass
class Faults:
    bearer: bool = False              # demand Bearer tokens from our /token realm
    token_user: tuple = None          # (user, password) the token server requires, if any
    fail_manifests: int = 0           # answer this many manifest GETs with 503 first
    cut_blob: str = ""                # digest whose first full GET is cut off halfway
    no_ranges: bool = False           # ignore Range (answer 200 with the whole blob)
    log: list = field(default_factory=list)  # (method, path, range, authorization)
    tokens: list = field(default_factory=list)  # scopes asked for at /token


class FaultProxy:
    def __init__(self, upstream: Registry, faults: Faults):
        self.upstream = upstream.host
        self.faults = faults
        self.lock = threading.Lock()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_GET(self): proxy.handle(self)
            def do_HEAD(self): proxy.handle(self)
            def do_POST(self): proxy.handle(self)
            def do_PUT(self): proxy.handle(self)
            def do_PATCH(self): proxy.handle(self)
            def do_DELETE(self): proxy.handle(self)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.host = f"127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def reply(self, h, status, body=b"", headers=()):
        h.send_response(status)
        for k, v in headers:
            h.send_header(k, v)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        if h.command != "HEAD":
            h.wfile.write(body)

    def handle(self, h):
        f = self.faults
        path = h.path
        auth = h.headers.get("Authorization", "")
        with self.lock:
            f.log.append((h.command, path, h.headers.get("Range", ""), auth))
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else b""
        if path.startswith("/token"):
            return self.token(h)
        if f.bearer and path.startswith("/v2/"):
            m = re.match(r"^/v2/(.+?)/(manifests|blobs|tags)/", path)
            repo = m.group(1) if m else ""
            need = "push" if h.command in ("POST", "PUT", "PATCH", "DELETE") else "pull"
            granted = ""
            if auth.startswith("Bearer tok:"):
                granted = base64.b64decode(auth[len("Bearer tok:"):]).decode()
            ok = path == "/v2/" and auth.startswith("Bearer tok:") or (
                granted.startswith(f"repository:{repo}:") and need in granted.rsplit(":", 1)[1])
            if not ok:
                chal = f'Bearer realm="http://{self.host}/token",service="berth-test"'
                if repo:
                    chal += f',scope="repository:{repo}:{"pull,push" if need == "push" else "pull"}"'
                err = json.dumps({"errors": [{"code": "UNAUTHORIZED",
                                              "message": "authentication required"}]}).encode()
                return self.reply(h, 401, err, [("WWW-Authenticate", chal),
                                                ("Content-Type", "application/json")])
        if h.command == "GET" and "/manifests/" in path and f.fail_manifests > 0:
            with self.lock:
                f.fail_manifests -= 1
            return self.reply(h, 503, b'{"errors":[{"code":"UNAVAILABLE","message":"try later"}]}')
        return self.forward(h, body)

    def token(self, h):
        f = self.faults
        from urllib.parse import urlparse, parse_qs
        q = parse_qs(urlparse(h.path).query)
        scope = q.get("scope", [""])[0]
        with self.lock:
            f.tokens.append(scope)
        if f.token_user:
            want = "Basic " + base64.b64encode(":".join(f.token_user).encode()).decode()
            if h.headers.get("Authorization") != want:
                return self.reply(h, 401, b'{"details":"incorrect username or password"}')
        tok = "tok:" + base64.b64encode(scope.encode()).decode()
        return self.reply(h, 200, json.dumps({"token": tok, "expires_in": 300}).encode(),
                          [("Content-Type", "application/json")])

    def forward(self, h, body):
        f = self.faults
        conn = http.client.HTTPConnection(self.upstream, timeout=30)
        headers = {k: v for k, v in h.headers.items()
                   if k.lower() not in ("authorization", "host", "connection")}
        if f.no_ranges:
            headers.pop("Range", None)
        conn.request(h.command, h.path, body=body if body or h.command in ("PUT", "POST") else None,
                     headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        cut = False
        if (f.cut_blob and h.command == "GET" and h.path.endswith("/blobs/" + f.cut_blob)
                and resp.status == 200):
            with self.lock:
                cut, f.cut_blob = True, ""
        h.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() in ("content-length", "connection", "transfer-encoding"):
                continue
            if k.lower() == "location" and self.upstream in v:
                v = v.replace(self.upstream, self.host)
            h.send_header(k, v)
        h.send_header("Content-Length", str(len(data)))
        if cut:
            h.send_header("Connection", "close")
        h.end_headers()
        if h.command == "HEAD":
            return
        if cut:
            h.wfile.write(data[: len(data) // 2])
            h.wfile.flush()
            h.close_connection = True
            h.connection.shutdown(socket.SHUT_RDWR)
            return
        h.wfile.write(data)


# ---- fixtures ----------------------------------------------------------------------------

@pytest.fixture
def registry_factory(tmp_path):
    started = []

    def make(kind="http"):
        r = start_registry(tmp_path / f"registry-{len(started)}-{kind}", kind)
        started.append(r)
        return r

    yield make
    for r in started:
        r.stop()


@pytest.fixture
def fault_proxy():
    proxies = []

    def make(upstream, **faults):
        p = FaultProxy(upstream, Faults(**faults))
        proxies.append(p)
        return p

    yield make
    for p in proxies:
        p.stop()


@pytest.fixture(scope="session")
def busybox(tmp_path_factory):
    return busybox_layout(tmp_path_factory.mktemp("busybox"))


@pytest.fixture(scope="session")
def multiarch(busybox, tmp_path_factory):
    return multiarch_layout(busybox, tmp_path_factory.mktemp("multiarch"))

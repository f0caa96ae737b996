"""The registry client (src/image/registry) against Debian's docker-registry: pull by tag and by
digest, an index with two platforms, push then pull back, basic auth, Bearer tokens, TLS with
and without the CA, plain HTTP, corrupted and missing blobs, retries and resumed downloads.

pull()/push() are driven through `berth-unit-tests --gtest_filter=RegistryDriver.Run`
(tests/unit/registry_driver_test.cpp); set BERTH_UNIT_TESTS to use another binary. Registries
and proxies come from registry_fixtures.py and are stopped after each test.
"""
import json
import os
import subprocess
from pathlib import Path

import pytest

from registry_fixtures import (REPO, USER, PASSWORD, busybox, multiarch, registry_factory,  # noqa: F401
                               fault_proxy, host_arch, needs_registry, multilayer_layout,
                               write_auth_file, clean_env)

UNIT = os.environ.get("BERTH_UNIT_TESTS") or str(REPO / "build/bin/berth-unit-tests")

pytestmark = [needs_registry,
              pytest.mark.skipif(not os.access(UNIT, os.X_OK), reason=f"{UNIT} not built")]


def drive(tmp_path, op, ref, store=None, **options):
    """Runs pull or push in the driver; returns (result dict, stderr)."""
    store = store or tmp_path / "store"
    result = tmp_path / f"result-{os.urandom(4).hex()}.json"
    req = dict(op=op, ref=ref, store=str(store), result=str(result), **options)
    env = clean_env()
    env["BERTH_REGISTRY_TEST"] = json.dumps(req)
    p = subprocess.run([UNIT, "--gtest_filter=RegistryDriver.Run", "--gtest_brief=1"],
                       env=env, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    return json.loads(result.read_text()), p.stderr


def pull(tmp_path, ref, **kw):
    kw.setdefault("tls_verify", False)
    return drive(tmp_path, "pull", ref, **kw)


def store_blobs(store: Path):
    d = store / "blobs/sha256"
    return {"sha256:" + p.name for p in d.iterdir()} if d.exists() else set()


def ingest_files(store: Path):
    d = store / "ingest"
    return list(d.iterdir()) if d.exists() else []


def image_blobs(layout, manifest_digest):
    m = layout.json_blob(manifest_digest)
    return {manifest_digest, m["config"]["digest"], *(l["digest"] for l in m["layers"])}


# ---- pulling ---------------------------------------------------------------------------------

def test_pull_by_tag_and_by_digest(tmp_path, registry_factory, busybox):
    reg = registry_factory("http")
    reg.load(busybox.oci_ref(), "berth/busybox:1")
    res, _ = pull(tmp_path, f"{reg.host}/berth/busybox:1")
    assert res["ok"], res
    assert res["descriptor"]["digest"] == busybox.top["digest"]
    assert res["descriptor"]["mediaType"] == "application/vnd.oci.image.manifest.v1+json"
    store = tmp_path / "store"
    assert store_blobs(store) == image_blobs(busybox, busybox.top["digest"])
    for d in store_blobs(store):  # every blob is what the layout holds, byte for byte
        assert (store / "blobs/sha256" / d[7:]).read_bytes() == busybox.blob(d)

    res, _ = pull(tmp_path, f"{reg.host}/berth/busybox@{busybox.top['digest']}",
                  store=tmp_path / "store2")
    assert res["ok"], res
    assert res["descriptor"]["digest"] == busybox.top["digest"]
    assert store_blobs(tmp_path / "store2") == store_blobs(store)

    # A second pull into the same store fetches no blob again.
    res, err = pull(tmp_path, f"{reg.host}/berth/busybox:1", progress=True)
    assert res["ok"], res
    assert "skipped: already exists" in err


def test_pull_unknown_tag_and_repository(tmp_path, registry_factory, busybox):
    reg = registry_factory("http")
    reg.load(busybox.oci_ref(), "berth/busybox:1")
    res, _ = pull(tmp_path, f"{reg.host}/berth/busybox:nope")
    assert not res["ok"]
    assert res["errno"] == 2  # ENOENT
    assert f"manifest nope in {reg.host}/berth/busybox: 404" in res["error"]
    assert "MANIFEST_UNKNOWN" in res["error"]
    res, _ = pull(tmp_path, f"{reg.host}/no/such:1")
    assert not res["ok"] and "404" in res["error"] and "no/such" in res["error"]


def test_pull_wrong_pinned_digest_is_refused(tmp_path, registry_factory, busybox):
    reg = registry_factory("http")
    reg.load(busybox.oci_ref(), "berth/busybox:1")
    wrong = "sha256:" + "0" * 64
    res, _ = pull(tmp_path, f"{reg.host}/berth/busybox@{wrong}")
    assert not res["ok"]
    assert wrong in res["error"]


def test_pull_index_selects_the_platform(tmp_path, registry_factory, multiarch):
    layout, by_arch = multiarch
    reg = registry_factory("http")
    reg.load(layout.oci_ref(), "berth/multi:1", all_images=True)
    other = next(a for a in by_arch if a != host_arch())
    for arch in (host_arch(), other):
        store = tmp_path / f"store-{arch}"
        res, _ = pull(tmp_path, f"{reg.host}/berth/multi:1", store=store, arch=arch)
        assert res["ok"], res
        assert res["descriptor"]["digest"] == layout.top["digest"]
        assert "index" in res["descriptor"]["mediaType"]
        blobs = store_blobs(store)
        assert blobs == {layout.top["digest"]} | image_blobs(layout, by_arch[arch])
        wrong = by_arch[other if arch == host_arch() else host_arch()]
        assert wrong not in blobs
    res, _ = pull(tmp_path, f"{reg.host}/berth/multi:1", store=tmp_path / "s390x", arch="s390x")
    assert not res["ok"]
    assert "s390x" in res["error"] and host_arch() in res["error"] and other in res["error"]


def test_pull_multi_layer_image_in_parallel(tmp_path, registry_factory, tmp_path_factory):
    layout = multilayer_layout(tmp_path_factory.mktemp("test-images"))
    if layout is None:
        pytest.skip("scripts/make-test-images.sh (or zstd) missing")
    reg = registry_factory("http")
    reg.load(layout.oci_ref(), "berth/layers:latest")
    res, err = pull(tmp_path, f"{reg.host}/berth/layers:latest", progress=True, parallel=3)
    assert res["ok"], res
    blobs = image_blobs(layout, layout.top["digest"])
    assert len(blobs) >= 5
    assert store_blobs(tmp_path / "store") == blobs
    # Not a terminal: one plain line per blob.
    for d in blobs - {layout.top["digest"]}:
        assert f"Copying {'config' if d == layout.manifest()['config']['digest'] else 'blob'} " \
               f"{d[:19]} done" in err, err


# ---- pushing ---------------------------------------------------------------------------------

def test_push_then_pull_back(tmp_path, registry_factory, busybox):
    reg = registry_factory("http")
    src = tmp_path / "src"
    busybox.fill_store(src)
    res, err = drive(tmp_path, "push", f"{reg.host}/pushed/busybox:2", store=src,
                     top=busybox.top, tls_verify=False, progress=True)
    assert res["ok"], res
    assert err.count(" done") == 2, err  # layer and config
    res, _ = pull(tmp_path, f"{reg.host}/pushed/busybox:2", store=tmp_path / "back")
    assert res["ok"], res
    assert res["descriptor"]["digest"] == busybox.top["digest"]
    assert store_blobs(tmp_path / "back") == image_blobs(busybox, busybox.top["digest"])
    # skopeo agrees the registry holds the same manifest.
    raw = subprocess.run(["skopeo", "inspect", "--raw", "--tls-verify=false",
                          f"docker://{reg.host}/pushed/busybox:2"],
                         check=True, capture_output=True, env=clean_env()).stdout
    assert raw == busybox.blob(busybox.top["digest"])
    # Pushing again uploads nothing.
    res, err = drive(tmp_path, "push", f"{reg.host}/pushed/busybox:3", store=src,
                     top=busybox.top, tls_verify=False, progress=True)
    assert res["ok"], res
    assert err.count("skipped: already exists") == 2, err


def test_push_index_then_pull_back(tmp_path, registry_factory, multiarch):
    layout, by_arch = multiarch
    reg = registry_factory("http")
    src = tmp_path / "src"
    layout.fill_store(src)
    res, _ = drive(tmp_path, "push", f"{reg.host}/pushed/multi:1", store=src, top=layout.top,
                   tls_verify=False)
    assert res["ok"], res
    for arch, digest in by_arch.items():
        res, _ = pull(tmp_path, f"{reg.host}/pushed/multi:1", store=tmp_path / arch, arch=arch)
        assert res["ok"], res
        assert res["descriptor"]["digest"] == layout.top["digest"]
        assert digest in store_blobs(tmp_path / arch)


def test_push_names_a_blob_missing_locally(tmp_path, registry_factory, busybox):
    reg = registry_factory("http")
    src = tmp_path / "src"
    busybox.fill_store(src)
    layer = busybox.manifest()["layers"][0]["digest"]
    (src / "blobs/sha256" / layer[7:]).unlink()
    res, _ = drive(tmp_path, "push", f"{reg.host}/pushed/busybox:1", store=src,
                   top=busybox.top, tls_verify=False)
    assert not res["ok"]
    assert layer in res["error"] and "not in the local store" in res["error"]


# ---- authentication ------------------------------------------------------------------------

def test_basic_auth(tmp_path, registry_factory, busybox):
    reg = registry_factory("auth")
    reg.load(busybox.oci_ref(), "private/busybox:1")
    ref = f"{reg.host}/private/busybox:1"
    res, _ = pull(tmp_path, ref, auth_file=reg.auth_file)
    assert res["ok"], res

    wrong = write_auth_file(tmp_path / "wrong.json", reg.host, USER, "not-the-password")
    res, _ = pull(tmp_path, ref, auth_file=str(wrong), store=tmp_path / "s2")
    assert not res["ok"]
    assert res["errno"] == 13  # EACCES
    assert "401" in res["error"] and f"credentials for `{USER}` at {reg.host} were refused" \
        in res["error"], res["error"]

    empty = tmp_path / "empty.json"
    empty.write_text('{"auths": {}}')
    res, _ = pull(tmp_path, ref, auth_file=str(empty), store=tmp_path / "s3")
    assert not res["ok"]
    assert f"no credentials for {reg.host}" in res["error"], res["error"]

    res, _ = pull(tmp_path, ref, auth_file=str(tmp_path / "missing.json"), store=tmp_path / "s4")
    assert not res["ok"] and "missing.json" in res["error"]

    # Push with credentials, pull back.
    src = tmp_path / "src"
    busybox.fill_store(src)
    res, _ = drive(tmp_path, "push", f"{reg.host}/private/pushed:1", store=src, top=busybox.top,
                   tls_verify=False, auth_file=reg.auth_file)
    assert res["ok"], res
    res, _ = drive(tmp_path, "push", f"{reg.host}/private/pushed:2", store=src, top=busybox.top,
                   tls_verify=False, auth_file=str(wrong))
    assert not res["ok"] and "401" in res["error"]


def test_bearer_tokens_per_scope(tmp_path, registry_factory, fault_proxy, busybox):
    reg = registry_factory("http")
    reg.load(busybox.oci_ref(), "library/busybox:1")
    proxy = fault_proxy(reg, bearer=True, token_user=(USER, PASSWORD))
    auth = write_auth_file(tmp_path / "auth.json", proxy.host, USER, PASSWORD)
    res, _ = pull(tmp_path, f"{proxy.host}/library/busybox:1", auth_file=str(auth))
    assert res["ok"], res
    f = proxy.faults
    # One token for the repository's pull scope, reused for manifest, config and layer.
    assert f.tokens.count("repository:library/busybox:pull") == 1, f.tokens
    assert all(a.startswith("Bearer tok:") for (_, p, _, a) in f.log
               if "/blobs/" in p and not p.startswith("/token")), f.log

    src = tmp_path / "src"
    busybox.fill_store(src)
    res, _ = drive(tmp_path, "push", f"{proxy.host}/library/pushed:1", store=src,
                   top=busybox.top, plain_http=True, auth_file=str(auth))
    assert res["ok"], res
    assert "repository:library/pushed:pull,push" in f.tokens

    wrong = write_auth_file(tmp_path / "wrong.json", proxy.host, USER, "nope")
    res, _ = pull(tmp_path, f"{proxy.host}/library/busybox:1", auth_file=str(wrong),
                  store=tmp_path / "s2")
    assert not res["ok"]
    assert "getting a token" in res["error"] and f"as `{USER}`" in res["error"], res["error"]


# ---- TLS ------------------------------------------------------------------------------------

def test_tls(tmp_path, registry_factory, busybox):
    reg = registry_factory("tls")
    reg.load(busybox.oci_ref(), "berth/busybox:1")
    ref = f"{reg.host}/berth/busybox:1"
    res, _ = pull(tmp_path, ref, tls_verify=True)
    assert not res["ok"]
    assert "certificate" in res["error"].lower() and reg.host in res["error"], res["error"]
    assert store_blobs(tmp_path / "store") == set()

    res, _ = pull(tmp_path, ref, tls_verify=True, cert_dir=reg.cert_dir)
    assert res["ok"], res

    res, _ = pull(tmp_path, ref, tls_verify=False, store=tmp_path / "s2")
    assert res["ok"], res

    res, _ = pull(tmp_path, ref, tls_verify=True, cert_dir=str(tmp_path / "nodir"),
                  store=tmp_path / "s3")
    assert not res["ok"] and "nodir" in res["error"]

    src = tmp_path / "src"
    busybox.fill_store(src)
    res, _ = drive(tmp_path, "push", f"{reg.host}/pushed/x:1", store=src, top=busybox.top,
                   tls_verify=True, cert_dir=reg.cert_dir)
    assert res["ok"], res


def test_plain_http_needs_tls_verify_false(tmp_path, registry_factory, busybox):
    reg = registry_factory("http")
    reg.load(busybox.oci_ref(), "berth/busybox:1")
    ref = f"{reg.host}/berth/busybox:1"
    res, _ = pull(tmp_path, ref, tls_verify=True)
    assert not res["ok"]
    assert f"connecting to registry {reg.host}" in res["error"], res["error"]
    assert "--tls-verify=false" in res["error"], res["error"]
    res, _ = pull(tmp_path, ref, tls_verify=True, plain_http=True)
    assert res["ok"], res


# ---- broken registries ----------------------------------------------------------------------

def test_corrupted_blob_is_refused_and_not_kept(tmp_path, registry_factory, busybox):
    reg = registry_factory("http")
    reg.load(busybox.oci_ref(), "berth/busybox:1")
    layer = busybox.manifest()["layers"][0]["digest"]
    data = reg.blob_data(layer)
    b = bytearray(data.read_bytes())
    b[len(b) // 2] ^= 0xFF  # same size, different content
    data.write_bytes(bytes(b))
    res, _ = pull(tmp_path, f"{reg.host}/berth/busybox:1")
    assert not res["ok"]
    assert layer in res["error"] and "mismatch" in res["error"], res["error"]
    store = tmp_path / "store"
    assert layer not in store_blobs(store)
    assert ingest_files(store) == []


def test_missing_blob_names_the_digest(tmp_path, registry_factory, busybox):
    reg = registry_factory("http")
    reg.load(busybox.oci_ref(), "berth/busybox:1")
    layer = busybox.manifest()["layers"][0]["digest"]
    data = reg.blob_data(layer)
    data.unlink()
    res, _ = pull(tmp_path, f"{reg.host}/berth/busybox:1", retries=1)
    assert not res["ok"]
    assert f"blob {layer} from {reg.host}/berth/busybox" in res["error"], res["error"]
    assert "404" in res["error"] or "500" in res["error"], res["error"]
    assert layer not in store_blobs(tmp_path / "store")
    assert ingest_files(tmp_path / "store") == []


def test_retries_on_503(tmp_path, registry_factory, fault_proxy, busybox):
    reg = registry_factory("http")
    reg.load(busybox.oci_ref(), "berth/busybox:1")
    proxy = fault_proxy(reg, fail_manifests=2)
    res, _ = pull(tmp_path, f"{proxy.host}/berth/busybox:1", retries=3)
    assert res["ok"], res
    proxy.faults.fail_manifests = 5
    res, _ = pull(tmp_path, f"{proxy.host}/berth/busybox:1", retries=1, store=tmp_path / "s2")
    assert not res["ok"]
    assert "503" in res["error"] and "UNAVAILABLE" in res["error"], res["error"]


def test_cut_download_resumes_with_range(tmp_path, registry_factory, fault_proxy, busybox):
    reg = registry_factory("http")
    reg.load(busybox.oci_ref(), "berth/busybox:1")
    layer = busybox.manifest()["layers"][0]
    proxy = fault_proxy(reg, cut_blob=layer["digest"])
    res, _ = pull(tmp_path, f"{proxy.host}/berth/busybox:1")
    assert res["ok"], res
    gets = [(p, r) for (m, p, r, _) in proxy.faults.log if m == "GET" and layer["digest"] in p]
    assert len(gets) == 2, gets
    assert gets[0][1] == ""
    assert gets[1][1] == f"bytes={layer['size'] // 2}-", gets
    store = tmp_path / "store"
    assert (store / "blobs/sha256" / layer["digest"][7:]).read_bytes() == busybox.blob(layer["digest"])


def test_cut_download_restarts_without_range_support(tmp_path, registry_factory, fault_proxy,
                                                     busybox):
    reg = registry_factory("http")
    reg.load(busybox.oci_ref(), "berth/busybox:1")
    layer = busybox.manifest()["layers"][0]
    proxy = fault_proxy(reg, cut_blob=layer["digest"], no_ranges=True)
    res, _ = pull(tmp_path, f"{proxy.host}/berth/busybox:1")
    assert res["ok"], res
    assert layer["digest"] in store_blobs(tmp_path / "store")


def test_cut_download_fails_after_retries(tmp_path, registry_factory, fault_proxy, busybox):
    reg = registry_factory("http")
    reg.load(busybox.oci_ref(), "berth/busybox:1")
    layer = busybox.manifest()["layers"][0]
    proxy = fault_proxy(reg, cut_blob=layer["digest"])
    res, _ = pull(tmp_path, f"{proxy.host}/berth/busybox:1", retries=0)
    assert not res["ok"]
    assert layer["digest"] in res["error"], res["error"]
    assert layer["digest"] not in store_blobs(tmp_path / "store")
    assert ingest_files(tmp_path / "store") == []

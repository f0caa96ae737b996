"""Layer unpacking and snapshots on the real kernel, reported here from the GoogleTest cases
that do the work (tests/unit/image_unpack_*_test.cpp, image_snapshot_*_test.cpp):
ImageUnpackReal compares the overlay of each test image's unpacked layers with Debian's
`umoci unpack` file by file and checks that the evil-* images are refused; ImageUnpackLayer,
ImageSnapshotStore and ImageSnapshotMount cover single layers, the store and overlay mounts.
The C++ cases skip themselves without root or umoci; here a skip is reported as one.

Also checks that the images scripts/make-test-images.sh writes are valid for umoci and
reproducible.
"""
import json
import os
import subprocess
import xml.etree.ElementTree as ET

import pytest

from conftest import REPO, unit_tests_path

SUITES = "ImageUnpackReal.*:ImageUnpackLayer.*:ImageUnpackPath.*:ImageUnpackWhiteout.*:" \
         "ImageSnapshotStore.*:ImageSnapshotMount.*"


def gtest_cases():
    path = unit_tests_path()
    if not os.access(path, os.X_OK):
        return []
    out = subprocess.run([str(path), "--gtest_list_tests", f"--gtest_filter={SUITES}"],
                         capture_output=True, text=True, check=False).stdout
    cases, suite = [], None
    for line in out.splitlines():
        if not line.startswith(" ") and line.endswith("."):
            suite = line[:-1]
        elif line.startswith("  ") and suite:
            cases.append(f"{suite}.{line.split()[0]}")
    return cases


@pytest.fixture(scope="module")
def gtest_results(berth_unit_tests, tmp_path_factory):
    """Runs every case once; {name: (status, message)}."""
    report = tmp_path_factory.mktemp("gtest") / "unpack.xml"
    p = subprocess.run([str(berth_unit_tests), f"--gtest_filter={SUITES}",
                        f"--gtest_output=xml:{report}"], capture_output=True, text=True,
                       timeout=600, check=False)
    if not report.exists():
        pytest.fail(f"{berth_unit_tests} wrote no report:\n{p.stdout}\n{p.stderr}")
    results = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        name = f"{case.get('classname')}.{case.get('name')}"
        failures = [f.get("message", "") for f in case.findall("failure")]
        skipped = case.find("skipped")
        if failures:
            results[name] = ("failed", "\n".join(failures))
        elif skipped is not None or case.get("result") == "skipped":
            results[name] = ("skipped", skipped.get("message", "") if skipped is not None else "")
        else:
            results[name] = ("passed", "")
    return results


@pytest.mark.parametrize("case", gtest_cases() or ["<unit tests not built>"])
def test_gtest_case(case, gtest_results):
    if case not in gtest_results:
        pytest.skip(f"{case}: not run (unit tests not built?)")
    status, message = gtest_results[case]
    if status == "skipped":
        pytest.skip(message or "skipped by the test")
    assert status == "passed", message


def test_images_are_reproducible(test_images, tmp_path):
    again = tmp_path / "again"
    subprocess.run([str(REPO / "scripts/make-test-images.sh"), str(again)], check=True,
                   capture_output=True)
    for name in ("layers", "many", "evil-symlink"):
        assert (test_images / f"{name}.tar").read_bytes() == (again / f"{name}.tar").read_bytes()


def test_images_are_oci_layouts(test_images):
    for name in ("layers", "layers-zstd", "many", "evil-dotdot", "evil-absolute",
                 "evil-symlink", "evil-hardlink", "evil-whiteout"):
        layout = test_images / name
        assert json.loads((layout / "oci-layout").read_text()) == {"imageLayoutVersion": "1.0.0"}
        index = json.loads((layout / "index.json").read_text())
        desc = index["manifests"][0]
        assert desc["annotations"]["org.opencontainers.image.ref.name"] == "latest"
        assert desc["annotations"]["io.containerd.image.name"] == \
            f"localhost/berth-test/{name}:latest"
        manifest = json.loads((layout / "blobs/sha256" / desc["digest"][7:]).read_bytes())
        config = json.loads((layout / "blobs/sha256" / manifest["config"]["digest"][7:])
                            .read_bytes())
        assert len(config["rootfs"]["diff_ids"]) == len(manifest["layers"])
        assert (test_images / f"{name}.tar").stat().st_size > 0
    many = json.loads((test_images / "many/index.json").read_text())
    assert many["manifests"][0]["size"] > 0

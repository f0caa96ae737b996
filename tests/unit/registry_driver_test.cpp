// Drives pull() and push() against a real registry for tests/images/test_registry.py, which
// starts docker-registry (plain HTTP, TLS, htpasswd) and a fault-injecting proxy, then runs
//   berth-unit-tests --gtest_filter=RegistryDriver.Run
// with BERTH_REGISTRY_TEST set to a JSON request:
//   {"op": "pull"|"push", "ref": "127.0.0.1:5000/x:1", "store": "/tmp/store",
//    "arch": "amd64", "variant": "", "top": <descriptor JSON, push only>,
//    "tls_verify": true, "cert_dir": "", "auth_file": "", "plain_http": false,
//    "progress": false, "retries": 3, "parallel": 3, "result": "/tmp/result.json"}
// and reads the outcome from "result": {"ok": true, "descriptor": {...}} or
// {"ok": false, "error": "...", "errno": N}. Without the variable the case is skipped.
#include <gtest/gtest.h>

#include <cstdlib>

#include "base/file.h"
#include "image/content_store.h"
#include "image/oci_image.h"
#include "image/reference.h"
#include "image/registry/registry.h"

namespace berth::image {
namespace {

Result<Json> run(const Json& req) {
    RegistryOptions o;
    o.tls_verify = req.value("tls_verify", true);
    o.cert_dir = req.value("cert_dir", "");
    o.auth_file = req.value("auth_file", "");
    o.plain_http = req.value("plain_http", false);
    o.progress = req.value("progress", false);
    o.retries = req.value("retries", 3);
    o.parallel = req.value("parallel", 3);
    auto store = BERTH_TRY(ContentStore::open(req.at("store").get<std::string>()));
    auto ref = BERTH_TRY(Reference::parse(req.at("ref").get<std::string>()));
    Json out = {{"ok", true}};
    if (req.at("op") == "pull") {
        Platform p = host_platform();
        if (req.contains("arch")) p.architecture = req["arch"].get<std::string>();
        p.variant = req.value("variant", "");
        auto d = BERTH_TRY(pull(store, ref, p, o));
        out["descriptor"] = descriptor_to_json(d);
    } else {
        auto top = BERTH_TRY(parse_descriptor(req.at("top"), "top"));
        BERTH_TRY(push(store, top, ref, o));
    }
    return out;
}

TEST(RegistryDriver, Run) {
    const char* text = getenv("BERTH_REGISTRY_TEST");
    if (!text) GTEST_SKIP() << "driven by tests/images/test_registry.py";
    Json req = Json::parse(text);
    Json out;
    try {
        auto r = run(req);
        if (r) {
            out = *r;
        } else {
            out = {{"ok", false}, {"error", r.error().what()}, {"errno", r.error().errno_value()}};
        }
    } catch (const std::exception& e) {
        out = {{"ok", false}, {"error", std::string("exception: ") + e.what()}, {"errno", 0}};
    }
    auto w = write_file(req.at("result").get<std::string>(), out.dump(), true);
    ASSERT_TRUE(w.ok()) << w.error().what();
}

}  // namespace
}  // namespace berth::image

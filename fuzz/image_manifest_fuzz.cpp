// libFuzzer target for the image documents a registry or an archive hands us: every input goes
// through parse_manifest, parse_index, parse_image_config and Reference::parse. Each must give a
// value or an EINVAL error, never a crash, a hang or an exception; what parses must print back
// to something that parses the same.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_util.h"
#include "image/oci_image.h"
#include "image/reference.h"

using berth::fuzz::expect;
using namespace berth::image;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);

    auto manifest = parse_manifest(text);
    berth::fuzz::expect_clean_error(manifest);
    if (manifest.ok()) {
        std::string json = manifest_to_json(*manifest);
        auto again = parse_manifest(json);
        expect(again.ok() && manifest_to_json(*again) == json);
    }

    auto index = parse_index(text);
    berth::fuzz::expect_clean_error(index);
    if (index.ok()) {
        std::string json = index_to_json(*index);
        auto again = parse_index(json);
        expect(again.ok() && index_to_json(*again) == json);
        auto chosen = select_platform(*index, host_platform());
        berth::fuzz::expect_clean_error(chosen, ENOENT);
    }

    auto config = parse_image_config(text);
    berth::fuzz::expect_clean_error(config);
    if (config.ok()) expect(chain_ids(config->diff_ids).size() == config->diff_ids.size());

    // References are short; longer inputs only slow the fuzzer down.
    if (size <= 512) {
        auto ref = Reference::parse(text);
        berth::fuzz::expect_clean_error(ref);
        if (ref.ok()) {
            expect(!ref->registry.empty() && !ref->repository.empty());
            expect(!ref->tag.empty() || !ref->digest.empty());
            auto again = Reference::parse(ref->str());
            expect(again.ok() && again->str() == ref->str());
        }
    }
    return 0;
}

// libFuzzer target for config.json: any input must give a Spec or an EINVAL error, never a
// crash, a hang or an exception.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_util.h"
#include "oci/spec.h"

using berth::fuzz::expect;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    auto spec = berth::oci::parse_spec(text);
    berth::fuzz::expect_clean_error(spec);
    if (!spec.ok()) return 0;
    expect(spec->root.path.find('\0') == std::string::npos);
    if (spec->process) {
        // A parsed process must serialize back to something that parses the same way.
        std::string json = berth::oci::to_json(*spec->process);
        auto again = berth::oci::parse_process(json);
        expect(again.ok() && berth::oci::to_json(*again) == json);
    }
    return 0;
}

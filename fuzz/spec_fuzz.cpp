// libFuzzer target for the config.json readers: any input must give a Spec or an EINVAL error,
// never a crash, a hang or an exception.
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "oci/spec.h"

namespace {

template <typename R>
void check(const R& r) {
    // Every parse failure is a user error; anything else means a bug in the reader.
    if (!r.ok() && r.error().errno_value() != EINVAL) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    auto spec = berth::oci::parse_spec(text);
    check(spec);
    if (spec.ok() && spec->process) {
        // A parsed process must serialize back to something that parses the same way.
        std::string json = berth::oci::to_json(*spec->process);
        auto again = berth::oci::parse_process(json);
        if (!again.ok() || berth::oci::to_json(*again) != json) std::abort();
    }
    check(berth::oci::parse_process(text));
    check(berth::oci::parse_resources(text));
    return 0;
}

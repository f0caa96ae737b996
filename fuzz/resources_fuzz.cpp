// libFuzzer target for the resources object of `update --resources FILE` (also linux.resources):
// any input gives Resources or an EINVAL error; names that become cgroup file names or tokens in
// cgroup files stay safe.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_util.h"
#include "oci/spec.h"

using berth::fuzz::expect;

namespace {

bool has_byte(std::string_view s, std::string_view bytes) {
    return s.find_first_of(bytes) != std::string_view::npos;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    auto res = berth::oci::parse_resources(text);
    berth::fuzz::expect_clean_error(res);
    if (!res.ok()) return 0;
    using namespace std::string_view_literals;
    for (const auto& [key, value] : res->unified) {
        expect(!key.empty() && key != "." && key != ".." && !has_byte(key, "/\0"sv));
        expect(!has_byte(value, "\0"sv));
    }
    for (const auto& [device, limit] : res->rdma) {
        expect(!device.empty() && !has_byte(device, " \t\n\r\v\f\0"sv));
        expect(limit.hca_handles || limit.hca_objects);
    }
    for (const auto& hl : res->hugepage_limits) {
        const std::string& s = hl.page_size;
        expect(s.size() >= 3 && s.back() == 'B');
        expect(std::all_of(s.begin(), s.end() - 2, [](char c) { return c >= '0' && c <= '9'; }));
    }
    for (const auto& rule : res->devices) {
        expect(rule.type.empty() || rule.type == "a" || rule.type == "b" || rule.type == "c");
        expect(rule.access.find_first_not_of("rwm") == std::string::npos);
    }
    if (res->memory) {
        for (auto v : {res->memory->limit, res->memory->reservation, res->memory->swap})
            expect(!v || *v >= -1);
        expect(!res->memory->swappiness || *res->memory->swappiness <= 100);
    }
    return 0;
}

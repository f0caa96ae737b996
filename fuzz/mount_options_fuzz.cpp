// libFuzzer target for mount option lists (mounts[].options in config.json): any list gives
// MountOptions or an EINVAL/ENOTSUP error, and the result is self-consistent.
//
// Input: one option per line.
#include <sys/mount.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_util.h"
#include "runtime/mount_options.h"

using berth::fuzz::expect;
using namespace berth::runtime;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    std::vector<std::string> opts;
    for (size_t start = 0; start <= text.size();) {
        size_t nl = text.find('\n', start);
        if (nl == std::string_view::npos) nl = text.size();
        opts.emplace_back(text.substr(start, nl - start));
        start = nl + 1;
    }
    auto m = parse_mount_options(opts, "mounts[0].options");
    if (!m.ok()) {
        int e = m.error().errno_value();
        expect((e == EINVAL || e == ENOTSUP) && !m.error().message().empty());
        return 0;
    }
    // An option both set and cleared would leave the kernel a contradiction.
    expect((m->flags & m->clear) == 0);
    expect(!m->rbind || m->bind);
    expect(m->propagation == 0 || (m->propagation & ~static_cast<unsigned long>(MS_REC)) != 0);
    // The data string is exactly the options berth does not know, in order, comma-joined.
    const std::vector<std::string> known = known_mount_options();
    std::string expected_data;
    for (const std::string& o : opts) {
        bool is_known = o == "tmpcopyup" || o == "copy-symlink" || o == "notmpcopyup";
        for (const std::string& k : known) is_known = is_known || o == k;
        if (is_known) continue;
        if (!expected_data.empty()) expected_data += ',';
        expected_data += o;
    }
    expect(m->data == expected_data);
    return 0;
}

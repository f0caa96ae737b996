#include "cgroup/stats_parse.h"

#include "base/strings.h"

namespace berth::cgroup {
namespace {

std::vector<std::string> words(std::string_view line) {
    std::vector<std::string> out;
    for (auto& w : split(line, ' '))
        if (!w.empty()) out.push_back(w);
    return out;
}

bool parse_devnum(std::string_view s, uint64_t& major, uint64_t& minor) {
    auto colon = s.find(':');
    if (colon == std::string_view::npos) return false;
    auto ma = parse_number<uint64_t>(s.substr(0, colon));
    auto mi = parse_number<uint64_t>(s.substr(colon + 1));
    if (!ma || !mi) return false;
    major = *ma;
    minor = *mi;
    return true;
}

}  // namespace

std::map<std::string, uint64_t> parse_flat_keyed(std::string_view text) {
    std::map<std::string, uint64_t> out;
    for (auto& line : split(text, '\n')) {
        auto w = words(trim(line));
        if (w.size() != 2) continue;
        if (auto v = parse_number<uint64_t>(w[1])) out[w[0]] = *v;
    }
    return out;
}

std::vector<uint64_t> parse_number_list(std::string_view text) {
    std::vector<uint64_t> out;
    for (auto& line : split(text, '\n'))
        for (auto& w : words(line))
            if (auto v = parse_number<uint64_t>(w)) out.push_back(*v);
    return out;
}

std::vector<BlkioEntry> parse_blkio_v1(std::string_view text) {
    std::vector<BlkioEntry> out;
    for (auto& line : split(text, '\n')) {
        auto w = words(trim(line));
        if (w.size() != 3) continue;  // "Total N" and blank lines
        BlkioEntry e;
        auto v = parse_number<uint64_t>(w[2]);
        if (!v || !parse_devnum(w[0], e.major, e.minor)) continue;
        e.op = w[1];
        e.value = *v;
        out.push_back(std::move(e));
    }
    return out;
}

BlkioStats parse_io_stat(std::string_view text) {
    BlkioStats out;
    for (auto& line : split(text, '\n')) {
        auto w = words(trim(line));
        if (w.size() < 2) continue;
        uint64_t major, minor;
        if (!parse_devnum(w[0], major, minor)) continue;
        std::map<std::string, uint64_t> kv;
        for (size_t i = 1; i < w.size(); ++i) {
            auto eq = w[i].find('=');
            if (eq == std::string::npos) continue;
            if (auto v = parse_number<uint64_t>(std::string_view(w[i]).substr(eq + 1)))
                kv[w[i].substr(0, eq)] = *v;
        }
        auto add = [&](std::vector<BlkioEntry>& to, const char* r, const char* wr, const char* d) {
            uint64_t total = 0;
            for (auto [key, op] : {std::pair{r, "Read"}, {wr, "Write"}, {d, "Discard"}}) {
                auto it = kv.find(key);
                if (it == kv.end()) continue;
                to.push_back({major, minor, op, it->second});
                total += it->second;
            }
            to.push_back({major, minor, "Total", total});
        };
        add(out.io_service_bytes, "rbytes", "wbytes", "dbytes");
        add(out.io_serviced, "rios", "wios", "dios");
    }
    return out;
}

uint64_t working_set(uint64_t usage, uint64_t inactive_file) {
    return usage > inactive_file ? usage - inactive_file : 0;
}

uint64_t ticks_to_ns(uint64_t ticks, long user_hz) {
    if (user_hz <= 0) user_hz = 100;
    uint64_t hz = static_cast<uint64_t>(user_hz);
    // Split to avoid overflowing ticks * 1e9 for long-running cgroups.
    return ticks / hz * 1000000000ULL + ticks % hz * 1000000000ULL / hz;
}

}  // namespace berth::cgroup

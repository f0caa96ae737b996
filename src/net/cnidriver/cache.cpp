#include "net/cnidriver/cache.h"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>

#include "base/file.h"

namespace berth::net::cnidriver {

namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int base64_value(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

std::string results_dir(std::string_view cache_dir) {
    return path_join(cache_dir, "results");
}

template <typename T>
Result<void> read_optional(const Json& j, const char* field, T& into) {
    auto it = j.find(field);
    if (it == j.end() || it->is_null()) return {};
    try {
        into = it->get<T>();
    } catch (const Json::exception&) {
        return Error(EINVAL) << field << ": wrong type";
    }
    return {};
}

}  // namespace

std::string base64_encode(std::string_view data) {
    std::string out;
    out.reserve((data.size() + 2) / 3 * 4);
    size_t i = 0;
    for (; i + 3 <= data.size(); i += 3) {
        uint32_t v = uint32_t(uint8_t(data[i])) << 16 | uint32_t(uint8_t(data[i + 1])) << 8 |
                     uint8_t(data[i + 2]);
        for (int shift : {18, 12, 6, 0}) out.push_back(kAlphabet[(v >> shift) & 63]);
    }
    size_t rest = data.size() - i;
    if (rest > 0) {
        uint32_t v = uint32_t(uint8_t(data[i])) << 16;
        if (rest == 2) v |= uint32_t(uint8_t(data[i + 1])) << 8;
        out.push_back(kAlphabet[(v >> 18) & 63]);
        out.push_back(kAlphabet[(v >> 12) & 63]);
        out.push_back(rest == 2 ? kAlphabet[(v >> 6) & 63] : '=');
        out.push_back('=');
    }
    return out;
}

Result<std::string> base64_decode(std::string_view text) {
    if (text.size() % 4 != 0) return Error(EINVAL) << "base64: length not a multiple of 4";
    std::string out;
    out.reserve(text.size() / 4 * 3);
    for (size_t i = 0; i < text.size(); i += 4) {
        int pad = 0;
        uint32_t v = 0;
        for (size_t k = 0; k < 4; k++) {
            char c = text[i + k];
            int d = 0;
            if (c == '=' && i + 4 == text.size() && k >= 2) {
                pad++;
            } else if (pad > 0 || (d = base64_value(c)) < 0) {
                return Error(EINVAL) << "base64: invalid character at " << (i + k);
            }
            v = v << 6 | uint32_t(d);
        }
        out.push_back(char(v >> 16));
        if (pad < 2) out.push_back(char(v >> 8));
        if (pad < 1) out.push_back(char(v));
    }
    return out;
}

std::string cache_file_path(std::string_view cache_dir, std::string_view network,
                            std::string_view container_id, std::string_view ifname) {
    std::string name;
    name.append(network).append("-").append(container_id).append("-").append(ifname);
    return path_join(results_dir(cache_dir), name);
}

Json cached_to_json(const CachedAttachment& a) {
    Json j = Json::object();
    j["kind"] = kCacheKind;
    j["containerId"] = a.container_id;
    j["config"] = base64_encode(a.config);
    j["ifName"] = a.ifname;
    j["networkName"] = a.network_name;
    // libcni leaves out empty ones (omitempty).
    if (!a.netns.empty()) j["netns"] = a.netns;
    if (!a.cni_args.empty()) {
        Json args = Json::array();
        for (const auto& [k, v] : a.cni_args) args.push_back({k, v});
        j["cniArgs"] = std::move(args);
    }
    if (a.capability_args.is_object() && !a.capability_args.empty())
        j["capabilityArgs"] = a.capability_args;
    if (a.result.is_object() && !a.result.empty()) j["result"] = a.result;
    return j;
}

Result<CachedAttachment> cached_from_json(const Json& j) {
    if (!j.is_object()) return Error(EINVAL) << "not a JSON object";
    std::string kind;
    BERTH_TRY(read_optional(j, "kind", kind));
    if (kind != kCacheKind)
        return Error(EINVAL) << "kind: \"" << kind << "\" is not " << kCacheKind;
    CachedAttachment a;
    BERTH_TRY(read_optional(j, "containerId", a.container_id));
    BERTH_TRY(read_optional(j, "ifName", a.ifname));
    BERTH_TRY(read_optional(j, "networkName", a.network_name));
    BERTH_TRY(read_optional(j, "netns", a.netns));
    std::string config;
    BERTH_TRY(read_optional(j, "config", config));
    a.config = BERTH_TRY_CTX(base64_decode(config), "config");
    auto args = j.find("cniArgs");
    if (args != j.end() && !args->is_null()) {
        if (!args->is_array()) return Error(EINVAL) << "cniArgs: not an array";
        for (const Json& pair : *args) {
            if (!pair.is_array() || pair.size() != 2 || !pair[0].is_string() ||
                !pair[1].is_string())
                return Error(EINVAL) << "cniArgs: not a list of [key, value] pairs";
            a.cni_args.emplace_back(pair[0].get<std::string>(), pair[1].get<std::string>());
        }
    }
    auto caps = j.find("capabilityArgs");
    if (caps != j.end() && caps->is_object()) a.capability_args = *caps;
    auto result = j.find("result");
    if (result != j.end() && result->is_object()) a.result = *result;
    return a;
}

Result<void> write_cached(std::string_view cache_dir, const CachedAttachment& a) {
    BERTH_TRY(mkdir_p(results_dir(cache_dir), 0700));
    std::string path = cache_file_path(cache_dir, a.network_name, a.container_id, a.ifname);
    return write_file_atomic(path, cached_to_json(a).dump(), 0600);
}

Result<std::optional<CachedAttachment>> read_cached(std::string_view cache_dir,
                                                    std::string_view network,
                                                    std::string_view container_id,
                                                    std::string_view ifname) {
    std::string path = cache_file_path(cache_dir, network, container_id, ifname);
    if (!path_exists(path)) return std::optional<CachedAttachment>();
    std::string data = BERTH_TRY(read_file(path));
    Json j = Json::parse(data, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) return Error(EINVAL) << "cached result `" << path << "`: not valid JSON";
    auto a = cached_from_json(j);
    if (!a) return std::move(a).error().wrap("cached result `" + path + "`");
    return std::optional<CachedAttachment>(std::move(*a));
}

Result<void> remove_cached(std::string_view cache_dir, std::string_view network,
                           std::string_view container_id, std::string_view ifname) {
    std::string path = cache_file_path(cache_dir, network, container_id, ifname);
    if (::unlink(path.c_str()) < 0 && errno != ENOENT)
        return ErrnoError() << "unlink `" << path << "`";
    return {};
}

Result<std::vector<CachedAttachment>> list_cached(std::string_view cache_dir,
                                                  std::string_view container_id) {
    std::vector<CachedAttachment> out;
    std::string dir = results_dir(cache_dir);
    DIR* d = ::opendir(dir.c_str());
    if (!d) {
        if (errno == ENOENT) return out;
        return ErrnoError() << "opendir `" << dir << "`";
    }
    std::vector<std::string> names;
    while (dirent* e = ::readdir(d)) {
        std::string_view n = e->d_name;
        // write_file_atomic's temporary files are not entries.
        if (n == "." || n == ".." || (n.size() > 4 && n.substr(n.size() - 4) == ".tmp")) continue;
        names.emplace_back(n);
    }
    ::closedir(d);
    std::sort(names.begin(), names.end());
    for (const std::string& n : names) {
        auto data = read_file(path_join(dir, n));
        if (!data) continue;
        Json j = Json::parse(*data, nullptr, /*allow_exceptions=*/false);
        auto a = cached_from_json(j);
        if (!a || a->ifname.empty() || a->network_name.empty()) continue;
        if (!container_id.empty() && a->container_id != container_id) continue;
        out.push_back(std::move(*a));
    }
    return out;
}

}  // namespace berth::net::cnidriver

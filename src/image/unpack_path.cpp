#include "image/unpack_path.h"

namespace berth::image {

Result<std::vector<std::string>> clean_entry_path(std::string_view name) {
    if (name.empty()) return Error(EINVAL) << "layer entry with an empty name";
    if (name.front() == '/')
        return Error(EPERM) << "layer entry `" << name
                            << "`: absolute path refused (entries must be relative to the layer)";
    std::vector<std::string> parts;
    size_t start = 0;
    while (start <= name.size()) {
        size_t slash = name.find('/', start);
        if (slash == std::string_view::npos) slash = name.size();
        std::string_view comp = name.substr(start, slash - start);
        start = slash + 1;
        if (comp.empty() || comp == ".") continue;
        if (comp == "..") {
            if (parts.empty())
                return Error(EPERM)
                       << "layer entry `" << name << "`: path escapes the layer directory";
            parts.pop_back();
            continue;
        }
        parts.emplace_back(comp);
    }
    return parts;
}

std::string join_components(const std::vector<std::string>& parts, size_t count) {
    std::string out;
    for (size_t i = 0; i < count && i < parts.size(); ++i) {
        if (i) out.push_back('/');
        out += parts[i];
    }
    return out.empty() ? "." : out;
}

Result<Whiteout> classify_whiteout(std::string_view base) {
    constexpr std::string_view kPrefix = ".wh.";
    constexpr std::string_view kMeta = ".wh..wh.";
    if (base.substr(0, kPrefix.size()) != kPrefix) return Whiteout{};
    if (base == ".wh..wh..opq") return Whiteout{WhiteoutKind::Opaque, {}};
    if (base.substr(0, kMeta.size()) == kMeta) return Whiteout{WhiteoutKind::Ignored, {}};
    std::string_view target = base.substr(kPrefix.size());
    if (target.empty() || target == "." || target == "..")
        return Error(EPERM) << "whiteout `" << base << "` names no entry of its directory";
    return Whiteout{WhiteoutKind::Remove, std::string(target)};
}

bool xattr_allowed(std::string_view name) {
    constexpr std::string_view kOverlay = "trusted.overlay.";
    if (name.substr(0, kOverlay.size()) == kOverlay) return false;
    return name != "security.selinux";
}

}  // namespace berth::image

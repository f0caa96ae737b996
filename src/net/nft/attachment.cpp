#include "net/nft/attachment.h"

#include <cctype>

#include "net/nft/script.h"

namespace berth::net::nft {

namespace {
constexpr std::string_view kTagPrefix = "berth:";

bool tag_safe(std::string_view s) {
    if (s.empty()) return false;
    for (char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if (!std::isalnum(c) && c != '_' && c != '.' && c != '-') return false;
    }
    return true;
}
}  // namespace

std::string attachment_tag(const AttachmentId& id) {
    std::string out(kTagPrefix);
    if (tag_safe(id.container_id) && tag_safe(id.ifname) &&
        kTagPrefix.size() + id.container_id.size() + 1 + id.ifname.size() <= 128)
        return out.append(id.container_id).append(":").append(id.ifname);
    // A NUL cannot appear in either, so the pair hashes unambiguously.
    std::string both = id.container_id;
    both += '\0';
    both += id.ifname;
    return out.append("h:").append(hex16(hash64(both)));
}

bool is_attachment_tag(std::string_view comment) {
    if (comment.substr(0, kTagPrefix.size()) != kTagPrefix) return false;
    std::string_view rest = comment.substr(kTagPrefix.size());
    const size_t colon = rest.find(':');
    return colon != std::string_view::npos && colon > 0 && colon + 1 < rest.size();
}

}  // namespace berth::net::nft

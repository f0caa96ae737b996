#include "net/nft/masquerade.h"

#include <algorithm>

#include "net/nft/json_match.h"
#include "net/nft/owned_table.h"
#include "net/nft/script.h"

namespace berth::net::nft {

namespace {
constexpr const char* kChain = "postrouting";

OwnedTable table_for(std::string_view network) {
    return OwnedTable{"inet",
                      masquerade_table(network),
                      {{kChain, "type nat hook postrouting priority srcnat; policy accept;"}},
                      {}};
}

// One rule per address: from the address, to outside its prefix and not multicast.
std::vector<RuleText> rules_for(const MasqueradeSpec& spec) {
    std::vector<RuleText> out;
    for (const IpNet& a : spec.addrs) {
        const bool v4 = a.addr().is_v4();
        const char* proto = v4 ? "ip" : "ip6";
        const char* multicast = v4 ? "224.0.0.0/4" : "ff00::/8";
        out.push_back({kChain, std::string(proto) + " saddr " + a.addr().str() + " " + proto +
                                   " daddr != " + a.masked().str() + " " + proto +
                                   " daddr != " + multicast + " masquerade fully-random"});
    }
    return out;
}
}  // namespace

std::string masquerade_table(std::string_view network) {
    return table_name("berth-masq-", network);
}

Result<void> add_masquerade(const MasqueradeSpec& spec) {
    if (spec.addrs.empty()) return Error(EINVAL) << "ipMasq: no container address";
    auto r = replace_rules(table_for(spec.network), attachment_tag(spec.id), rules_for(spec));
    if (!r) return std::move(r).error().wrap("ipMasq");
    return {};
}

Result<void> check_masquerade(const MasqueradeSpec& spec) {
    const OwnedTable t = table_for(spec.network);
    auto rules = rules_of(t, attachment_tag(spec.id));
    if (!rules) return std::move(rules).error().wrap("ipMasq");
    for (const IpNet& a : spec.addrs) {
        const std::string addr = a.addr().str();
        const bool found = std::any_of(rules->begin(), rules->end(), [&](const RuleEntry& e) {
            return json_has_string(e.expr, addr) && json_has_key(e.expr, "masquerade");
        });
        if (!found)
            return Error(ENOENT) << "ipMasq: no masquerade rule for " << addr << " in table "
                                 << t.ref();
    }
    return {};
}

Result<void> del_masquerade(std::string_view network, const AttachmentId& id) {
    const std::string tag = attachment_tag(id);
    auto r = delete_rules(table_for(network), [&](std::string_view t) { return t == tag; });
    if (!r) return std::move(r).error().wrap("ipMasq");
    return {};
}

Result<void> gc_masquerade(std::string_view network, const std::vector<AttachmentId>& valid) {
    std::vector<std::string> keep;
    for (const AttachmentId& id : valid) keep.push_back(attachment_tag(id));
    auto r = delete_rules(table_for(network), [&](std::string_view t) {
        return std::find(keep.begin(), keep.end(), t) == keep.end();
    });
    if (!r) return std::move(r).error().wrap("ipMasq gc");
    return {};
}

}  // namespace berth::net::nft

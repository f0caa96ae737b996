#include "net/nft/mac_spoof.h"

#include <algorithm>

#include "net/nft/json_match.h"
#include "net/nft/owned_table.h"
#include "net/nft/script.h"

namespace berth::net::nft {

namespace {
constexpr const char* kChain = "prerouting";

// Bridge family: the frames are seen as they enter the bridge, before any forwarding decision.
OwnedTable table_for(std::string_view network) {
    return OwnedTable{"bridge",
                      mac_spoof_table(network),
                      {{kChain, "type filter hook prerouting priority -300; policy accept;"}},
                      {}};
}

struct Checked {
    std::string ifname_quoted;
    std::string mac;
};

Result<Checked> validate(const MacSpoofSpec& spec) {
    Checked c;
    c.ifname_quoted = BERTH_TRY_CTX(quote_ifname(spec.host_ifname), "macspoofchk");
    c.mac = BERTH_TRY_CTX(normalize_mac(spec.mac), "macspoofchk");
    return c;
}
}  // namespace

std::string mac_spoof_table(std::string_view network) {
    return table_name("berth-macspoof-", network);
}

Result<void> add_mac_spoof_check(const MacSpoofSpec& spec) {
    Checked c = BERTH_TRY(validate(spec));
    std::vector<RuleText> rules = {
        {kChain, "iifname " + c.ifname_quoted + " ether saddr != " + c.mac + " drop"}};
    auto r = replace_rules(table_for(spec.network), attachment_tag(spec.id), rules);
    if (!r) return std::move(r).error().wrap("macspoofchk");
    return {};
}

Result<void> check_mac_spoof_check(const MacSpoofSpec& spec) {
    Checked c = BERTH_TRY(validate(spec));
    const OwnedTable t = table_for(spec.network);
    auto rules = rules_of(t, attachment_tag(spec.id));
    if (!rules) return std::move(rules).error().wrap("macspoofchk");
    const bool found = std::any_of(rules->begin(), rules->end(), [&](const RuleEntry& e) {
        return json_has_string(e.expr, c.mac) && json_has_string(e.expr, spec.host_ifname) &&
               json_has_key(e.expr, "drop");
    });
    if (!found)
        return Error(ENOENT) << "macspoofchk: no rule for " << spec.host_ifname << " (" << c.mac
                             << ") in table " << t.ref();
    return {};
}

Result<void> del_mac_spoof_check(std::string_view network, const AttachmentId& id) {
    const std::string tag = attachment_tag(id);
    auto r = delete_rules(table_for(network), [&](std::string_view t) { return t == tag; });
    if (!r) return std::move(r).error().wrap("macspoofchk");
    return {};
}

Result<void> gc_mac_spoof_check(std::string_view network, const std::vector<AttachmentId>& valid) {
    std::vector<std::string> keep;
    for (const AttachmentId& id : valid) keep.push_back(attachment_tag(id));
    auto r = delete_rules(table_for(network), [&](std::string_view t) {
        return std::find(keep.begin(), keep.end(), t) == keep.end();
    });
    if (!r) return std::move(r).error().wrap("macspoofchk gc");
    return {};
}

}  // namespace berth::net::nft

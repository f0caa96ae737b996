#include "net/nft/masquerade.h"

#include "net/nft/element_table.h"
#include "net/nft/script.h"

namespace berth::net::nft {

namespace {

StaticTable table_for(std::string_view network) {
    StaticTable t{"inet", masquerade_table(network), {}, {}, {}};
    t.sets = {{"masq4", {"ipv4_addr"}, {}, false},
              {"masq6", {"ipv6_addr"}, {}, false},
              {"subnets4", {"ipv4_addr"}, {}, true},
              {"subnets6", {"ipv6_addr"}, {}, true}};
    t.chains = {{"postrouting", "type nat hook postrouting priority srcnat; policy accept;"}};
    t.rules = {
        {"postrouting",
         "ip saddr @masq4 ip daddr != @subnets4 ip daddr != 224.0.0.0/4 masquerade fully-random"},
        {"postrouting",
         "ip6 saddr @masq6 ip6 daddr != @subnets6 ip6 daddr != ff00::/8 masquerade fully-random"}};
    return t;
}

// The attachment's addresses (tagged) and their subnets (shared).
std::vector<Element> elements_for(const std::vector<IpNet>& addrs, bool with_subnets) {
    std::vector<Element> out;
    for (const IpNet& a : addrs)
        out.push_back({a.addr().is_v4() ? "masq4" : "masq6", a.addr().str(), {}, true});
    if (with_subnets)
        for (const IpNet& a : addrs)
            out.push_back(
                {a.addr().is_v4() ? "subnets4" : "subnets6", a.masked().str(), {}, false});
    return out;
}

Result<void> wrap(Result<void> r, const char* what) {
    if (!r) return std::move(r).error().wrap(what);
    return {};
}

}  // namespace

std::string masquerade_table(std::string_view network) {
    return table_name("berth-masq-", network);
}

Result<void> add_masquerade(const MasqueradeSpec& spec) {
    if (spec.addrs.empty()) return Error(EINVAL) << "ipMasq: no container address";
    return wrap(add_elements(table_for(spec.network), attachment_tag(spec.id),
                             elements_for(spec.addrs, true)),
                "ipMasq");
}

Result<void> check_masquerade(const MasqueradeSpec& spec) {
    Context* ctx = BERTH_TRY(thread_context());
    return wrap(check_elements(*ctx, table_for(spec.network), attachment_tag(spec.id),
                               elements_for(spec.addrs, true)),
                "ipMasq");
}

Result<void> del_masquerade(std::string_view network, const AttachmentId& id,
                            const std::vector<IpNet>& addrs) {
    return wrap(delete_elements(table_for(network), attachment_tag(id), elements_for(addrs, false),
                                !addrs.empty()),
                "ipMasq");
}

Result<void> gc_masquerade(std::string_view network, const std::vector<AttachmentId>& valid) {
    Context* ctx = BERTH_TRY(thread_context());
    return wrap(gc_elements(*ctx, table_for(network), not_in(valid)), "ipMasq gc");
}

}  // namespace berth::net::nft

#include "net/nft/mac_spoof.h"

#include "net/nft/element_table.h"
#include "net/nft/script.h"

namespace berth::net::nft {

namespace {

// Bridge family: the frames are seen as they enter the bridge, before any forwarding decision.
StaticTable table_for(std::string_view network) {
    StaticTable t{"bridge", mac_spoof_table(network), {}, {}, {}};
    t.sets = {{"checked", {"ifname"}, {}, false}, {"allowed", {"ifname", "ether_addr"}, {}, false}};
    t.chains = {{"prerouting", "type filter hook prerouting priority -300; policy accept;"}};
    t.rules = {{"prerouting", "iifname @checked iifname . ether saddr != @allowed drop"}};
    return t;
}

// Both elements; `known` is false when the MAC is not (only the veth is).
Result<std::vector<Element>> elements_for(const MacSpoofSpec& spec, bool& known) {
    const std::string ifname = BERTH_TRY_CTX(quote_ifname(spec.host_ifname), "macspoofchk");
    known = !spec.mac.empty();
    if (!known) return std::vector<Element>{{"checked", ifname, {}, true}};
    const std::string mac = BERTH_TRY_CTX(normalize_mac(spec.mac), "macspoofchk");
    return std::vector<Element>{{"checked", ifname, {}, true},
                                {"allowed", ifname + " . " + mac, {}, true}};
}

Result<void> wrap(Result<void> r, const char* what) {
    if (!r) return std::move(r).error().wrap(what);
    return {};
}

}  // namespace

std::string mac_spoof_table(std::string_view network) {
    return table_name("berth-macspoof-", network);
}

Result<void> add_mac_spoof_check(const MacSpoofSpec& spec) {
    bool known = false;
    auto elements = BERTH_TRY(elements_for(spec, known));
    if (!known) return Error(EINVAL) << "macspoofchk: no MAC address";
    return wrap(add_elements(table_for(spec.network), attachment_tag(spec.id), elements),
                "macspoofchk");
}

Result<void> check_mac_spoof_check(const MacSpoofSpec& spec) {
    bool known = false;
    auto elements = BERTH_TRY(elements_for(spec, known));
    Context* ctx = BERTH_TRY(thread_context());
    return wrap(check_elements(*ctx, table_for(spec.network), attachment_tag(spec.id), elements),
                "macspoofchk");
}

Result<void> del_mac_spoof_check(const MacSpoofSpec& spec) {
    bool known = false;
    auto elements = elements_for(spec, known);
    if (!elements) {  // a veth name we could not have added: only the tag can find ours
        known = false;
        elements = std::vector<Element>{};
    }
    return wrap(delete_elements(table_for(spec.network), attachment_tag(spec.id), *elements, known),
                "macspoofchk");
}

Result<void> gc_mac_spoof_check(std::string_view network, const std::vector<AttachmentId>& valid) {
    Context* ctx = BERTH_TRY(thread_context());
    return wrap(gc_elements(*ctx, table_for(network), not_in(valid)), "macspoofchk gc");
}

}  // namespace berth::net::nft

#include "net/netlink/dummy.h"

#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include <string_view>

namespace berth::net::netlink {

namespace {
// The same rule as the kernel's dev_valid_name(), checked here so the error names the field.
Result<void> check_link_name(std::string_view name) {
    if (name.empty() || name.size() >= IFNAMSIZ || name == "." || name == ".." ||
        name.find_first_of("/: \t\n") != std::string_view::npos)
        return Error(EINVAL) << "invalid interface name `" << name << "`";
    return {};
}
}  // namespace

Result<void> create_link(NetlinkSocket& nl, const LinkSpec& spec) {
    BERTH_TRY(check_link_name(spec.name));
    if (spec.kind.empty()) return Error(EINVAL) << "create link `" << spec.name << "`: no kind";
    Request req(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
    auto* ifi = req.put_family_header<ifinfomsg>();
    ifi->ifi_family = AF_UNSPEC;
    if (spec.up) {
        ifi->ifi_change = IFF_UP;
        ifi->ifi_flags = IFF_UP;
    }
    req.put_str(IFLA_IFNAME, spec.name);
    if (spec.mtu) req.put_u32(IFLA_MTU, spec.mtu);
    if (spec.mac) req.put(IFLA_ADDRESS, spec.mac->bytes.data(), spec.mac->bytes.size());
    if (spec.master) req.put_u32(IFLA_MASTER, static_cast<uint32_t>(spec.master));
    nlattr* linkinfo = req.nest_start(IFLA_LINKINFO);
    req.put_str(IFLA_INFO_KIND, spec.kind);
    if (spec.put_info_data) {
        nlattr* data = req.nest_start(IFLA_INFO_DATA);
        spec.put_info_data(req);
        req.nest_end(data);
    }
    req.nest_end(linkinfo);
    auto r = nl.execute(req);
    if (!r) return std::move(r).error().wrap("create " + spec.kind + " `" + spec.name + "`");
    return {};
}

Result<void> create_dummy(NetlinkSocket& nl, const DummySpec& spec) {
    return create_link(nl, {.name = spec.name, .kind = "dummy", .mtu = spec.mtu, .mac = spec.mac});
}

}  // namespace berth::net::netlink

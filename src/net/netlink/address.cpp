#include "net/netlink/address.h"

#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>

namespace berth::net::netlink {

namespace {

Request address_request(uint16_t type, uint16_t flags, int index, const IpNet& address) {
    Request req(type, flags);
    auto* ifa = req.put_family_header<ifaddrmsg>();
    ifa->ifa_family = static_cast<uint8_t>(address.family());
    ifa->ifa_prefixlen = static_cast<uint8_t>(address.prefix_len());
    ifa->ifa_index = static_cast<uint32_t>(index);
    const IpAddr& ip = address.addr();
    req.put(IFA_LOCAL, ip.data(), ip.size());
    req.put(IFA_ADDRESS, ip.data(), ip.size());
    return req;
}

std::string describe(const IpNet& address, int index) {
    return address.str() + " on link " + std::to_string(index);
}

struct AddrAttrs {
    const nlattr* tb[IFA_MAX + 1] = {};
};

int collect_addr_attr(const nlattr* attr, void* data) {
    uint16_t type = mnl_attr_get_type(attr);
    if (type <= IFA_MAX) static_cast<AddrAttrs*>(data)->tb[type] = attr;
    return MNL_CB_OK;
}

}  // namespace

Result<void> add_address(NetlinkSocket& nl, int index, const IpNet& address,
                         const AddressOptions& options) {
    Request req = address_request(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, index, address);
    if (address.addr().is_v4() && address.prefix_len() < 31) {
        IpAddr brd = address.last();
        req.put(IFA_BROADCAST, brd.data(), brd.size());
    }
    if (options.no_dad && !address.addr().is_v4()) {
        req.put_u32(IFA_FLAGS, IFA_F_NODAD);
    }
    auto r = nl.execute(req);
    if (!r) return std::move(r).error().wrap("add address " + describe(address, index));
    return {};
}

Result<void> delete_address(NetlinkSocket& nl, int index, const IpNet& address) {
    Request req = address_request(RTM_DELADDR, 0, index, address);
    auto r = nl.execute(req);
    if (!r) return std::move(r).error().wrap("delete address " + describe(address, index));
    return {};
}

Result<std::vector<AddressInfo>> list_addresses(NetlinkSocket& nl, int family, int index) {
    Request req(RTM_GETADDR, 0);
    req.put_family_header<ifaddrmsg>()->ifa_family = static_cast<uint8_t>(family);
    std::vector<AddressInfo> out;
    auto r = nl.dump(req, [&](const nlmsghdr* nlh) -> Result<void> {
        if (nlh->nlmsg_type != RTM_NEWADDR) return {};
        if (mnl_nlmsg_get_payload_len(nlh) < sizeof(ifaddrmsg))
            return Error(EBADMSG) << "RTM_NEWADDR: truncated message";
        auto* ifa = static_cast<const ifaddrmsg*>(mnl_nlmsg_get_payload(nlh));
        if (index && static_cast<int>(ifa->ifa_index) != index) return {};
        if (family != AF_UNSPEC && ifa->ifa_family != family) return {};
        AddrAttrs a;
        mnl_attr_parse(nlh, sizeof(*ifa), collect_addr_attr, &a);
        // IFA_LOCAL is the interface's own address; on point-to-point links IFA_ADDRESS is the
        // peer's. IPv6 only sends IFA_ADDRESS.
        const nlattr* addr_attr = a.tb[IFA_LOCAL] ? a.tb[IFA_LOCAL] : a.tb[IFA_ADDRESS];
        if (!addr_attr) return {};
        auto ip = IpAddr::from_bytes(mnl_attr_get_payload(addr_attr),
                                     mnl_attr_get_payload_len(addr_attr));
        if (!ip) return {};
        AddressInfo info;
        info.index = static_cast<int>(ifa->ifa_index);
        info.address = IpNet(*ip, ifa->ifa_prefixlen);
        info.scope = ifa->ifa_scope;
        info.flags = ifa->ifa_flags;
        if (a.tb[IFA_FLAGS] && mnl_attr_validate(a.tb[IFA_FLAGS], MNL_TYPE_U32) >= 0)
            info.flags = mnl_attr_get_u32(a.tb[IFA_FLAGS]);
        out.push_back(info);
        return {};
    });
    if (!r) return std::move(r).error().wrap("list addresses");
    return out;
}

}  // namespace berth::net::netlink

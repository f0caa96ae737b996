#include "net/netlink/bridge_port.h"

#include <libmnl/libmnl.h>
#include <linux/if_bridge.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include <string>

namespace berth::net::netlink {

namespace {

std::string port_label(int index) {
    return "bridge port " + std::to_string(index);
}

// AF_BRIDGE RTM_SETLINK/RTM_DELLINK on a port: the bridge (master) handles it.
Request port_request(uint16_t type, int index) {
    Request req(type, 0);
    auto* ifi = req.put_family_header<ifinfomsg>();
    ifi->ifi_family = AF_BRIDGE;
    ifi->ifi_index = index;
    return req;
}

void put_vlans(Request& req, const std::vector<BridgeVlan>& vlans) {
    nlattr* spec = req.nest_start(IFLA_AF_SPEC);
    for (const BridgeVlan& v : vlans) {
        uint16_t flags =
            (v.pvid ? BRIDGE_VLAN_INFO_PVID : 0) | (v.untagged ? BRIDGE_VLAN_INFO_UNTAGGED : 0);
        if (v.last > v.vid) {
            bridge_vlan_info first{static_cast<uint16_t>(flags | BRIDGE_VLAN_INFO_RANGE_BEGIN),
                                   v.vid};
            bridge_vlan_info last{static_cast<uint16_t>(flags | BRIDGE_VLAN_INFO_RANGE_END),
                                  v.last};
            req.put(IFLA_BRIDGE_VLAN_INFO, &first, sizeof(first));
            req.put(IFLA_BRIDGE_VLAN_INFO, &last, sizeof(last));
        } else {
            bridge_vlan_info one{flags, v.vid};
            req.put(IFLA_BRIDGE_VLAN_INFO, &one, sizeof(one));
        }
    }
    req.nest_end(spec);
}

Result<void> check_vlans(const std::vector<BridgeVlan>& vlans) {
    for (const BridgeVlan& v : vlans) {
        uint16_t last = v.last > v.vid ? v.last : v.vid;
        if (v.vid < 1 || last > 4094)
            return Error(EINVAL) << "invalid VLAN " << v.vid << (last != v.vid ? "-" : "")
                                 << (last != v.vid ? std::to_string(last) : "")
                                 << " (must be within 1-4094)";
        if (v.pvid && last != v.vid) return Error(EINVAL) << "a VLAN range cannot be the PVID";
    }
    return {};
}

struct Attrs {
    const nlattr* tb[IFLA_MAX + 1] = {};
};

int collect(const nlattr* attr, void* data) {
    uint16_t type = mnl_attr_get_type(attr);
    if (type <= IFLA_MAX) static_cast<Attrs*>(data)->tb[type] = attr;
    return MNL_CB_OK;
}

struct LinkInfoNest {
    std::string slave_kind;
    const nlattr* slave_data = nullptr;
};

int collect_linkinfo(const nlattr* attr, void* data) {
    auto* out = static_cast<LinkInfoNest*>(data);
    switch (mnl_attr_get_type(attr)) {
        case IFLA_INFO_SLAVE_KIND:
            if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) >= 0)
                out->slave_kind = mnl_attr_get_str(attr);
            break;
        case IFLA_INFO_SLAVE_DATA:
            if (mnl_attr_validate(attr, MNL_TYPE_NESTED) >= 0) out->slave_data = attr;
            break;
    }
    return MNL_CB_OK;
}

int collect_brport(const nlattr* attr, void* data) {
    auto* info = static_cast<BridgePortInfo*>(data);
    if (mnl_attr_validate(attr, MNL_TYPE_U8) < 0) return MNL_CB_OK;
    bool on = mnl_attr_get_u8(attr) != 0;
    switch (mnl_attr_get_type(attr)) {
        case IFLA_BRPORT_MODE:
            info->hairpin = on;
            break;
        case IFLA_BRPORT_LEARNING:
            info->learning = on;
            break;
        case IFLA_BRPORT_UNICAST_FLOOD:
            info->unicast_flood = on;
            break;
        case IFLA_BRPORT_ISOLATED:
            info->isolated = on;
            break;
        case IFLA_BRPORT_NEIGH_SUPPRESS:
            info->neigh_suppress = on;
            break;
        case IFLA_BRPORT_STATE:
            info->state = mnl_attr_get_u8(attr);
            break;
    }
    return MNL_CB_OK;
}

int collect_vlan(const nlattr* attr, void* data) {
    auto* out = static_cast<std::vector<BridgeVlan>*>(data);
    if (mnl_attr_get_type(attr) != IFLA_BRIDGE_VLAN_INFO ||
        mnl_attr_get_payload_len(attr) < sizeof(bridge_vlan_info))
        return MNL_CB_OK;
    auto* v = static_cast<const bridge_vlan_info*>(mnl_attr_get_payload(attr));
    BridgeVlan bv;
    bv.vid = v->vid;
    bv.pvid = v->flags & BRIDGE_VLAN_INFO_PVID;
    bv.untagged = v->flags & BRIDGE_VLAN_INFO_UNTAGGED;
    if ((v->flags & BRIDGE_VLAN_INFO_RANGE_END) && !out->empty()) {
        // Expand the range that RANGE_BEGIN opened.
        BridgeVlan begin = out->back();
        for (uint16_t id = static_cast<uint16_t>(begin.vid + 1); id <= v->vid; id++) {
            begin.vid = id;
            out->push_back(begin);
        }
        return MNL_CB_OK;
    }
    out->push_back(bv);
    return MNL_CB_OK;
}

}  // namespace

Result<void> configure_bridge_port(NetlinkSocket& nl, int index, const BridgePortOptions& options,
                                   const std::vector<BridgeVlan>& vlans) {
    BERTH_TRY(check_vlans(vlans));
    Request req = port_request(RTM_SETLINK, index);
    // The kernel reads IFLA_PROTINFO as port options only when it is marked nested.
    nlattr* protinfo = req.nest_start(IFLA_PROTINFO | NLA_F_NESTED);
    auto put_flag = [&](uint16_t type, const std::optional<bool>& v) {
        if (v) req.put_u8(type, *v ? 1 : 0);
    };
    put_flag(IFLA_BRPORT_MODE, options.hairpin);
    put_flag(IFLA_BRPORT_LEARNING, options.learning);
    put_flag(IFLA_BRPORT_UNICAST_FLOOD, options.unicast_flood);
    put_flag(IFLA_BRPORT_ISOLATED, options.isolated);
    put_flag(IFLA_BRPORT_NEIGH_SUPPRESS, options.neigh_suppress);
    req.nest_end(protinfo);
    if (!vlans.empty()) put_vlans(req, vlans);
    auto r = nl.execute(req);
    if (!r) return std::move(r).error().wrap("configure " + port_label(index));
    return {};
}

Result<void> delete_bridge_vlans(NetlinkSocket& nl, int index,
                                 const std::vector<BridgeVlan>& vlans) {
    if (vlans.empty()) return {};
    BERTH_TRY(check_vlans(vlans));
    Request req = port_request(RTM_DELLINK, index);
    std::vector<BridgeVlan> plain = vlans;
    for (BridgeVlan& v : plain) v.pvid = v.untagged = false;
    put_vlans(req, plain);
    auto r = nl.execute(req);
    if (!r) return std::move(r).error().wrap("delete VLANs of " + port_label(index));
    return {};
}

Result<BridgePortInfo> get_bridge_port(NetlinkSocket& nl, int index) {
    Request req(RTM_GETLINK, 0);
    auto* ifi = req.put_family_header<ifinfomsg>();
    ifi->ifi_family = AF_UNSPEC;
    ifi->ifi_index = index;
    req.put_u32(IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
    std::optional<BridgePortInfo> found;
    auto r = nl.execute(req, [&](const nlmsghdr* nlh) -> Result<void> {
        if (nlh->nlmsg_type != RTM_NEWLINK) return {};
        Attrs a;
        mnl_attr_parse(nlh, sizeof(ifinfomsg), collect, &a);
        if (!a.tb[IFLA_LINKINFO] || mnl_attr_validate(a.tb[IFLA_LINKINFO], MNL_TYPE_NESTED) < 0)
            return {};
        LinkInfoNest li;
        mnl_attr_parse_nested(a.tb[IFLA_LINKINFO], collect_linkinfo, &li);
        if (li.slave_kind != "bridge" || !li.slave_data) return {};
        BridgePortInfo info;
        info.index = index;
        if (a.tb[IFLA_MASTER] && mnl_attr_validate(a.tb[IFLA_MASTER], MNL_TYPE_U32) >= 0)
            info.master = static_cast<int>(mnl_attr_get_u32(a.tb[IFLA_MASTER]));
        mnl_attr_parse_nested(li.slave_data, collect_brport, &info);
        found = info;
        return {};
    });
    if (!r) return std::move(r).error().wrap("get " + port_label(index));
    if (!found) return Error(ENODEV) << "link " << index << " is not a bridge port";
    return *found;
}

Result<std::vector<BridgeVlan>> list_bridge_vlans(NetlinkSocket& nl, int index) {
    // Only an AF_BRIDGE dump reports VLANs; it covers every port, so keep this one's.
    Request req(RTM_GETLINK, 0);
    req.put_family_header<ifinfomsg>()->ifi_family = AF_BRIDGE;
    req.put_u32(IFLA_EXT_MASK, RTEXT_FILTER_BRVLAN);
    std::vector<BridgeVlan> vlans;
    auto r = nl.dump(req, [&](const nlmsghdr* nlh) -> Result<void> {
        if (nlh->nlmsg_type != RTM_NEWLINK) return {};
        auto* msg = static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(nlh));
        if (msg->ifi_index != index) return {};
        Attrs a;
        mnl_attr_parse(nlh, sizeof(ifinfomsg), collect, &a);
        if (a.tb[IFLA_AF_SPEC] && mnl_attr_validate(a.tb[IFLA_AF_SPEC], MNL_TYPE_NESTED) >= 0)
            mnl_attr_parse_nested(a.tb[IFLA_AF_SPEC], collect_vlan, &vlans);
        return {};
    });
    if (!r) return std::move(r).error().wrap("list VLANs of " + port_label(index));
    return vlans;
}

}  // namespace berth::net::netlink

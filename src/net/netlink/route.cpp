#include "net/netlink/route.h"

#include <libmnl/libmnl.h>

namespace berth::net::netlink {

std::string Route::str() const {
    std::string s = destination.prefix_len() == 0 ? "default" : destination.masked().str();
    if (gateway) s += " via " + gateway->str();
    if (oif) s += " dev " + std::to_string(oif);
    if (on_link) s += " onlink";
    if (table != RT_TABLE_MAIN) s += " table " + std::to_string(table);
    return s;
}

Route default_route(const IpAddr& gateway, int oif) {
    Route r;
    r.destination = IpNet(gateway.is_v4() ? IpAddr() : *IpAddr::parse("::"), 0);
    r.gateway = gateway;
    r.oif = oif;
    return r;
}

namespace {

Request route_request(uint16_t type, uint16_t flags, const Route& route) {
    Request req(type, flags);
    auto* rtm = req.put_family_header<rtmsg>();
    rtm->rtm_family = static_cast<uint8_t>(route.family());
    rtm->rtm_dst_len = static_cast<uint8_t>(route.destination.prefix_len());
    rtm->rtm_table = static_cast<uint8_t>(route.table < 256 ? route.table : RT_TABLE_UNSPEC);
    rtm->rtm_protocol = route.protocol;
    rtm->rtm_scope = route.scope.value_or(route.gateway ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK);
    rtm->rtm_type = route.type;
    if (route.on_link) rtm->rtm_flags |= RTNH_F_ONLINK;
    req.put_u32(RTA_TABLE, route.table);
    if (route.destination.prefix_len() > 0) {
        IpAddr dst = route.destination.network();
        req.put(RTA_DST, dst.data(), dst.size());
    }
    if (route.gateway) req.put(RTA_GATEWAY, route.gateway->data(), route.gateway->size());
    if (route.oif) req.put_u32(RTA_OIF, static_cast<uint32_t>(route.oif));
    if (route.priority) req.put_u32(RTA_PRIORITY, route.priority);
    return req;
}

struct RouteAttrs {
    const nlattr* tb[RTA_MAX + 1] = {};
};

int collect_route_attr(const nlattr* attr, void* data) {
    uint16_t type = mnl_attr_get_type(attr);
    if (type <= RTA_MAX) static_cast<RouteAttrs*>(data)->tb[type] = attr;
    return MNL_CB_OK;
}

std::optional<IpAddr> attr_ip(const nlattr* attr) {
    if (!attr) return std::nullopt;
    return IpAddr::from_bytes(mnl_attr_get_payload(attr), mnl_attr_get_payload_len(attr));
}

}  // namespace

Result<void> add_route(NetlinkSocket& nl, const Route& route) {
    if (route.gateway && route.gateway->family() != route.family())
        return Error(EINVAL) << "add route " << route.str() << ": gateway family mismatch";
    Request req = route_request(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, route);
    auto r = nl.execute(req);
    if (!r) return std::move(r).error().wrap("add route " + route.str());
    return {};
}

Result<void> delete_route(NetlinkSocket& nl, const Route& route) {
    Request req = route_request(RTM_DELROUTE, 0, route);
    // The kernel deletes the first route matching every field set: leave scope (NOWHERE) and
    // protocol (0) out of the match unless the caller chose them.
    auto* rtm = static_cast<rtmsg*>(mnl_nlmsg_get_payload(req.header()));
    if (!route.scope) rtm->rtm_scope = RT_SCOPE_NOWHERE;
    rtm->rtm_protocol = 0;
    auto r = nl.execute(req);
    if (!r) return std::move(r).error().wrap("delete route " + route.str());
    return {};
}

Result<std::vector<Route>> list_routes(NetlinkSocket& nl, int family, uint32_t table) {
    Request req(RTM_GETROUTE, 0);
    req.put_family_header<rtmsg>()->rtm_family = static_cast<uint8_t>(family);
    std::vector<Route> out;
    auto r = nl.dump(req, [&](const nlmsghdr* nlh) -> Result<void> {
        if (nlh->nlmsg_type != RTM_NEWROUTE) return {};
        if (mnl_nlmsg_get_payload_len(nlh) < sizeof(rtmsg))
            return Error(EBADMSG) << "RTM_NEWROUTE: truncated message";
        auto* rtm = static_cast<const rtmsg*>(mnl_nlmsg_get_payload(nlh));
        if (rtm->rtm_family != family || rtm->rtm_type != RTN_UNICAST) return {};
        RouteAttrs a;
        mnl_attr_parse(nlh, sizeof(*rtm), collect_route_attr, &a);
        Route route;
        route.table = rtm->rtm_table;
        if (a.tb[RTA_TABLE] && mnl_attr_validate(a.tb[RTA_TABLE], MNL_TYPE_U32) >= 0)
            route.table = mnl_attr_get_u32(a.tb[RTA_TABLE]);
        if (route.table != table) return {};
        auto dst = attr_ip(a.tb[RTA_DST]);
        IpAddr zero = family == AF_INET ? IpAddr() : *IpAddr::parse("::");
        route.destination = IpNet(dst.value_or(zero), rtm->rtm_dst_len);
        route.gateway = attr_ip(a.tb[RTA_GATEWAY]);
        if (a.tb[RTA_OIF] && mnl_attr_validate(a.tb[RTA_OIF], MNL_TYPE_U32) >= 0)
            route.oif = static_cast<int>(mnl_attr_get_u32(a.tb[RTA_OIF]));
        if (a.tb[RTA_PRIORITY] && mnl_attr_validate(a.tb[RTA_PRIORITY], MNL_TYPE_U32) >= 0)
            route.priority = mnl_attr_get_u32(a.tb[RTA_PRIORITY]);
        route.on_link = (rtm->rtm_flags & RTNH_F_ONLINK) != 0;
        route.protocol = rtm->rtm_protocol;
        route.scope = rtm->rtm_scope;
        route.type = rtm->rtm_type;
        out.push_back(route);
        return {};
    });
    if (!r) return std::move(r).error().wrap("list routes");
    return out;
}

}  // namespace berth::net::netlink

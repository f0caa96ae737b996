#include "net/portmap/localnet.h"

#include <cerrno>

#include "base/file.h"
#include "net/netlink/link.h"
#include "net/netlink/route.h"
#include "net/netlink/sysctl.h"

namespace berth::net::portmap {

namespace {
bool plausible_link_name(const std::string& n) {
    return !n.empty() && n.size() <= 15 && n != "." && n != ".." &&
           n.find('/') == std::string::npos;
}

// The link of the longest-prefix route of the main table that contains `addr`.
Result<std::string> route_link(const IpAddr& addr) {
    auto nl = BERTH_TRY(netlink::NetlinkSocket::open());
    auto routes = BERTH_TRY(netlink::list_routes(nl, AF_INET));
    int best_len = -1, oif = 0;
    for (const netlink::Route& r : routes) {
        if (r.oif == 0 || !r.destination.masked().contains(addr)) continue;
        if (r.destination.prefix_len() > best_len) {
            best_len = r.destination.prefix_len();
            oif = r.oif;
        }
    }
    // The default route would point away from the container: only a real subnet route counts.
    if (oif == 0 || best_len == 0) return Error(ENOENT) << "no route to " << addr.str();
    auto link = BERTH_TRY(netlink::get_link(nl, oif));
    return link.name;
}
}  // namespace

Result<std::string> enable_route_localnet(const IpAddr& container,
                                          const std::vector<std::string>& fallback_links) {
    std::vector<std::string> candidates;
    if (auto l = route_link(container)) candidates.push_back(*l);
    for (const std::string& l : fallback_links) candidates.push_back(l);
    for (const std::string& link : candidates) {
        if (!plausible_link_name(link)) continue;
        auto key = sysctl::ipv4_conf_key(link, "route_localnet");
        if (!key) continue;
        // Read first: every ADD after the first on a bridge finds it set already, and a read
        // costs less than a write (which a changed value follows with a route cache flush).
        auto current = sysctl::read(*key);
        if (!current && current.error().errno_value() == ENOENT) continue;  // no such link
        if (!current || *current != "1") BERTH_TRY(sysctl::write(*key, "1"));
        return link;
    }
    return Error(ENOENT) << "route_localnet: no link found that leads to " << container.str();
}

}  // namespace berth::net::portmap

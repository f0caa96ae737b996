// The bridge plugin's work inside the container's network namespace. Every function here acts
// in the namespace of the CALLING THREAD: callers run them through net::in_netns.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "net/cni/types.h"
#include "net/netlink/link.h"

namespace berth::net::bridge {

struct ContainerPlan {
    std::string ifname;
    std::vector<cni::IpConfig> ips;  // the addresses for this interface
    std::vector<cni::RouteConfig> routes;
    bool enable_dad = false;
    bool leave_down = false;  // disableContainerInterface
};

// Addresses (without DAD unless enable_dad), the link up, then the routes: a route without a
// gateway goes via the first gateway of its family, or is on-link when there is none.
Result<netlink::LinkInfo> configure_container(const ContainerPlan& plan);

// Compares the interface with a previous result: a veth whose peer is `host_index`, with the
// MAC (when given), every address and every route. The error names what differs.
struct ContainerExpect {
    std::string ifname;
    std::string mac;
    int host_index = 0;
    std::vector<cni::IpConfig> ips;
    std::vector<cni::RouteConfig> routes;
};
Result<void> check_container(const ContainerExpect& expect);

// Deletes the interface when it is a veth; absent is success.
Result<void> delete_container_veth(const std::string& ifname);

}  // namespace berth::net::bridge

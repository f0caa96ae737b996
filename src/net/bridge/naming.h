// The host-side veth of an attachment is named from a hash of (container id, ifname), not at
// random: DEL finds it without the container's namespace, and GC can tell which attachment any
// port on the bridge belongs to, including one left by an ADD killed half way.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace berth::net::bridge {

// "veth" + 11 lowercase hex digits (15 characters, the kernel's limit).
std::string host_veth_name(std::string_view container_id, std::string_view ifname);
// True for any name host_veth_name can produce.
bool is_host_veth_name(std::string_view name);
// The bridge-side end of the veth carrying a VLAN's gateway address ("<bridge>.<vlan>"):
// "vgw" + 12 hex digits, a shape GC never touches.
std::string vlan_gateway_port_name(std::string_view bridge, uint16_t vlan);

}  // namespace berth::net::bridge

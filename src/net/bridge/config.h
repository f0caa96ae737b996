// berth-bridge's network configuration: the reference bridge plugin's options, read with every
// error naming its field ("config.vlan: ..."), plus the runtime's inputs the verbs need (MAC
// from CNI_ARGS / args / runtimeConfig, prevResult for CHECK, the valid attachments for GC).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "net/cni/types.h"

namespace berth::net::bridge {

struct VlanRange {
    uint16_t min = 0;
    uint16_t max = 0;  // inclusive; equal to min for a single id
    friend bool operator==(const VlanRange&, const VlanRange&) = default;
};

struct Attachment {
    std::string container_id;
    std::string ifname;
};

struct BridgeConfig {
    std::string cni_version;
    std::string name;  // the network's name
    std::string bridge = "cni0";
    bool is_gateway = false;  // also true when is_default_gateway
    bool is_default_gateway = false;
    bool force_address = false;
    bool ip_masq = false;
    uint32_t mtu = 0;  // 0: the kernel's default
    bool hairpin = false;
    bool promisc = false;
    uint16_t vlan = 0;  // 0: no VLAN
    std::vector<VlanRange> vlan_trunk;
    bool preserve_default_vlan = true;
    bool mac_spoof_check = false;
    bool enable_dad = false;
    bool disable_container_interface = false;

    std::string ipam_type;           // empty: L2 only, no IPAM plugin
    std::optional<std::string> mac;  // for the container interface
    std::optional<cni::CniResult> prev_result;
    std::vector<Attachment> valid_attachments;  // GC: cni.dev/valid-attachments

    bool vlan_filtering() const { return vlan != 0 || !vlan_trunk.empty(); }
};

// Parses the configuration and CNI_ARGS (MAC=...; unknown keys are left to other plugins).
// Errors are EINVAL and start with the field's path.
Result<BridgeConfig> parse_bridge_config(const cni::Json& config, std::string_view cni_args);

}  // namespace berth::net::bridge

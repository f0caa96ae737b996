#include "net/bridge/config.h"

#include "net/cni/skel.h"
#include "net/netlink/link.h"
#include "oci/json_reader.h"

namespace berth::net::bridge {

namespace {

using oci::json::Node;

bool valid_ifname(std::string_view n) {
    return !n.empty() && n.size() < 16 && n != "." && n != ".." &&
           n.find_first_of("/: \t\n") == std::string_view::npos;
}

Result<std::string> read_mac(const Node& n) {
    std::string mac = BERTH_TRY(n.as_string());
    if (!netlink::parse_mac_address(mac))
        return n.error() << "invalid MAC address \"" << mac << "\"";
    return mac;
}

// The reference takes disableContainerInterface as a boolean or as "true"/"false".
Result<bool> read_loose_bool(const Node& n) {
    if (n.value().is_string()) {
        std::string s = n.value().get<std::string>();
        if (s == "true") return true;
        if (s == "false") return false;
        return n.error() << "expected a boolean, got \"" << s << "\"";
    }
    return n.as_bool();
}

Result<uint16_t> read_vlan_id(const Node& n, uint16_t min) {
    int64_t v = BERTH_TRY(n.as_i64(INT64_MIN, INT64_MAX));
    if (v < min || v > 4094)
        return n.error() << "invalid VLAN ID " << v << " (must be between " << min << " and 4094)";
    return static_cast<uint16_t>(v);
}

Result<VlanRange> read_trunk(const Node& n) {
    BERTH_TRY(n.expect_object());
    auto id = n.member("id");
    auto min = n.member("minID");
    auto max = n.member("maxID");
    if (id) {
        if (min || max) return n.error() << "give either id or minID/maxID, not both";
        uint16_t v = BERTH_TRY(read_vlan_id(*id, 1));
        return VlanRange{v, v};
    }
    if (!min || !max) return n.error() << "needs id, or both minID and maxID";
    VlanRange r{BERTH_TRY(read_vlan_id(*min, 1)), BERTH_TRY(read_vlan_id(*max, 1))};
    if (r.min > r.max) return n.error() << "minID " << r.min << " is greater than maxID " << r.max;
    return r;
}

}  // namespace

Result<BridgeConfig> parse_bridge_config(const cni::Json& config, std::string_view cni_args) {
    BridgeConfig c;
    Node root(config, "config");
    BERTH_TRY(root.expect_object());
    BERTH_TRY(oci::json::read(root, "cniVersion", c.cni_version));
    BERTH_TRY(oci::json::read_required(root, "name", c.name));
    if (auto b = root.member("bridge")) {
        c.bridge = BERTH_TRY(b->as_string());
        if (!valid_ifname(c.bridge))
            return b->error() << "invalid bridge name \"" << c.bridge << "\"";
    }
    BERTH_TRY(oci::json::read(root, "isGateway", c.is_gateway));
    BERTH_TRY(oci::json::read(root, "isDefaultGateway", c.is_default_gateway));
    if (c.is_default_gateway) c.is_gateway = true;
    BERTH_TRY(oci::json::read(root, "forceAddress", c.force_address));
    BERTH_TRY(oci::json::read(root, "ipMasq", c.ip_masq));
    if (auto b = root.member("ipMasqBackend")) {
        // Either way berth masquerades with nftables; anything else is a typo.
        std::string backend = BERTH_TRY(b->as_string());
        if (backend != "nftables" && backend != "iptables")
            return b->error() << "must be \"nftables\" or \"iptables\", got \"" << backend << "\"";
    }
    if (auto m = root.member("mtu")) {
        int64_t mtu = BERTH_TRY(m->as_i64(INT64_MIN, INT64_MAX));
        if (mtu != 0 && (mtu < 68 || mtu > 65535))
            return m->error() << "invalid MTU " << mtu << " (must be 0 or within 68-65535)";
        c.mtu = static_cast<uint32_t>(mtu);
    }
    BERTH_TRY(oci::json::read(root, "hairpinMode", c.hairpin));
    BERTH_TRY(oci::json::read(root, "promiscMode", c.promisc));
    if (auto v = root.member("vlan")) c.vlan = BERTH_TRY(read_vlan_id(*v, 0));
    BERTH_TRY(oci::json::read_array(root, "vlanTrunk", c.vlan_trunk, read_trunk));
    BERTH_TRY(oci::json::read(root, "preserveDefaultVlan", c.preserve_default_vlan));
    BERTH_TRY(oci::json::read(root, "macspoofchk", c.mac_spoof_check));
    BERTH_TRY(oci::json::read(root, "enabledad", c.enable_dad));
    if (auto d = root.member("disableContainerInterface"))
        c.disable_container_interface = BERTH_TRY(read_loose_bool(*d));

    if (auto ipam = root.member("ipam")) {
        BERTH_TRY(ipam->expect_object());
        BERTH_TRY(oci::json::read(*ipam, "type", c.ipam_type));
        if (c.ipam_type.find('/') != std::string::npos)
            return ipam->error() << ".type: a plugin type is a name, not a path";
    }

    if (c.hairpin && c.promisc)
        return root.error() << "cannot set hairpinMode and promiscMode at the same time";
    if (c.disable_container_interface && !c.ipam_type.empty())
        return root.error() << "cannot use IPAM when disableContainerInterface is set";
    if (c.vlan != 0 && !c.vlan_trunk.empty())
        for (const VlanRange& r : c.vlan_trunk)
            if (c.vlan >= r.min && c.vlan <= r.max)
                return root.error() << "vlan " << c.vlan << " is also in vlanTrunk";

    // MAC: CNI_ARGS, then args.cni.mac, then runtimeConfig.mac; the last one given wins.
    for (const auto& [k, v] : BERTH_TRY(cni::parse_cni_args(cni_args))) {
        if (k != "MAC") continue;
        if (!netlink::parse_mac_address(v))
            return Error(EINVAL) << "CNI_ARGS MAC: invalid MAC address \"" << v << "\"";
        c.mac = v;
    }
    if (auto args = root.member("args"))
        if (auto cni = args->member("cni"))
            if (auto mac = cni->member("mac")) c.mac = BERTH_TRY(read_mac(*mac));
    if (auto rc = root.member("runtimeConfig"))
        if (auto mac = rc->member("mac")) c.mac = BERTH_TRY(read_mac(*mac));

    if (auto prev = root.member("prevResult")) {
        auto r = cni::parse_result(prev->value());
        if (!r) return std::move(r).error().wrap(prev->path());
        c.prev_result = std::move(r).value();
    }
    if (auto valid = root.member("cni.dev/valid-attachments")) {
        for (const Node& a : BERTH_TRY(valid->elements())) {
            Attachment att;
            BERTH_TRY(oci::json::read_required(a, "containerID", att.container_id));
            BERTH_TRY(oci::json::read_required(a, "ifname", att.ifname));
            c.valid_attachments.push_back(std::move(att));
        }
    }
    return c;
}

}  // namespace berth::net::bridge

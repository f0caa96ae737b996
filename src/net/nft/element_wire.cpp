#include "net/nft/element_wire.h"

#include <arpa/inet.h>
#include <endian.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <net/if.h>

#include <algorithm>
#include <cerrno>
#include <optional>

#include "base/strings.h"
#include "net/ip/addr.h"

namespace berth::net::nft {

namespace {

using Bytes = std::vector<uint8_t>;

// nft's comment in an element's user data: {type NFTNL_UDATA_SET_ELEM_COMMENT = 0, length with
// the NUL, text, NUL}.
constexpr uint8_t kUdataComment = 0;

std::vector<std::string_view> components(std::string_view text) {
    std::vector<std::string_view> out;
    for (;;) {
        const size_t dot = text.find(" . ");
        out.push_back(trim(text.substr(0, dot)));
        if (dot == std::string_view::npos) return out;
        text.remove_prefix(dot + 3);
    }
}

Result<Bytes> encode_scalar(std::string_view type, std::string_view s) {
    auto bad = [&] { return Error(EINVAL) << "element: `" << s << "` is no " << type; };
    if (type == "ipv4_addr" || type == "ipv6_addr") {
        auto a = IpAddr::parse(s);
        if (!a || a->is_v4() != (type == "ipv4_addr")) return bad();
        return Bytes(a->data(), a->data() + a->size());
    }
    if (type == "inet_service") {
        auto port = parse_number<uint16_t>(s);
        if (!port) return bad();
        return Bytes{static_cast<uint8_t>(*port >> 8), static_cast<uint8_t>(*port & 0xff)};
    }
    if (type == "inet_proto") {
        if (s == "tcp") return Bytes{IPPROTO_TCP};
        if (s == "udp") return Bytes{IPPROTO_UDP};
        if (s == "sctp") return Bytes{IPPROTO_SCTP};
        auto n = parse_number<uint8_t>(s);
        if (!n) return bad();
        return Bytes{*n};
    }
    if (type == "ifname") {
        // Always quoted by quote_ifname; the name itself has no quote, so stripping is enough.
        if (s.size() < 3 || s.front() != '"' || s.back() != '"') return bad();
        const std::string_view name = s.substr(1, s.size() - 2);
        if (name.size() >= IFNAMSIZ || name.find('"') != std::string_view::npos) return bad();
        Bytes b(IFNAMSIZ, 0);
        std::copy(name.begin(), name.end(), b.begin());
        return b;
    }
    if (type == "ether_addr") {
        if (s.size() != 17) return bad();
        Bytes b;
        for (size_t i = 0; i < 17; i += 3) {
            if (i + 2 < 17 && s[i + 2] != ':') return bad();
            auto octet = parse_number<uint8_t>(s.substr(i, 2), 16);
            if (!octet) return bad();
            b.push_back(*octet);
        }
        return b;
    }
    return Error(EINVAL) << "element: type " << type << " has no raw encoding";
}

void put_data(nlmsghdr* nlh, uint16_t type, const Bytes& b) {
    nlattr* nest = mnl_attr_nest_start(nlh, type);
    mnl_attr_put(nlh, NFTA_DATA_VALUE, b.size(), b.data());
    mnl_attr_nest_end(nlh, nest);
}

// One wire element: key, optional data, flags and user data.
struct WireElement {
    Bytes key;
    Bytes value;
    uint32_t flags = 0;
    bool comment = false;
};

// An interval set's element: start[, end].
Result<std::vector<WireElement>> interval_elements(const SetDecl& set, std::string_view text) {
    if (set.key_types.size() != 1 ||
        (set.key_types[0] != "ipv4_addr" && set.key_types[0] != "ipv6_addr"))
        return Error(EINVAL) << "element: interval set " << set.name << " has no raw encoding";
    auto net = IpNet::parse(trim(text), /*allow_bare=*/true);
    if (!net || net->addr().is_v4() != (set.key_types[0] == "ipv4_addr"))
        return Error(EINVAL) << "element: `" << text << "` is no " << set.key_types[0] << " prefix";
    const IpAddr start = net->network();
    const IpAddr zero = start.is_v4() ? IpAddr() : *IpAddr::parse("::");
    const IpAddr end = net->last().next();  // wraps to zero after the family's last address
    auto bytes = [](const IpAddr& a) { return Bytes(a.data(), a.data() + a.size()); };
    std::vector<WireElement> out;
    out.push_back({bytes(start), {}, 0, false});
    if (end != zero) out.push_back({bytes(end), {}, NFT_SET_ELEM_INTERVAL_END, false});
    return out;
}

nlmsghdr* put_message(Bytes& buf, size_t& used, uint16_t type, uint16_t flags, uint32_t seq,
                      uint8_t family, uint16_t res_id) {
    auto* nlh = mnl_nlmsg_put_header(buf.data() + used);
    nlh->nlmsg_type = type;
    nlh->nlmsg_flags = flags;
    nlh->nlmsg_seq = seq;
    auto* nfg = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
    nfg->nfgen_family = family;
    nfg->version = NFNETLINK_V0;
    nfg->res_id = htons(res_id);
    return nlh;
}

void finish_message(nlmsghdr* nlh, size_t& used) {
    used += MNL_ALIGN(nlh->nlmsg_len);
}

}  // namespace

Result<uint8_t> family_number(std::string_view family) {
    if (family == "inet") return uint8_t{NFPROTO_INET};
    if (family == "ip") return uint8_t{NFPROTO_IPV4};
    if (family == "ip6") return uint8_t{NFPROTO_IPV6};
    if (family == "bridge") return uint8_t{NFPROTO_BRIDGE};
    if (family == "arp") return uint8_t{NFPROTO_ARP};
    if (family == "netdev") return uint8_t{NFPROTO_NETDEV};
    return Error(EINVAL) << "unknown nftables family `" << family << "`";
}

Result<std::vector<uint8_t>> encode_data(const std::vector<std::string>& types,
                                         std::string_view text) {
    const std::vector<std::string_view> parts = components(text);
    if (parts.size() != types.size())
        return Error(EINVAL) << "element: `" << text << "` has " << parts.size()
                             << " components, its set " << types.size();
    if (types.size() == 1) return encode_scalar(types[0], parts[0]);
    Bytes out;
    for (size_t i = 0; i < types.size(); i++) {
        Bytes b = BERTH_TRY(encode_scalar(types[i], parts[i]));
        b.resize((b.size() + 3) / 4 * 4, 0);  // each field fills whole 32-bit registers
        out.insert(out.end(), b.begin(), b.end());
    }
    return out;
}

Result<WireBatch> encode_element_batch(const StaticTable& table, std::string_view tag,
                                       const std::vector<Element>& elements, ElementOp op,
                                       uint32_t first_seq) {
    const uint8_t family = BERTH_TRY(family_number(table.family));
    const bool add = op == ElementOp::kAdd;
    const bool expire = op == ElementOp::kExpire;
    if (add && (tag.empty() || tag.size() > 127))
        return Error(EINVAL) << "element comment: tag of " << tag.size() << " bytes";

    // Per set, in the order sets first appear (as the script form does).
    std::vector<std::pair<const SetDecl*, std::vector<WireElement>>> per_set;
    size_t payload = 0;
    for (const Element& e : elements) {
        if (!add && !e.tagged) continue;
        const SetDecl* set = table.set(e.set);
        if (!set)
            return Error(EINVAL) << "element: table " << table.name << " has no set " << e.set;
        auto it = std::find_if(per_set.begin(), per_set.end(),
                               [&](const auto& p) { return p.first == set; });
        if (it == per_set.end()) it = per_set.insert(per_set.end(), {set, {}});
        std::vector<WireElement> wire;
        if (set->interval) {
            wire = BERTH_TRY(interval_elements(*set, e.key));
        } else {
            WireElement w;
            w.key = BERTH_TRY(encode_data(set->key_types, e.key));
            if ((add || expire) && !set->value_types.empty())
                w.value = BERTH_TRY(encode_data(set->value_types, e.value));
            w.comment = add && e.tagged;
            wire.push_back(std::move(w));
        }
        for (WireElement& w : wire) {
            // Two addresses of one subnet give the same interval: send it once.
            if (std::any_of(it->second.begin(), it->second.end(), [&](const WireElement& o) {
                    return o.key == w.key && o.flags == w.flags && o.value == w.value;
                }))
                continue;
            payload += 80 + w.key.size() + w.value.size() + (w.comment ? tag.size() + 8 : 0);
            it->second.push_back(std::move(w));
        }
    }

    // An interval set starts with an interval end at address zero (what nft sends into an empty
    // set; a no-op when there), unless an interval of this batch starts there.
    for (auto& [set, wire] : per_set) {
        if (!set->interval) continue;
        const size_t size = wire.front().key.size();
        const bool starts_at_zero = std::any_of(wire.begin(), wire.end(), [](const WireElement& w) {
            return w.flags == 0 &&
                   std::all_of(w.key.begin(), w.key.end(), [](uint8_t b) { return b == 0; });
        });
        if (!starts_at_zero)
            wire.insert(wire.begin(), {Bytes(size, 0), {}, NFT_SET_ELEM_INTERVAL_END, false});
        payload += 64 + size;
    }

    WireBatch batch;
    batch.first_seq = first_seq;
    if (per_set.empty()) return batch;
    // Headers and names per message, plus each element's attributes (bounded above).
    batch.bytes.assign(256 + per_set.size() * 256 + payload, 0);
    size_t used = 0;
    uint32_t seq = first_seq;
    nlmsghdr* nlh = put_message(batch.bytes, used, NFNL_MSG_BATCH_BEGIN, NLM_F_REQUEST, seq++,
                                AF_UNSPEC, NFNL_SUBSYS_NFTABLES);
    finish_message(nlh, used);
    const uint16_t type = (NFNL_SUBSYS_NFTABLES << 8) |
                          (op == ElementOp::kDelete ? NFT_MSG_DELSETELEM : NFT_MSG_NEWSETELEM);
    const uint16_t flags = NLM_F_REQUEST | NLM_F_ACK | (add ? NLM_F_CREATE : 0);
    for (const auto& [set, wire] : per_set) {
        nlh = put_message(batch.bytes, used, type, flags, seq++, family, 0);
        mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, table.name.c_str());
        mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, set->name.c_str());
        nlattr* list = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
        for (const WireElement& w : wire) {
            nlattr* elem = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
            put_data(nlh, NFTA_SET_ELEM_KEY, w.key);
            if (!w.value.empty()) put_data(nlh, NFTA_SET_ELEM_DATA, w.value);
            if (w.flags) mnl_attr_put_u32(nlh, NFTA_SET_ELEM_FLAGS, htonl(w.flags));
            if (expire) mnl_attr_put_u64(nlh, NFTA_SET_ELEM_TIMEOUT, htobe64(kExpireAfterMs));
            if (w.comment) {
                Bytes udata{kUdataComment, static_cast<uint8_t>(tag.size() + 1)};
                udata.insert(udata.end(), tag.begin(), tag.end());
                udata.push_back(0);
                mnl_attr_put(nlh, NFTA_SET_ELEM_USERDATA, udata.size(), udata.data());
            }
            mnl_attr_nest_end(nlh, elem);
        }
        mnl_attr_nest_end(nlh, list);
        finish_message(nlh, used);
        batch.sets.push_back(set->name);
    }
    nlh = put_message(batch.bytes, used, NFNL_MSG_BATCH_END, NLM_F_REQUEST, seq, AF_UNSPEC,
                      NFNL_SUBSYS_NFTABLES);
    finish_message(nlh, used);
    batch.bytes.resize(used);
    return batch;
}

Result<WireQuery> encode_element_queries(const StaticTable& table,
                                         std::span<const Element> elements, uint32_t first_seq) {
    const uint8_t family = BERTH_TRY(family_number(table.family));
    WireQuery q;
    q.first_seq = first_seq;
    std::vector<std::pair<const SetDecl*, Bytes>> keys;
    size_t payload = 0;
    for (size_t i = 0; i < elements.size(); i++) {
        const Element& e = elements[i];
        if (!e.tagged) continue;
        const SetDecl* set = table.set(e.set);
        if (!set)
            return Error(EINVAL) << "element: table " << table.name << " has no set " << e.set;
        if (set->interval)
            return Error(EINVAL) << "element: interval set " << set->name << " is not queried";
        keys.emplace_back(set, BERTH_TRY(encode_data(set->key_types, e.key)));
        q.index.push_back(i);
        payload += 128 + table.name.size() + set->name.size() + keys.back().second.size();
    }
    q.bytes.assign(payload, 0);
    size_t used = 0;
    uint32_t seq = first_seq;
    for (const auto& [set, key] : keys) {
        nlmsghdr* nlh = put_message(q.bytes, used, (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETSETELEM,
                                    NLM_F_REQUEST | NLM_F_ACK, seq++, family, 0);
        mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, table.name.c_str());
        mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, set->name.c_str());
        nlattr* list = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
        nlattr* elem = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
        put_data(nlh, NFTA_SET_ELEM_KEY, key);
        mnl_attr_nest_end(nlh, elem);
        mnl_attr_nest_end(nlh, list);
        finish_message(nlh, used);
    }
    q.bytes.resize(used);
    return q;
}

namespace {

// The first attribute of `type` among the `len` bytes of attributes at `start`.
const nlattr* find_attr(const void* start, size_t len, uint16_t type) {
    auto* a = static_cast<const nlattr*>(start);
    int left = static_cast<int>(len);
    for (; mnl_attr_ok(a, left); a = mnl_attr_next(a)) {
        left -= static_cast<int>(MNL_ALIGN(a->nla_len));
        if (mnl_attr_get_type(a) == type) return a;
    }
    return nullptr;
}

const nlattr* find_nested(const nlattr* nest, uint16_t type) {
    return nest ? find_attr(mnl_attr_get_payload(nest), mnl_attr_get_payload_len(nest), type)
                : nullptr;
}

}  // namespace

std::string element_comment(const nlmsghdr* nlh) {
    // NFTA_SET_ELEM_LIST_ELEMENTS { NFTA_LIST_ELEM { ..., NFTA_SET_ELEM_USERDATA } }: the user
    // data is a TLV list ({type, length, value}), nft's comment being type 0 with its NUL.
    if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(nfgenmsg))) return {};
    const nlattr* list = find_attr(mnl_nlmsg_get_payload_offset(nlh, sizeof(nfgenmsg)),
                                   nlh->nlmsg_len - MNL_ALIGN(mnl_nlmsg_size(sizeof(nfgenmsg))),
                                   NFTA_SET_ELEM_LIST_ELEMENTS);
    const nlattr* udata = find_nested(find_nested(list, NFTA_LIST_ELEM), NFTA_SET_ELEM_USERDATA);
    if (!udata) return {};
    const auto* p = static_cast<const uint8_t*>(mnl_attr_get_payload(udata));
    size_t left = mnl_attr_get_payload_len(udata);
    while (left >= 2) {
        const uint8_t type = p[0], len = p[1];
        if (len > left - 2) break;
        if (type == kUdataComment) {
            std::string c(reinterpret_cast<const char*>(p + 2), len);
            if (!c.empty() && c.back() == '\0') c.pop_back();
            return c;
        }
        p += 2 + len;
        left -= 2 + len;
    }
    return {};
}

}  // namespace berth::net::nft

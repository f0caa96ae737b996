// Reading a message's attributes into a table indexed by type, with size-checked getters, so
// parsers ask for what they need without trusting a short or unknown attribute.
#pragma once

#include <libmnl/libmnl.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "net/ip/addr.h"

namespace berth::net::netlink {

// Max is the family's *_MAX: attributes of higher (newer) types are ignored.
template <uint16_t Max>
class AttrTable {
  public:
    // The attributes after a family header of `header_size` bytes.
    void parse(const nlmsghdr* nlh, size_t header_size) {
        mnl_attr_parse(nlh, static_cast<unsigned>(header_size), collect, this);
    }
    // The attributes inside a nest; false when `nest` is not one.
    bool parse_nested(const nlattr* nest) {
        if (!nest || mnl_attr_validate(nest, MNL_TYPE_NESTED) < 0) return false;
        mnl_attr_parse_nested(nest, collect, this);
        return true;
    }

    // The attribute if present with at least `size` bytes of payload.
    const nlattr* get(uint16_t type, size_t size = 0) const {
        const nlattr* a = type <= Max ? tb_[type] : nullptr;
        return a && mnl_attr_get_payload_len(a) >= size ? a : nullptr;
    }
    std::optional<uint8_t> u8(uint16_t type) const {
        const nlattr* a = get(type, 1);
        return a ? std::optional<uint8_t>(mnl_attr_get_u8(a)) : std::nullopt;
    }
    std::optional<uint16_t> u16(uint16_t type) const {
        const nlattr* a = get(type, 2);
        return a ? std::optional<uint16_t>(mnl_attr_get_u16(a)) : std::nullopt;
    }
    std::optional<uint32_t> u32(uint16_t type) const {
        const nlattr* a = get(type, 4);
        return a ? std::optional<uint32_t>(mnl_attr_get_u32(a)) : std::nullopt;
    }
    std::optional<std::string> str(uint16_t type) const {
        const nlattr* a = get(type);
        if (!a || mnl_attr_validate(a, MNL_TYPE_NUL_STRING) < 0) return std::nullopt;
        return std::string(mnl_attr_get_str(a));
    }
    // A 4- or 16-byte address.
    std::optional<IpAddr> addr(uint16_t type) const {
        const nlattr* a = get(type);
        if (!a) return std::nullopt;
        return IpAddr::from_bytes(mnl_attr_get_payload(a), mnl_attr_get_payload_len(a));
    }

  private:
    static int collect(const nlattr* attr, void* data) {
        uint16_t type = mnl_attr_get_type(attr);
        if (type <= Max) static_cast<AttrTable*>(data)->tb_[type] = attr;
        return MNL_CB_OK;
    }
    const nlattr* tb_[Max + 1] = {};
};

}  // namespace berth::net::netlink

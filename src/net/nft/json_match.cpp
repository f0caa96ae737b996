#include "net/nft/json_match.h"

namespace berth::net::nft {

bool json_has_string(const Json& j, std::string_view value) {
    if (j.is_string()) return j.get_ref<const std::string&>() == value;
    if (j.is_structured())
        for (const Json& child : j)
            if (json_has_string(child, value)) return true;
    return false;
}

bool json_has_number(const Json& j, int64_t value) {
    if (j.is_number_integer()) return j.get<int64_t>() == value;
    if (j.is_structured())
        for (const Json& child : j)
            if (json_has_number(child, value)) return true;
    return false;
}

bool json_has_key(const Json& j, std::string_view key) {
    if (j.is_object() && j.contains(key)) return true;
    if (j.is_structured())
        for (const Json& child : j)
            if (json_has_key(child, key)) return true;
    return false;
}

}  // namespace berth::net::nft

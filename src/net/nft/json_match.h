// Looking into the JSON form of listed rules: does a rule's expression mention a value?
#pragma once

#include <string_view>

#include "net/nft/nft.h"

namespace berth::net::nft {

// True when some string anywhere in `j` (a rule's "expr", or part of it) equals `value`.
bool json_has_string(const Json& j, std::string_view value);
// True when some object anywhere in `j` has member `key` ("masquerade", "dnat").
bool json_has_key(const Json& j, std::string_view key);
// True when some number anywhere in `j` equals `value`.
bool json_has_number(const Json& j, int64_t value);

}  // namespace berth::net::nft

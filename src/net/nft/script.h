// Building nft scripts from untrusted text. Nothing from a CNI configuration goes into a script
// raw: names and comments are quoted after a check that they cannot end the quote or the line,
// addresses are printed from parsed values, MACs and ports are validated.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"

namespace berth::net::nft {

// `"s"` for a name or comment in a script. EINVAL when s is empty, longer than 128 bytes, or
// has a character nft's quoted strings cannot hold safely: '"', '\\', control characters,
// bytes >= 0x80. (nft quoted strings have no escapes: a '"' would end it.)
Result<std::string> quote(std::string_view s);

// `s` as a bare nft identifier (table and chain names: nft 1.0.6 takes no quotes there): EINVAL
// unless it starts with a letter, has only [A-Za-z0-9_./-] and is at most 64 bytes.
Result<std::string> identifier(std::string_view s);

// A table name for `network` behind a fixed `prefix` ("berth-pm-"): prefix + network when the
// network name is 1..40 characters of [A-Za-z0-9_-]; otherwise prefix + those characters of it
// (others as '_', at most 24) + "." + 16 hex digits of a hash of the full name. The dot never
// appears in the first form, so two networks never share a table.
std::string table_name(std::string_view prefix, std::string_view network);

// FNV-1a, 64 bits: short stable names and tags, not security.
uint64_t hash64(std::string_view s);
std::string hex16(uint64_t v);

// A link name as the kernel accepts it (1..15 bytes, no '/', ':', whitespace, not "." or "..")
// and quotable; EINVAL otherwise.
Result<std::string> quote_ifname(std::string_view name);
// "aa:bb:cc:dd:ee:ff" (any case) in lower case; EINVAL for anything else.
Result<std::string> normalize_mac(std::string_view mac);

}  // namespace berth::net::nft

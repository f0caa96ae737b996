// Linux capability names by number, as process.capabilities spells them: one table for the
// runtime (resolving a config's names to bits) and the engine (the names it writes).
#pragma once

#include <optional>
#include <string_view>

namespace berth::oci {

// The highest capability number berth knows (CAP_CHECKPOINT_RESTORE).
inline constexpr int kLastKnownCap = 40;

// "CAP_CHOWN" for 0; nullptr outside 0..kLastKnownCap.
const char* cap_name(int cap);
// 0 for "CAP_CHOWN"; nullopt for a name not in the table.
std::optional<int> cap_from_name(std::string_view name);

}  // namespace berth::oci

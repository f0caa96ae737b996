// Helpers shared by the fuzz targets: an invariant that aborts (so libFuzzer records a crash
// with the input) and the rule that a parser rejects bad input only with EINVAL.
#pragma once

#include <cerrno>
#include <cstdlib>

namespace berth::fuzz {

inline void expect(bool invariant) {
    if (!invariant) std::abort();
}

// Every parse failure of outside input is a user error; any other errno means a bug.
template <typename R>
void expect_clean_error(const R& r, int allowed = EINVAL) {
    if (!r.ok()) expect(r.error().errno_value() == allowed && !r.error().message().empty());
}

}  // namespace berth::fuzz

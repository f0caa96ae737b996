#pragma once

#include <string>

namespace berth {
// The current UTC time as RFC 3339 with nanoseconds: what runc writes in logs and state.
std::string now_rfc3339();
}  // namespace berth

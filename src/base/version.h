#pragma once

namespace berth {
const char* version();
const char* commit();
}  // namespace berth

// docker's --detach-keys: a sequence of keys that, typed on an attached terminal, detaches
// from the container instead of reaching it ("ctrl-p,ctrl-q" by default).
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

namespace berth::engine {

inline constexpr const char kDefaultDetachKeys[] = "ctrl-p,ctrl-q";

// Comma-separated keys: a single character (`a`, `,` is not one) or `ctrl-X` for X in a-z,
// @, [, \, ], ^, _. Empty text: no detach sequence. EINVAL naming the bad key otherwise.
Result<std::string> parse_detach_keys(std::string_view text);

// Scans what is typed for the sequence, byte by byte, holding back a partial match (docker
// does too) until the next byte tells whether it is the sequence or ordinary input.
class DetachKeyMatcher {
  public:
    explicit DetachKeyMatcher(std::string keys) : keys_(std::move(keys)) {}

    // Feeds input; `out` gets what must go to the container. True once the whole sequence was
    // typed: the rest of `input` is dropped.
    bool feed(std::string_view input, std::string& out);
    // What is held back (a partial sequence at our stdin's end goes to the container).
    std::string_view pending() const { return std::string_view(keys_).substr(0, matched_); }

  private:
    std::string keys_;
    size_t matched_ = 0;
};

}  // namespace berth::engine

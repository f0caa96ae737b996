#include "engine/detach_keys.h"

#include <cctype>

#include "base/strings.h"

namespace berth::engine {

Result<std::string> parse_detach_keys(std::string_view text) {
    std::string keys;
    if (text.empty()) return keys;
    for (const auto& key : split(text, ',')) {
        std::string lower = key;
        for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        if (key.size() == 1) {
            keys += key[0];
        } else if (lower.size() == 6 && lower.starts_with("ctrl-")) {
            char c = lower[5];
            if (c >= 'a' && c <= 'z') {
                keys += static_cast<char>(c - 'a' + 1);
            } else if (c == '@' || c == '[' || c == '\\' || c == ']' || c == '^' || c == '_') {
                keys += static_cast<char>(c == '@' ? 0 : c - '@');
            } else {
                return Error(EINVAL) << "--detach-keys: invalid key `" << key << "`";
            }
        } else {
            return Error(EINVAL) << "--detach-keys: invalid key `" << key
                                 << "` (a character or ctrl-<a-z,@,[,\\,],^,_>)";
        }
    }
    return keys;
}

bool DetachKeyMatcher::feed(std::string_view input, std::string& out) {
    if (keys_.empty()) {
        out.append(input);
        return false;
    }
    for (char c : input) {
        if (c == keys_[matched_]) {
            if (++matched_ == keys_.size()) {
                matched_ = 0;
                return true;
            }
            continue;
        }
        // Not the sequence after all: what was held back is input, and this byte may start
        // the sequence again.
        out.append(keys_, 0, matched_);
        matched_ = 0;
        if (c == keys_[0]) {
            if (keys_.size() == 1) return true;
            matched_ = 1;
        } else {
            out += c;
        }
    }
    return false;
}

}  // namespace berth::engine

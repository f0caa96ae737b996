#include "cli/runtime/args.h"

#include <cstdlib>

#include "base/strings.h"

namespace berth::cli {
namespace {

// The aliases of one spec: "bundle,b" gives {"bundle", "b"}.
bool spec_has_name(const FlagSpec& spec, std::string_view name) {
    std::string_view rest = spec.names;
    while (!rest.empty()) {
        size_t comma = rest.find(',');
        std::string_view alias = trim(rest.substr(0, comma));
        if (alias == name) return true;
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 1);
    }
    return false;
}

std::string canonical_name(const FlagSpec& spec) {
    return std::string(trim(spec.names.substr(0, spec.names.find(','))));
}

const FlagSpec* find_spec(std::span<const FlagSpec> specs, std::string_view name) {
    for (const auto& s : specs) {
        if (spec_has_name(s, name)) return &s;
    }
    return nullptr;
}

bool is_help_name(std::string_view name) {
    return name == "h" || name == "help";
}

// "-dt" as "-d -t" when every letter is a one-letter bool flag (urfave/cli's short-option
// handling); anything else stays unknown.
bool expand_short_bools(std::string_view letters, std::span<const FlagSpec> specs,
                        std::vector<const FlagSpec*>& out) {
    if (letters.size() < 2) return false;
    for (char c : letters) {
        const FlagSpec* s = find_spec(specs, std::string_view(&c, 1));
        if (s == nullptr || s->kind != FlagKind::Bool) return false;
        out.push_back(s);
    }
    return true;
}

}  // namespace

bool ParsedArgs::has(std::string_view name) const {
    return values_.find(name) != values_.end();
}

bool ParsedArgs::flag(std::string_view name) const {
    auto it = values_.find(name);
    return it != values_.end() && !it->second.empty() && it->second.back() == "true";
}

std::optional<std::string> ParsedArgs::value(std::string_view name) const {
    auto it = values_.find(name);
    if (it == values_.end() || it->second.empty()) return std::nullopt;
    return it->second.back();
}

std::string ParsedArgs::value_or(std::string_view name, std::string_view fallback) const {
    auto v = value(name);
    return v ? *v : std::string(fallback);
}

std::vector<std::string> ParsedArgs::values(std::string_view name) const {
    auto it = values_.find(name);
    return it == values_.end() ? std::vector<std::string>{} : it->second;
}

Result<ParsedArgs> parse_args(std::span<const std::string> args, std::span<const FlagSpec> specs,
                              Positionals mode) {
    ParsedArgs out;
    for (size_t i = 0; i < args.size(); i++) {
        const std::string& arg = args[i];
        if (arg == "--") {
            out.positional_.insert(out.positional_.end(), args.begin() + i + 1, args.end());
            break;
        }
        if (arg.size() < 2 || arg[0] != '-') {
            if (mode == Positionals::StopAtFirst) {
                out.positional_.insert(out.positional_.end(), args.begin() + i, args.end());
                break;
            }
            out.positional_.push_back(arg);
            continue;
        }
        std::string_view body = arg;
        body.remove_prefix(body[1] == '-' ? 2 : 1);
        if (body.empty() || body[0] == '-' || body[0] == '=') {
            return Error() << "bad flag syntax: " << arg;
        }
        std::string_view name = body;
        std::optional<std::string> inline_value;
        if (size_t eq = body.find('='); eq != std::string_view::npos) {
            name = body.substr(0, eq);
            inline_value = std::string(body.substr(eq + 1));
        }
        const FlagSpec* spec = find_spec(specs, name);
        if (spec == nullptr) {
            // urfave/cli leaves an unknown dash-word after the positionals in place
            // (`kill id -9` reaches the signal parser), so only fail before them.
            if (!out.positional_.empty()) {
                out.positional_.push_back(arg);
                continue;
            }
            if (is_help_name(name)) {
                out.help_ = true;
                continue;
            }
            std::vector<const FlagSpec*> bools;
            if (arg[1] != '-' && !inline_value && expand_short_bools(name, specs, bools)) {
                for (const FlagSpec* b : bools) out.values_[canonical_name(*b)].push_back("true");
                continue;
            }
            return Error() << "flag provided but not defined: -" << name;
        }
        std::string key = canonical_name(*spec);
        if (spec->kind == FlagKind::Bool) {
            std::string v = "true";
            if (inline_value) {
                auto b = parse_go_bool(*inline_value);
                if (!b) {
                    return Error() << "invalid boolean value \"" << *inline_value << "\" for -"
                                   << name << ": parse error";
                }
                v = *b ? "true" : "false";
            }
            out.values_[key] = {v};
            continue;
        }
        std::string v;
        if (inline_value) {
            v = *inline_value;
        } else if (i + 1 < args.size()) {
            v = args[++i];
        } else {
            return Error() << "flag needs an argument: -" << name;
        }
        auto& slot = out.values_[key];
        if (spec->kind == FlagKind::Value) slot.clear();
        slot.push_back(std::move(v));
    }
    return out;
}

Result<void> require_exact_args(const ParsedArgs& a, std::string_view verb, size_t n) {
    if (a.positional().size() != n) {
        return Error() << '"' << verb << "\" requires exactly " << n << " argument(s)";
    }
    return {};
}

Result<void> require_min_args(const ParsedArgs& a, std::string_view verb, size_t n) {
    if (a.positional().size() < n) {
        return Error() << '"' << verb << "\" requires a minimum of " << n << " argument(s)";
    }
    return {};
}

Result<void> require_max_args(const ParsedArgs& a, std::string_view verb, size_t n) {
    if (a.positional().size() > n) {
        return Error() << '"' << verb << "\" requires a maximum of " << n << " argument(s)";
    }
    return {};
}

Result<std::optional<int64_t>> int_flag(const ParsedArgs& a, std::string_view name) {
    auto v = a.value(name);
    if (!v) return std::optional<int64_t>();
    auto n = parse_number<int64_t>(*v);
    if (!n) return Error() << "invalid value \"" << *v << "\" for flag -" << name;
    return std::optional<int64_t>(*n);
}

Result<std::optional<uint64_t>> uint_flag(const ParsedArgs& a, std::string_view name) {
    auto v = a.value(name);
    if (!v) return std::optional<uint64_t>();
    auto n = parse_number<uint64_t>(*v);
    if (!n) return Error() << "invalid value \"" << *v << "\" for flag -" << name;
    return std::optional<uint64_t>(*n);
}

std::string flags_help(std::span<const FlagSpec> specs) {
    std::string out;
    for (const auto& s : specs) {
        std::string line = "   ";
        std::string_view rest = s.names;
        bool first = true;
        while (!rest.empty()) {
            size_t comma = rest.find(',');
            std::string_view alias = trim(rest.substr(0, comma));
            if (!first) line += ", ";
            line += alias.size() == 1 ? "-" : "--";
            line += alias;
            first = false;
            if (comma == std::string_view::npos) break;
            rest.remove_prefix(comma + 1);
        }
        if (s.kind != FlagKind::Bool) line += " value";
        if (line.size() < 34) line.resize(34, ' ');
        line += ' ';
        line += s.help;
        out += line;
        out += '\n';
    }
    return out;
}

std::optional<bool> parse_go_bool(std::string_view s) {
    if (s == "1" || s == "t" || s == "T" || s == "TRUE" || s == "true" || s == "True") {
        return true;
    }
    if (s == "0" || s == "f" || s == "F" || s == "FALSE" || s == "false" || s == "False") {
        return false;
    }
    return std::nullopt;
}

std::optional<std::chrono::nanoseconds> parse_go_duration(std::string_view s) {
    using u128 = unsigned __int128;
    bool negative = false;
    if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
        negative = s[0] == '-';
        s.remove_prefix(1);
    }
    if (s == "0") return std::chrono::nanoseconds(0);
    if (s.empty()) return std::nullopt;
    constexpr u128 kMax = static_cast<u128>(1) << 63;  // |INT64_MIN|
    u128 total = 0;
    while (!s.empty()) {
        uint64_t whole = 0, frac = 0, scale = 1;
        size_t digits = 0;
        bool frac_overflow = false;
        while (!s.empty() && s[0] >= '0' && s[0] <= '9') {
            if (whole > (UINT64_MAX - 9) / 10) return std::nullopt;
            whole = whole * 10 + static_cast<uint64_t>(s[0] - '0');
            s.remove_prefix(1);
            digits++;
        }
        if (!s.empty() && s[0] == '.') {
            s.remove_prefix(1);
            while (!s.empty() && s[0] >= '0' && s[0] <= '9') {
                // Digits past what 64 bits hold cannot change a nanosecond count.
                if (!frac_overflow && scale <= UINT64_MAX / 10 && frac <= (UINT64_MAX - 9) / 10) {
                    frac = frac * 10 + static_cast<uint64_t>(s[0] - '0');
                    scale *= 10;
                } else {
                    frac_overflow = true;
                }
                s.remove_prefix(1);
                digits++;
            }
        }
        if (digits == 0) return std::nullopt;
        size_t unit_len = 0;
        while (unit_len < s.size() && s[unit_len] != '.' &&
               (s[unit_len] < '0' || s[unit_len] > '9')) {
            unit_len++;
        }
        std::string_view unit = s.substr(0, unit_len);
        s.remove_prefix(unit_len);
        uint64_t unit_ns;
        if (unit == "ns") {
            unit_ns = 1;
        } else if (unit == "us" || unit == "\xc2\xb5s" || unit == "\xce\xbcs") {
            unit_ns = 1000;
        } else if (unit == "ms") {
            unit_ns = 1000 * 1000;
        } else if (unit == "s") {
            unit_ns = 1000 * 1000 * 1000;
        } else if (unit == "m") {
            unit_ns = 60ull * 1000 * 1000 * 1000;
        } else if (unit == "h") {
            unit_ns = 3600ull * 1000 * 1000 * 1000;
        } else {
            return std::nullopt;  // missing or unknown unit
        }
        u128 part = static_cast<u128>(whole) * unit_ns;
        part += static_cast<u128>(frac) * unit_ns / scale;
        total += part;
        if (total > kMax) return std::nullopt;
    }
    if (!negative && total == kMax) return std::nullopt;
    auto ns = static_cast<int64_t>(negative ? -static_cast<__int128>(total)
                                            : static_cast<__int128>(total));
    return std::chrono::nanoseconds(ns);
}

std::optional<int64_t> parse_ram_in_bytes(std::string_view s) {
    size_t i = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') i++;
    if (i == 0) return std::nullopt;
    if (i < s.size() && s[i] == '.') {
        size_t frac_start = ++i;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9') i++;
        if (i == frac_start) return std::nullopt;
    }
    std::string number(s.substr(0, i));
    std::string_view suffix = s.substr(i);
    if (!suffix.empty() && suffix[0] == ' ') suffix.remove_prefix(1);
    long double multiplier = 1;
    if (!suffix.empty()) {
        switch (suffix[0]) {
            case 'k':
            case 'K':
                multiplier = 1024.0L;
                break;
            case 'm':
            case 'M':
                multiplier = 1024.0L * 1024;
                break;
            case 'g':
            case 'G':
                multiplier = 1024.0L * 1024 * 1024;
                break;
            case 't':
            case 'T':
                multiplier = 1024.0L * 1024 * 1024 * 1024;
                break;
            case 'p':
            case 'P':
                multiplier = 1024.0L * 1024 * 1024 * 1024 * 1024;
                break;
            default:
                break;
        }
        if (multiplier != 1) suffix.remove_prefix(1);
    }
    if (!suffix.empty() && (suffix[0] == 'i' || suffix[0] == 'I')) suffix.remove_prefix(1);
    if (!suffix.empty() && (suffix[0] == 'b' || suffix[0] == 'B')) suffix.remove_prefix(1);
    if (!suffix.empty()) return std::nullopt;
    long double bytes = std::strtold(number.c_str(), nullptr) * multiplier;
    if (bytes >= 9223372036854775807.0L) return std::nullopt;
    return static_cast<int64_t>(bytes);
}

}  // namespace berth::cli

// A tiny flag parser with the rules of Go's flag package as urfave/cli v1 drives it for runc:
// "-name" and "--name" are the same flag, values come as "--name value" or "--name=value",
// booleans take only the "=" form ("--detach=false"), "--" ends the flags. Unknown flags are
// usage errors. By default a known flag may also follow the positional arguments (urfave/cli
// moves it to the front); exec and ps stop at the first positional instead, so that the
// command line they pass on keeps its own dashes.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace berth::cli {

enum class FlagKind {
    Bool,   // present or --name=true|false
    Value,  // one value; the last one given wins
    List,   // repeatable; every value kept in order
};

struct FlagSpec {
    std::string_view names;  // comma-separated aliases, canonical first: "bundle,b"
    FlagKind kind;
    std::string_view help;
};

enum class Positionals {
    Interspersed,  // known flags are taken wherever they appear before "--"
    StopAtFirst,   // the first positional and everything after it are positional
};

class ParsedArgs {
  public:
    // Lookups take the canonical (first) name.
    bool has(std::string_view name) const;
    // A bool flag's value: false when absent.
    bool flag(std::string_view name) const;
    std::optional<std::string> value(std::string_view name) const;
    std::string value_or(std::string_view name, std::string_view fallback) const;
    std::vector<std::string> values(std::string_view name) const;
    const std::vector<std::string>& positional() const { return positional_; }
    // -h, -help or --help was given (and no flag of that name is defined).
    bool help() const { return help_; }

  private:
    friend Result<ParsedArgs> parse_args(std::span<const std::string>, std::span<const FlagSpec>,
                                         Positionals);
    std::map<std::string, std::vector<std::string>, std::less<>> values_;
    std::vector<std::string> positional_;
    bool help_ = false;
};

Result<ParsedArgs> parse_args(std::span<const std::string> args, std::span<const FlagSpec> specs,
                              Positionals mode = Positionals::Interspersed);

// Argument-count checks with runc's wording: "\"start\" requires exactly 1 argument(s)".
Result<void> require_exact_args(const ParsedArgs& a, std::string_view verb, size_t n);
Result<void> require_min_args(const ParsedArgs& a, std::string_view verb, size_t n);
Result<void> require_max_args(const ParsedArgs& a, std::string_view verb, size_t n);

// A numeric flag's value, nullopt when absent; a malformed value is an error naming the flag.
Result<std::optional<int64_t>> int_flag(const ParsedArgs& a, std::string_view name);
Result<std::optional<uint64_t>> uint_flag(const ParsedArgs& a, std::string_view name);

// One line per flag, for `<verb> --help`.
std::string flags_help(std::span<const FlagSpec> specs);

// strconv.ParseBool: 1 t T TRUE true True 0 f F FALSE false False.
std::optional<bool> parse_go_bool(std::string_view s);
// time.ParseDuration: "300ms", "1.5h", "2h45m", "-1s"; units ns us µs ms s m h.
std::optional<std::chrono::nanoseconds> parse_go_duration(std::string_view s);
// docker/go-units RAMInBytes: "1024", "100m", "1.5g", "2GiB", "64 kb"; binary multiples.
std::optional<int64_t> parse_ram_in_bytes(std::string_view s);

}  // namespace berth::cli

// libFuzzer target for the command-line parsers of berth-runtime (src/cli/runtime/args.h): the
// flag parser with runc's flag tables, and the value parsers for booleans, Go durations and
// memory sizes. Pure functions: no side effects to stub.
//
// Input: one argument per line. A first line naming "exec" or "update" picks that verb's flag
// table (exec also stops at its first positional, as the verb does); anything else uses create's.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/strings.h"
#include "cli/runtime/args.h"
#include "fuzz_util.h"

using berth::fuzz::expect;
using namespace berth::cli;

namespace {

// Copies of the verbs' tables (their own live in files that need the whole runtime); the parser's
// behaviour depends only on names and kinds.
constexpr FlagSpec kCreateFlags[] = {
    {"bundle,b", FlagKind::Value, ""},      {"console-socket", FlagKind::Value, ""},
    {"pid-file", FlagKind::Value, ""},      {"no-pivot", FlagKind::Bool, ""},
    {"no-new-keyring", FlagKind::Bool, ""}, {"preserve-fds", FlagKind::Value, ""},
    {"detach,d", FlagKind::Bool, ""},       {"keep", FlagKind::Bool, ""},
};
constexpr FlagSpec kExecFlags[] = {
    {"console-socket", FlagKind::Value, ""}, {"cwd", FlagKind::Value, ""},
    {"env,e", FlagKind::List, ""},           {"tty,t", FlagKind::Bool, ""},
    {"user,u", FlagKind::Value, ""},         {"additional-gids,g", FlagKind::List, ""},
    {"process,p", FlagKind::Value, ""},      {"detach,d", FlagKind::Bool, ""},
    {"pid-file", FlagKind::Value, ""},       {"no-new-privs", FlagKind::Bool, ""},
    {"cap,c", FlagKind::List, ""},           {"preserve-fds", FlagKind::Value, ""},
    {"ignore-paused", FlagKind::Bool, ""},
};
constexpr FlagSpec kUpdateFlags[] = {
    {"resources,r", FlagKind::Value, ""}, {"blkio-weight", FlagKind::Value, ""},
    {"cpu-period", FlagKind::Value, ""},  {"cpu-quota", FlagKind::Value, ""},
    {"cpu-idle", FlagKind::Value, ""},    {"cpuset-cpus", FlagKind::Value, ""},
    {"memory", FlagKind::Value, ""},      {"memory-swap", FlagKind::Value, ""},
    {"pids-limit", FlagKind::Value, ""},  {"interval", FlagKind::Value, ""},
};

// time.Duration.String()'s shape without its unit choice: "[-]<h>h<m>m<s>.<9 digits>s".
std::string format_duration(std::chrono::nanoseconds d) {
    int64_t ns = d.count();
    uint64_t abs = ns < 0 ? 0 - static_cast<uint64_t>(ns) : static_cast<uint64_t>(ns);
    std::string frac = std::to_string(abs % 1000000000);
    frac.insert(0, 9 - frac.size(), '0');
    uint64_t secs = abs / 1000000000;
    return std::string(ns < 0 ? "-" : "") + std::to_string(secs / 3600) + "h" +
           std::to_string(secs / 60 % 60) + "m" + std::to_string(secs % 60) + "." + frac + "s";
}

void check_value_parsers(std::string_view s) {
    if (auto d = parse_go_duration(s)) {
        // A parsed duration written out in full parses back to itself.
        auto again = parse_go_duration(format_duration(*d));
        expect(again && *again == *d);
    }
    if (auto b = parse_go_bool(s)) expect(parse_go_bool(*b ? "true" : "false") == b);
    if (auto bytes = parse_ram_in_bytes(s)) {
        expect(*bytes >= 0);
        // A plain byte count that fits is taken exactly.
        if (s.size() <= 18 && s.find_first_not_of("0123456789") == std::string_view::npos)
            expect(berth::parse_number<int64_t>(s) == bytes);
    }
}

void use(const ParsedArgs& a, std::span<const FlagSpec> specs) {
    for (const FlagSpec& spec : specs) {
        std::string_view name = spec.names.substr(0, spec.names.find(','));
        if (spec.kind == FlagKind::Bool) {
            expect(!a.flag(name) || a.has(name));
            continue;
        }
        auto v = a.value(name);
        expect(!v || a.has(name));
        if (spec.kind == FlagKind::Value) expect(a.values(name).size() <= 1);
        (void)a.value_or(name, "fallback");
        (void)int_flag(a, name);
        (void)uint_flag(a, name);
        if (v) check_value_parsers(*v);
    }
    (void)require_exact_args(a, "verb", 1);
    (void)require_min_args(a, "verb", 1);
    (void)require_max_args(a, "verb", 1);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    std::vector<std::string> args;
    for (size_t start = 0; start <= text.size();) {
        size_t nl = text.find('\n', start);
        if (nl == std::string_view::npos) nl = text.size();
        args.emplace_back(text.substr(start, nl - start));
        start = nl + 1;
    }
    std::span<const FlagSpec> specs = kCreateFlags;
    auto mode = Positionals::Interspersed;
    if (args[0] == "exec") {
        specs = kExecFlags;
        mode = Positionals::StopAtFirst;
    } else if (args[0] == "update") {
        specs = kUpdateFlags;
    }
    for (const std::string& arg : args) check_value_parsers(arg);
    auto parsed = parse_args(std::span<const std::string>(args).subspan(1), specs, mode);
    if (parsed.ok())
        use(*parsed, specs);
    else
        expect(!parsed.error().message().empty());
    (void)flags_help(specs);
    return 0;
}

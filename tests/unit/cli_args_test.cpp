// berth-runtime's flag parser and the value parsers behind its flags (no root needed).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cli/runtime/args.h"

namespace berth::cli {
namespace {

using namespace std::chrono_literals;

constexpr FlagSpec kSpecs[] = {
    {"bundle,b", FlagKind::Value, ""}, {"detach,d", FlagKind::Bool, ""},
    {"tty,t", FlagKind::Bool, ""},     {"env,e", FlagKind::List, ""},
    {"pid-file", FlagKind::Value, ""},
};

Result<ParsedArgs> parse(std::vector<std::string> args,
                         Positionals mode = Positionals::Interspersed) {
    return parse_args(args, kSpecs, mode);
}

TEST(CliArgs, LongShortAndEqualsForms) {
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"--bundle", "/b", "id"},
             {"--bundle=/b", "id"},
             {"-bundle", "/b", "id"},
             {"-bundle=/b", "id"},
             {"-b", "/b", "id"},
             {"--b=/b", "id"},
         }) {
        auto r = parse(args);
        ASSERT_TRUE(r.ok()) << r.error().what();
        EXPECT_EQ(r->value("bundle"), "/b");
        EXPECT_EQ(r->positional(), std::vector<std::string>{"id"});
    }
}

TEST(CliArgs, ValueMayStartWithDashAndMayBeEmpty) {
    auto r = parse({"--pid-file", "-weird", "--bundle=", "id"});
    ASSERT_TRUE(r.ok()) << r.error().what();
    EXPECT_EQ(r->value("pid-file"), "-weird");
    EXPECT_EQ(r->value("bundle"), "");
    EXPECT_TRUE(r->has("bundle"));
}

TEST(CliArgs, LastValueWinsListsKeepAll) {
    auto r = parse({"-b", "one", "-b", "two", "-e", "A=1", "--env=B=2", "--env", "C=3", "id"});
    ASSERT_TRUE(r.ok()) << r.error().what();
    EXPECT_EQ(r->value("bundle"), "two");
    EXPECT_EQ(r->values("env"), (std::vector<std::string>{"A=1", "B=2", "C=3"}));
    EXPECT_TRUE(r->values("tty").empty());
}

TEST(CliArgs, BoolFlags) {
    auto r = parse({"-d", "--tty=false", "id"});
    ASSERT_TRUE(r.ok()) << r.error().what();
    EXPECT_TRUE(r->flag("detach"));
    EXPECT_FALSE(r->flag("tty"));
    EXPECT_TRUE(r->has("tty"));  // given, even though false
    EXPECT_FALSE(r->has("bundle"));

    // A bool takes only the "=" form: the next word stays positional.
    r = parse({"--detach", "false"});
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r->flag("detach"));
    EXPECT_EQ(r->positional(), std::vector<std::string>{"false"});

    r = parse({"--detach=maybe"});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().what(), "invalid boolean value \"maybe\" for -detach: parse error");
}

TEST(CliArgs, CombinedShortBools) {
    auto r = parse({"-dt", "id"});
    ASSERT_TRUE(r.ok()) << r.error().what();
    EXPECT_TRUE(r->flag("detach"));
    EXPECT_TRUE(r->flag("tty"));
    // Not every letter a bool flag: unknown.
    EXPECT_FALSE(parse({"-db", "id"}).ok());
}

TEST(CliArgs, UnknownFlagIsAnErrorNamingIt) {
    auto r = parse({"--bogus", "id"});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().what(), "flag provided but not defined: -bogus");
    r = parse({"-x=1"});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().what(), "flag provided but not defined: -x");
}

TEST(CliArgs, MissingValueAndBadSyntax) {
    auto r = parse({"id", "--bundle"});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().what(), "flag needs an argument: -bundle");
    r = parse({"---bundle", "x"});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().what(), "bad flag syntax: ---bundle");
}

TEST(CliArgs, DoubleDashEndsFlags) {
    auto r = parse({"-d", "--", "--bundle", "x"});
    ASSERT_TRUE(r.ok()) << r.error().what();
    EXPECT_FALSE(r->has("bundle"));
    EXPECT_EQ(r->positional(), (std::vector<std::string>{"--bundle", "x"}));
}

TEST(CliArgs, SingleDashIsPositional) {
    auto r = parse({"-", "id"});
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->positional(), (std::vector<std::string>{"-", "id"}));
}

TEST(CliArgs, InterspersedTakesKnownFlagsAfterPositionals) {
    // urfave/cli v1 moves known flags in front: `delete id --force` works with runc 1.1.
    auto r = parse({"id", "-d", "--bundle", "/b"});
    ASSERT_TRUE(r.ok()) << r.error().what();
    EXPECT_TRUE(r->flag("detach"));
    EXPECT_EQ(r->value("bundle"), "/b");
    EXPECT_EQ(r->positional(), std::vector<std::string>{"id"});
    // An unknown dash-word after a positional stays positional (`kill id -9`).
    r = parse({"id", "-9"});
    ASSERT_TRUE(r.ok()) << r.error().what();
    EXPECT_EQ(r->positional(), (std::vector<std::string>{"id", "-9"}));
}

TEST(CliArgs, StopAtFirstKeepsTheCommandIntact) {
    auto r = parse({"-t", "-e", "A=1", "id", "sh", "-c", "echo -d --bundle x", "-d"},
                   Positionals::StopAtFirst);
    ASSERT_TRUE(r.ok()) << r.error().what();
    EXPECT_TRUE(r->flag("tty"));
    EXPECT_FALSE(r->flag("detach"));
    EXPECT_EQ(r->positional(),
              (std::vector<std::string>{"id", "sh", "-c", "echo -d --bundle x", "-d"}));
}

TEST(CliArgs, Help) {
    auto r = parse({"--help"});
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r->help());
    r = parse({"-h"});
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r->help());
    r = parse({"id"});
    ASSERT_TRUE(r.ok());
    EXPECT_FALSE(r->help());
}

TEST(CliArgs, ArgumentCountMessages) {
    auto r = parse({});
    ASSERT_TRUE(r.ok());
    auto e = require_exact_args(*r, "start", 1);
    ASSERT_FALSE(e.ok());
    EXPECT_EQ(e.error().what(), "\"start\" requires exactly 1 argument(s)");
    e = require_min_args(*r, "exec", 1);
    ASSERT_FALSE(e.ok());
    EXPECT_EQ(e.error().what(), "\"exec\" requires a minimum of 1 argument(s)");
    r = parse({"a", "b", "c"});
    ASSERT_TRUE(r.ok());
    e = require_max_args(*r, "kill", 2);
    ASSERT_FALSE(e.ok());
    EXPECT_EQ(e.error().what(), "\"kill\" requires a maximum of 2 argument(s)");
    EXPECT_TRUE(require_exact_args(*r, "x", 3).ok());
}

TEST(CliArgs, NumericFlags) {
    constexpr FlagSpec specs[] = {{"preserve-fds", FlagKind::Value, ""},
                                  {"cpu-quota", FlagKind::Value, ""}};
    std::vector<std::string> args = {"--preserve-fds=3", "--cpu-quota", "-5"};
    auto r = parse_args(args, specs);
    ASSERT_TRUE(r.ok()) << r.error().what();
    auto fds = uint_flag(*r, "preserve-fds");
    ASSERT_TRUE(fds.ok());
    EXPECT_EQ(*fds, std::optional<uint64_t>(3));
    auto quota = int_flag(*r, "cpu-quota");
    ASSERT_TRUE(quota.ok());
    EXPECT_EQ(*quota, std::optional<int64_t>(-5));
    EXPECT_FALSE(uint_flag(*r, "cpu-quota").ok());
    auto absent = int_flag(parse({}).value(), "bundle");
    ASSERT_TRUE(absent.ok());
    EXPECT_FALSE(absent->has_value());
}

TEST(CliArgs, FlagsHelpListsAliases) {
    std::string help = flags_help(kSpecs);
    EXPECT_NE(help.find("--bundle, -b value"), std::string::npos) << help;
    EXPECT_NE(help.find("--detach, -d"), std::string::npos) << help;
}

TEST(GoBool, Values) {
    for (const char* t : {"1", "t", "T", "TRUE", "true", "True"}) EXPECT_EQ(parse_go_bool(t), true);
    for (const char* f : {"0", "f", "F", "FALSE", "false", "False"}) {
        EXPECT_EQ(parse_go_bool(f), false);
    }
    for (const char* bad : {"", "yes", "tRUE", "2"}) EXPECT_EQ(parse_go_bool(bad), std::nullopt);
}

TEST(GoDuration, Valid) {
    EXPECT_EQ(parse_go_duration("5s"), std::chrono::nanoseconds(5s));
    EXPECT_EQ(parse_go_duration("500ms"), std::chrono::nanoseconds(500ms));
    EXPECT_EQ(parse_go_duration("0"), std::chrono::nanoseconds(0));
    EXPECT_EQ(parse_go_duration("1h2m3s"), std::chrono::nanoseconds(1h + 2min + 3s));
    EXPECT_EQ(parse_go_duration("1.5h"), std::chrono::nanoseconds(90min));
    EXPECT_EQ(parse_go_duration(".5s"), std::chrono::nanoseconds(500ms));
    EXPECT_EQ(parse_go_duration("1.s"), std::chrono::nanoseconds(1s));
    EXPECT_EQ(parse_go_duration("10us"), std::chrono::nanoseconds(10us));
    EXPECT_EQ(parse_go_duration("10\xc2\xb5s"), std::chrono::nanoseconds(10us));
    EXPECT_EQ(parse_go_duration("10\xce\xbcs"), std::chrono::nanoseconds(10us));
    EXPECT_EQ(parse_go_duration("7ns"), std::chrono::nanoseconds(7));
    EXPECT_EQ(parse_go_duration("-1.5s"), std::chrono::nanoseconds(-1500ms));
    EXPECT_EQ(parse_go_duration("+2m"), std::chrono::nanoseconds(2min));
    EXPECT_EQ(parse_go_duration("0.000000001s"), std::chrono::nanoseconds(1));
    EXPECT_EQ(parse_go_duration("2562047h"), std::chrono::nanoseconds(2562047h));
}

TEST(GoDuration, Invalid) {
    for (const char* bad : {"", "5", "s", "1x", "1.5", "-", ".s", "1s2", "1 s", "3000000h",
                            "9223372036854775808ns", "18446744073709551616ns"}) {
        EXPECT_EQ(parse_go_duration(bad), std::nullopt) << bad;
    }
    EXPECT_EQ(parse_go_duration("9223372036854775807ns"),
              std::chrono::nanoseconds(9223372036854775807LL));
}

TEST(RamInBytes, Valid) {
    EXPECT_EQ(parse_ram_in_bytes("1024"), 1024);
    EXPECT_EQ(parse_ram_in_bytes("100m"), 100LL << 20);
    EXPECT_EQ(parse_ram_in_bytes("100M"), 100LL << 20);
    EXPECT_EQ(parse_ram_in_bytes("1g"), 1LL << 30);
    EXPECT_EQ(parse_ram_in_bytes("1GiB"), 1LL << 30);
    EXPECT_EQ(parse_ram_in_bytes("1gb"), 1LL << 30);
    EXPECT_EQ(parse_ram_in_bytes("64 kb"), 64LL << 10);
    EXPECT_EQ(parse_ram_in_bytes("1.5g"), 3LL << 29);
    EXPECT_EQ(parse_ram_in_bytes("2t"), 2LL << 40);
    EXPECT_EQ(parse_ram_in_bytes("1p"), 1LL << 50);
    EXPECT_EQ(parse_ram_in_bytes("10b"), 10);
    EXPECT_EQ(parse_ram_in_bytes("0"), 0);
    EXPECT_EQ(parse_ram_in_bytes("1 "), 1);  // go-units' regex allows the lone space
}

TEST(RamInBytes, Invalid) {
    for (const char* bad :
         {"", "m", "-1", "1x", "1.g", "1  m", "1mm", "1.2.3", "10000000p", " 1"}) {
        EXPECT_EQ(parse_ram_in_bytes(bad), std::nullopt) << bad;
    }
}

}  // namespace
}  // namespace berth::cli

// Inputs from fuzzing (scripts/fuzz.sh, fuzz/*_fuzz.cpp) that the parsers must keep rejecting
// cleanly. A crash a fuzzer finds is added here as the exact bytes of its reproducer, next to the
// fix. The cases below are the hostile shapes the fuzz targets' invariants were checked against
// (deep nesting, out-of-range numbers, bad UTF-8, NUL bytes, extreme durations and sizes): the
// JSON readers rely on nlohmann's iterative parser and on their own NUL and range checks, so a
// faster reader must keep these answers.
#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cli/runtime/args.h"
#include "oci/spec.h"
#include "runtime/mount_options.h"

namespace berth {
namespace {

template <size_t N>
std::string_view bytes(const unsigned char (&data)[N]) {
    return {reinterpret_cast<const char*>(data), N};
}

// parse_spec, parse_process and parse_resources all refuse `text` with EINVAL and a message.
void expect_all_json_readers_refuse(std::string_view text) {
    auto spec = oci::parse_spec(text);
    ASSERT_FALSE(spec.ok());
    EXPECT_EQ(spec.error().errno_value(), EINVAL) << spec.error().what();
    EXPECT_FALSE(spec.error().message().empty());
    auto process = oci::parse_process(text);
    ASSERT_FALSE(process.ok());
    EXPECT_EQ(process.error().errno_value(), EINVAL) << process.error().what();
    auto resources = oci::parse_resources(text);
    ASSERT_FALSE(resources.ok());
    EXPECT_EQ(resources.error().errno_value(), EINVAL) << resources.error().what();
}

TEST(FuzzRegressions, DeepNestingIsAnErrorNotAStackOverflow) {
    // Far deeper than a recursive reader survives on an 8 MiB stack.
    constexpr size_t kDepth = 50000;
    expect_all_json_readers_refuse(std::string(kDepth, '[') + std::string(kDepth, ']'));
    expect_all_json_readers_refuse(std::string(kDepth, '['));  // unterminated
    std::string objects;
    for (size_t i = 0; i < kDepth; i++) objects += "{\"a\":";
    expect_all_json_readers_refuse(objects);  // unterminated
    // Well-formed: an unknown member is ignored, however deep.
    auto resources = oci::parse_resources(objects + "1" + std::string(kDepth, '}'));
    EXPECT_TRUE(resources.ok()) << resources.error().what();
    // Nested inside a known field the readers descend into.
    auto process = oci::parse_process("{\"args\":" + std::string(kDepth, '[') +
                                      std::string(kDepth, ']') + ",\"cwd\":\"/\"}");
    ASSERT_FALSE(process.ok());
    EXPECT_EQ(process.error().errno_value(), EINVAL);
}

TEST(FuzzRegressions, EmptyAndTruncatedDocuments) {
    expect_all_json_readers_refuse("");
    expect_all_json_readers_refuse(" \n\t");
    expect_all_json_readers_refuse("{");
    expect_all_json_readers_refuse("{\"args\":[\"a\"],\"cwd\":\"/\"");
    expect_all_json_readers_refuse("{} trailing");
    expect_all_json_readers_refuse("null");
}

TEST(FuzzRegressions, NumbersOutOfRange) {
    // 1e400 overflows a double; 2^64 no longer fits an integer and parses as a float.
    for (const char* number : {"1e400", "-1e400", "18446744073709551616", "1.5", "-0.0", "1e2"}) {
        std::string oom =
            std::string("{\"args\":[\"a\"],\"cwd\":\"/\",\"oomScoreAdj\":") + number + "}";
        auto process = oci::parse_process(oom);
        ASSERT_FALSE(process.ok()) << number;
        EXPECT_EQ(process.error().errno_value(), EINVAL) << number;
        auto resources = oci::parse_resources(std::string("{\"pids\":{\"limit\":") + number + "}}");
        ASSERT_FALSE(resources.ok()) << number;
        EXPECT_EQ(resources.error().errno_value(), EINVAL) << number;
    }
    auto uid = oci::parse_process(R"({"args":["a"],"cwd":"/","user":{"uid":4294967296}})");
    ASSERT_FALSE(uid.ok());
    EXPECT_EQ(uid.error().errno_value(), EINVAL);
    auto rate = oci::parse_resources(
        R"({"blockIO":{"throttleReadBpsDevice":[{"major":-9223372036854775809,"minor":0,"rate":1}]}})");
    ASSERT_FALSE(rate.ok());
    EXPECT_EQ(rate.error().errno_value(), EINVAL);
}

// {"args":["\xff"],"cwd":"/"}: a byte that is not UTF-8.
constexpr unsigned char kInvalidUtf8[] = {'{', '"', 'a',  'r', 'g', 's', '"', ':',
                                          '[', '"', 0xff, '"', ']', ',', '"', 'c',
                                          'w', 'd', '"',  ':', '"', '/', '"', '}'};
// {"args":["a<NUL>"],"cwd":"/"}: a raw NUL inside a string literal.
constexpr unsigned char kRawNul[] = {'{', '"', 'a',  'r', 'g', 's', '"', ':', '[',
                                     '"', 'a', 0x00, '"', ']', ',', '"', 'c', 'w',
                                     'd', '"', ':',  '"', '/', '"', '}'};

TEST(FuzzRegressions, BadBytesInStrings) {
    expect_all_json_readers_refuse(bytes(kInvalidUtf8));
    expect_all_json_readers_refuse(bytes(kRawNul));
    expect_all_json_readers_refuse(R"({"args":["\ud800"],"cwd":"/"})");  // lone surrogate
    // Escaped NULs parse as JSON but must not reach C strings: argv, cgroup file names.
    auto arg = oci::parse_process(R"({"args":["a\u0000b"],"cwd":"/"})");
    ASSERT_FALSE(arg.ok());
    EXPECT_EQ(arg.error().errno_value(), EINVAL);
    auto key = oci::parse_resources(R"({"unified":{"memory.max\u0000x":"1"}})");
    ASSERT_FALSE(key.ok());
    EXPECT_EQ(key.error().errno_value(), EINVAL);
    auto rdma = oci::parse_resources(R"({"rdma":{"mlx\u0000":{"hcaHandles":1}}})");
    ASSERT_FALSE(rdma.ok());
    EXPECT_EQ(rdma.error().errno_value(), EINVAL);
}

TEST(FuzzRegressions, ProcessSurvivesARoundTrip) {
    // Escapes, non-ASCII text and every optional part: to_json() must give back the same process.
    auto p = oci::parse_process(R"({"terminal":true,"consoleSize":{"height":0,"width":4294967295},
        "user":{"uid":4294967295,"gid":0,"umask":0,"additionalGids":[0],"username":""},
        "args":["printf","%s\n","h\u00e9llo \u2603 \"q\" \\ \/"],"commandLine":"",
        "env":["A=","B==","\u00ff=\t"],"cwd":"/d\u00eer",
        "capabilities":{"bounding":[],"ambient":["CAP_SYS_ADMIN"]},
        "rlimits":[{"type":"RLIMIT_CORE","hard":18446744073709551615,"soft":18446744073709551615}],
        "oomScoreAdj":-1000,"scheduler":{"policy":"SCHED_DEADLINE","runtime":1,"deadline":1},
        "ioPriority":{"class":"IOPRIO_CLASS_RT","priority":7},
        "execCPUAffinity":{"initial":"","final":" - ,"}})");
    ASSERT_TRUE(p.ok()) << p.error().what();
    std::string json = oci::to_json(*p);
    auto again = oci::parse_process(json);
    ASSERT_TRUE(again.ok()) << again.error().what() << "\n" << json;
    EXPECT_EQ(oci::to_json(*again), json);
}

TEST(FuzzRegressions, MountOptionsRefuseCleanly) {
    using runtime::parse_mount_options;
    auto empty = parse_mount_options({"nosuid", ""}, "mounts[0].options");
    ASSERT_FALSE(empty.ok());
    EXPECT_EQ(empty.error().errno_value(), EINVAL);
    auto idmap = parse_mount_options({"rbind", "ridmap"}, "mounts[0].options");
    ASSERT_FALSE(idmap.ok());
    EXPECT_EQ(idmap.error().errno_value(), ENOTSUP);
    // Unknown options, odd bytes included, go to the data string as they are.
    auto data = parse_mount_options({"ro", std::string("a\0b", 3), "rw", ",", "mode=1777"},
                                    "mounts[0].options");
    ASSERT_TRUE(data.ok());
    EXPECT_EQ(data->data, std::string("a\0b,,,mode=1777", 15));
    EXPECT_EQ(data->flags & data->clear, 0u);
}

TEST(FuzzRegressions, DurationAndSizeExtremes) {
    using cli::parse_go_duration;
    using cli::parse_ram_in_bytes;
    using std::chrono::nanoseconds;
    EXPECT_EQ(parse_go_duration("-9223372036854775808ns"), nanoseconds(INT64_MIN));
    EXPECT_EQ(parse_go_duration("2562047h47m16.854775807s"), nanoseconds(INT64_MAX));
    EXPECT_EQ(parse_go_duration("2562047h47m16.854775808s"), std::nullopt);
    EXPECT_EQ(parse_go_duration("9223372036854775808ns"), std::nullopt);
    EXPECT_EQ(parse_go_duration("18446744073709551616h"), std::nullopt);
    EXPECT_EQ(parse_go_duration("1." + std::string(400, '9') + "s"), nanoseconds(1999999999));
    EXPECT_EQ(parse_go_duration("."), std::nullopt);
    EXPECT_EQ(parse_go_duration("-"), std::nullopt);
    EXPECT_EQ(parse_go_duration("1"), std::nullopt);
    EXPECT_EQ(parse_ram_in_bytes(std::string(400, '9')), std::nullopt);  // strtold gives inf
    EXPECT_EQ(parse_ram_in_bytes("8589934592g"), std::nullopt);          // 2^63 bytes
    EXPECT_EQ(parse_ram_in_bytes("8589934591g"), int64_t{9223372035781033984});
    EXPECT_EQ(parse_ram_in_bytes("1."), std::nullopt);
    EXPECT_EQ(parse_ram_in_bytes(".5k"), std::nullopt);
}

TEST(FuzzRegressions, FlagParserOddArguments) {
    constexpr cli::FlagSpec kSpecs[] = {{"bundle,b", cli::FlagKind::Value, ""},
                                        {"detach,d", cli::FlagKind::Bool, ""}};
    auto parse = [&](std::vector<std::string> args) { return cli::parse_args(args, kSpecs); };
    for (auto args : std::vector<std::vector<std::string>>{
             {"--="}, {"-="}, {"---"}, {"--b"}, {"-b"}, {"-d=maybe"}, {"-dd=1"}, {"-x"}}) {
        auto r = parse(args);
        EXPECT_FALSE(r.ok()) << args[0];
    }
    auto dash = parse({"-", "--", "-b"});
    ASSERT_TRUE(dash.ok());
    EXPECT_EQ(dash->positional(), (std::vector<std::string>{"-", "-b"}));
    auto empty_value = parse({"--bundle=", "id"});
    ASSERT_TRUE(empty_value.ok());
    EXPECT_EQ(empty_value->value("bundle"), "");
}

}  // namespace
}  // namespace berth

// v1 -> v2 value conversions and the stats file parsers.
#include <gtest/gtest.h>

#include "cgroup/convert.h"
#include "cgroup/stats_parse.h"

namespace berth::cgroup {
namespace {

TEST(CgroupConvert, SharesToWeightTable) {
    // The values runc 1.3.2 / crun 1.23 write (log-quadratic mapping).
    const std::pair<uint64_t, uint64_t> table[] = {
        {0, 0},          {1, 1},          {2, 1},           {3, 2},       {4, 2},
        {10, 4},         {100, 17},       {512, 59},        {1000, 99},   {1024, 100},
        {2000, 170},     {2048, 174},     {4096, 303},      {10240, 639}, {100000, 4340},
        {262143, 10000}, {262144, 10000}, {1000000, 10000},
    };
    for (auto [shares, weight] : table)
        EXPECT_EQ(cpu_shares_to_weight(shares), weight) << "shares " << shares;
}

TEST(CgroupConvert, SharesToWeightIsMonotonic) {
    uint64_t prev = 0;
    for (uint64_t s = 2; s <= 262144; s += 7) {
        uint64_t w = cpu_shares_to_weight(s);
        EXPECT_GE(w, prev) << s;
        EXPECT_GE(w, 1u);
        EXPECT_LE(w, 10000u);
        prev = w;
    }
}

TEST(CgroupConvert, BlkioWeight) {
    EXPECT_EQ(blkio_weight_to_io_weight(0), 0u);
    EXPECT_EQ(blkio_weight_to_io_weight(10), 1u);
    EXPECT_EQ(blkio_weight_to_io_weight(500), 4950u);
    EXPECT_EQ(blkio_weight_to_io_weight(1000), 10000u);
}

std::string swap_of(std::optional<int64_t> limit, std::optional<int64_t> swap) {
    auto r = swap_max_value(limit, swap);
    if (!r) return "error: " + r.error().message();
    return r->value_or("unset");
}

TEST(CgroupConvert, SwapMax) {
    EXPECT_EQ(swap_of(1000, 3000), "2000");
    EXPECT_EQ(swap_of(1000, 1000), "0");
    EXPECT_EQ(swap_of(1000, -1), "max");
    EXPECT_EQ(swap_of(-1, std::nullopt), "max");
    EXPECT_EQ(swap_of(1000, std::nullopt), "unset");
    EXPECT_EQ(swap_of(std::nullopt, std::nullopt), "unset");
    EXPECT_EQ(swap_of(1000, 500).rfind("error: linux.resources.memory.swap", 0), 0u);
    EXPECT_EQ(swap_of(std::nullopt, 500).rfind("error: linux.resources.memory.swap", 0), 0u);
}

TEST(CgroupStatsParse, FlatKeyed) {
    auto kv = parse_flat_keyed("cache 10\nrss 20\n\nbogus\nhierarchical_memory_limit 30\nx y\n");
    EXPECT_EQ(kv.size(), 3u);
    EXPECT_EQ(kv["rss"], 20u);
    EXPECT_EQ(kv["hierarchical_memory_limit"], 30u);
}

TEST(CgroupStatsParse, NumberList) {
    EXPECT_EQ(parse_number_list("1 2 3 \n"), (std::vector<uint64_t>{1, 2, 3}));
    EXPECT_TRUE(parse_number_list("").empty());
}

TEST(CgroupStatsParse, BlkioV1) {
    auto e = parse_blkio_v1(
        "8:0 Read 4096\n8:0 Write 512\n8:0 Sync 0\n8:0 Total 4608\n"
        "Total 4608\n");
    ASSERT_EQ(e.size(), 4u);
    EXPECT_EQ(e[0].major, 8u);
    EXPECT_EQ(e[0].minor, 0u);
    EXPECT_EQ(e[0].op, "Read");
    EXPECT_EQ(e[0].value, 4096u);
    EXPECT_EQ(e[3].op, "Total");
}

TEST(CgroupStatsParse, IoStatV2) {
    auto s = parse_io_stat("259:0 rbytes=100 wbytes=20 rios=3 wios=2 dbytes=0 dios=0\n");
    ASSERT_EQ(s.io_service_bytes.size(), 4u);
    EXPECT_EQ(s.io_service_bytes[0].op, "Read");
    EXPECT_EQ(s.io_service_bytes[0].value, 100u);
    EXPECT_EQ(s.io_service_bytes[0].major, 259u);
    EXPECT_EQ(s.io_service_bytes[3].op, "Total");
    EXPECT_EQ(s.io_service_bytes[3].value, 120u);
    EXPECT_EQ(s.io_serviced[3].value, 5u);
}

TEST(CgroupStatsParse, WorkingSetFloorsAtZero) {
    EXPECT_EQ(working_set(100, 30), 70u);
    EXPECT_EQ(working_set(30, 100), 0u);
    EXPECT_EQ(working_set(0, 0), 0u);
}

TEST(CgroupStatsParse, Ticks) {
    EXPECT_EQ(ticks_to_ns(150, 100), 1500000000u);
    EXPECT_EQ(ticks_to_ns(1, 250), 4000000u);
    // 10^12 ticks * 10^9 overflows 64 bits; the split computation does not.
    EXPECT_EQ(ticks_to_ns(1000000000000ULL, 100), 10000000000000000000ULL);
}

}  // namespace
}  // namespace berth::cgroup

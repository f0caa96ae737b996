// host-local's disk store (net/ipam/disk_store.h) in a temporary directory: the reference's
// file layout, all-or-nothing reservations, and exclusion between concurrent allocators.
#include "net/ipam/disk_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <set>
#include <thread>

#include "base/file.h"
#include "net/ipam/allocator.h"

namespace berth::net::ipam {
namespace {

IpAddr ip(const char* s) {
    return IpAddr::parse(s).value();
}

class DiskStoreTest : public ::testing::Test {
  protected:
    void SetUp() override {
        char tmpl[] = "/tmp/berth-ipam-test.XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        root_ = tmpl;
    }
    void TearDown() override { (void)remove_all(root_); }
    DiskStore open(const std::string& network = "net1") {
        auto s = DiskStore::open(root_, network);
        EXPECT_TRUE(s.ok()) << s.error().what();
        return std::move(s).value();
    }
    std::string file(const std::string& name) {
        auto c = read_file(path_join(root_ + "/net1", name));
        return c.ok() ? *c : "<missing>";
    }
    std::string root_;
};

TEST_F(DiskStoreTest, FileLayoutMatchesTheReference) {
    DiskStore store = open();
    ASSERT_TRUE(store.lock().ok());
    auto r = store.reserve("  ctr1 ", "eth0", ip("10.1.2.2"), "0");
    ASSERT_TRUE(r.ok()) << r.error().what();
    EXPECT_TRUE(*r);
    EXPECT_EQ(file("10.1.2.2"), "ctr1\r\neth0");
    EXPECT_EQ(file("last_reserved_ip.0"), "10.1.2.2");
    ASSERT_TRUE(store.reserve("ctr2", "eth0", ip("fd00::2"), "1").ok());
    EXPECT_EQ(file("fd00::2"), "ctr2\r\neth0");
    EXPECT_EQ(file("last_reserved_ip.1"), "fd00::2");
    // Taken: false, and the holder's record is untouched.
    auto again = store.reserve("ctr3", "eth0", ip("10.1.2.2"), "0");
    ASSERT_TRUE(again.ok());
    EXPECT_FALSE(*again);
    EXPECT_EQ(file("10.1.2.2"), "ctr1\r\neth0");
    EXPECT_EQ(store.last_reserved_ip("0")->value(), ip("10.1.2.2"));
    EXPECT_FALSE(store.last_reserved_ip("7")->has_value());
    store.unlock();

    // A record without ifname (older plugins) and unrelated files.
    ASSERT_TRUE(write_file(root_ + "/net1/10.1.2.9", "old\n", true).ok());
    ASSERT_TRUE(write_file(root_ + "/net1/lock", "", true).ok());
    auto all = store.list();
    ASSERT_TRUE(all.ok());
    ASSERT_EQ(all->size(), 3u);
    auto ids = store.get_by_id("ctr1", "eth0");
    ASSERT_TRUE(ids.ok());
    EXPECT_EQ(*ids, std::vector<IpAddr>{ip("10.1.2.2")});
    EXPECT_EQ(store.get_by_id("old", "")->size(), 1u);

    ASSERT_TRUE(store.release_by_id("ctr1", "eth0").ok());
    EXPECT_EQ(file("10.1.2.2"), "<missing>");
    EXPECT_EQ(store.get_by_id("ctr1", "eth0")->size(), 0u);
    ASSERT_TRUE(store.release_by_id("ctr1", "eth0").ok());  // twice is fine
}

TEST_F(DiskStoreTest, NetworkNameCannotEscapeTheDataDir) {
    for (const char* bad : {"", ".", "..", "a/b", "../x"}) {
        auto s = DiskStore::open(root_, bad);
        ASSERT_FALSE(s.ok()) << bad;
        EXPECT_EQ(s.error().errno_value(), EINVAL);
    }
}

TEST_F(DiskStoreTest, LeftoverTemporaryIsNotAReservation) {
    DiskStore store = open();
    // What a process killed between writing and linking leaves behind.
    ASSERT_TRUE(write_file(root_ + "/net1/.tmp.10.1.2.2", "dead\r\neth0", true).ok());
    ASSERT_TRUE(write_file(root_ + "/net1/last_reserved_ip.0.tmp", "10.1.2.2", true).ok());
    EXPECT_TRUE(store.list()->empty());
    auto r = store.reserve("ctr1", "eth0", ip("10.1.2.2"), "0");
    ASSERT_TRUE(r.ok()) << r.error().what();
    EXPECT_TRUE(*r);
    EXPECT_EQ(file("10.1.2.2"), "ctr1\r\neth0");
    ASSERT_TRUE(store.gc_temporaries().ok());
    EXPECT_FALSE(path_exists(root_ + "/net1/.tmp.10.1.2.2"));
    EXPECT_FALSE(path_exists(root_ + "/net1/last_reserved_ip.0.tmp"));
    EXPECT_TRUE(path_exists(root_ + "/net1/10.1.2.2"));
}

TEST_F(DiskStoreTest, AllocationIsRecordedAndReturnedOrNeither) {
    DiskStore store = open();
    // Make the last_reserved_ip update fail: a directory cannot be replaced by the new file.
    ASSERT_TRUE(mkdir_p(root_ + "/net1/last_reserved_ip.0/x").ok());
    RangeSet set{Range{IpNet::parse("10.1.2.0/24").value()}};
    ASSERT_TRUE(canonicalize(set).ok());
    auto r = allocate_all({set}, store, "ctr1", "eth0");
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().what().find("last_reserved_ip.0"), std::string::npos)
        << r.error().what();
    EXPECT_TRUE(store.list()->empty());  // not recorded either
    ASSERT_TRUE(remove_all(root_ + "/net1/last_reserved_ip.0").ok());
    auto ok = allocate_all({set}, store, "ctr1", "eth0");
    ASSERT_TRUE(ok.ok()) << ok.error().what();
    EXPECT_EQ(ok->at(0).address.str(), "10.1.2.2/24");
    EXPECT_EQ(store.list()->size(), 1u);
}

TEST_F(DiskStoreTest, FillsARangeThenReportsExhaustion) {
    DiskStore store = open();
    RangeSet set{Range{IpNet::parse("10.1.2.0/29").value()}};
    ASSERT_TRUE(canonicalize(set).ok());
    for (int i = 0; i < 5; i++)
        ASSERT_TRUE(allocate_all({set}, store, "c" + std::to_string(i), "eth0").ok());
    auto full = allocate_all({set}, store, "c9", "eth0");
    ASSERT_FALSE(full.ok());
    EXPECT_EQ(full.error().errno_value(), ENOSPC);
    EXPECT_EQ(store.list()->size(), 5u);
    auto released = garbage_collect(store, {{"c1", "eth0"}, {"c3", "eth0"}});
    ASSERT_TRUE(released.ok());
    EXPECT_EQ(released->size(), 3u);
    EXPECT_EQ(store.list()->size(), 2u);
}

TEST_F(DiskStoreTest, ConcurrentAllocatorsNeverShareAnAddress) {
    RangeSet set{Range{IpNet::parse("10.1.0.0/16").value()}};
    ASSERT_TRUE(canonicalize(set).ok());
    constexpr int kThreads = 8, kEach = 25;
    std::vector<std::vector<std::string>> got(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; t++) {
        threads.emplace_back([&, t] {
            // Each thread opens the directory itself: flock excludes open file descriptions,
            // as it does between plugin processes.
            auto store = DiskStore::open(root_, "net1");
            if (!store) return;
            for (int i = 0; i < kEach; i++) {
                auto r = allocate_all({set}, *store, "c" + std::to_string(t * 100 + i), "eth0");
                if (r) got[t].push_back(r->at(0).address.str());
            }
        });
    }
    for (auto& th : threads) th.join();
    std::set<std::string> distinct;
    for (const auto& v : got) {
        EXPECT_EQ(v.size(), static_cast<size_t>(kEach));
        distinct.insert(v.begin(), v.end());
    }
    EXPECT_EQ(distinct.size(), static_cast<size_t>(kThreads * kEach));
    EXPECT_EQ(open().list()->size(), static_cast<size_t>(kThreads * kEach));
}

}  // namespace
}  // namespace berth::net::ipam

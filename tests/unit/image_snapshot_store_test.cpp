// SnapshotStore: publish by rename, nothing left by failed fills, one fill for concurrent
// callers, stale temporaries cleaned; mount_overlay (root only) with few and with 60 layers.
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include "base/file.h"
#include "base/scope_guard.h"
#include "image/snapshot_mount.h"
#include "image/snapshots.h"

namespace berth::image {
namespace {

#define SNAP_ASSERT_OK(expr)                                        \
    do {                                                            \
        auto&& r_ = (expr);                                         \
        ASSERT_TRUE(r_.ok()) << #expr << ": " << r_.error().what(); \
    } while (0)

std::vector<std::string> children(const std::string& dir) {
    std::vector<std::string> out;
    if (DIR* d = ::opendir(dir.c_str())) {
        while (auto* e = ::readdir(d)) {
            std::string n = e->d_name;
            if (n != "." && n != "..") out.push_back(n);
        }
        ::closedir(d);
    }
    std::sort(out.begin(), out.end());
    return out;
}

Digest key(char c) {
    return Digest{"sha256", std::string(64, c)};
}

class ImageSnapshotStore : public ::testing::Test {
  protected:
    void SetUp() override {
        char tmpl[] = "/tmp/berth-snapshot-test.XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        root_ = tmpl;
    }
    void TearDown() override { (void)remove_all(root_); }
    std::string root_;
};

TEST_F(ImageSnapshotStore, EnsureFillsOncePublishesAndLists) {
    auto store = SnapshotStore::open(root_);
    SNAP_ASSERT_OK(store);
    EXPECT_FALSE(store->has(key('a')));
    int fills = 0;
    auto fill = [&](const std::string& tmp) -> Result<void> {
        ++fills;
        EXPECT_NE(tmp, store->dir(key('a')));
        return write_file(tmp + "/hello", "world", true);
    };
    auto dir = store->ensure(key('a'), fill);
    SNAP_ASSERT_OK(dir);
    EXPECT_EQ(*dir, root_ + "/snapshots/" + std::string(64, 'a') + "/fs");
    EXPECT_EQ(*read_file(*dir + "/hello"), "world");
    SNAP_ASSERT_OK(store->ensure(key('a'), fill));
    EXPECT_EQ(fills, 1);
    EXPECT_TRUE(store->has(key('a')));
    SNAP_ASSERT_OK(store->ensure(key('b'), fill));
    auto list = store->list();
    SNAP_ASSERT_OK(list);
    EXPECT_EQ(*list, (std::vector<Digest>{key('a'), key('b')}));
    EXPECT_TRUE(children(root_ + "/snapshots/.tmp").empty());
}

TEST_F(ImageSnapshotStore, FailedFillLeavesNothing) {
    auto store = SnapshotStore::open(root_);
    SNAP_ASSERT_OK(store);
    auto r = store->ensure(key('c'), [](const std::string& tmp) -> Result<void> {
        (void)write_file(tmp + "/partial", "x", true);
        return Error(EPERM) << "layer entry `../x`: refused";
    });
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().errno_value(), EPERM);
    EXPECT_NE(r.error().what().find("snapshot sha256:ccc"), std::string::npos) << r.error().what();
    EXPECT_NE(r.error().what().find("`../x`"), std::string::npos);
    EXPECT_FALSE(store->has(key('c')));
    EXPECT_TRUE(children(root_ + "/snapshots/.tmp").empty());
    EXPECT_TRUE(store->list()->empty());
}

TEST_F(ImageSnapshotStore, RefusesKeysThatAreNotDigests) {
    auto store = SnapshotStore::open(root_);
    SNAP_ASSERT_OK(store);
    auto r = store->ensure(Digest{"sha256", "../../etc"}, [](const std::string&) -> Result<void> {
        ADD_FAILURE() << "filled";
        return {};
    });
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().errno_value(), EINVAL);
}

TEST_F(ImageSnapshotStore, ConcurrentCallersShareOneFill) {
    auto store = SnapshotStore::open(root_);
    SNAP_ASSERT_OK(store);
    std::atomic<int> fills{0}, ok{0};
    auto fill = [&](const std::string& tmp) -> Result<void> {
        ++fills;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        return write_file(tmp + "/f", "1", true);
    };
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i) {
        threads.emplace_back([&] {
            auto s = SnapshotStore::open(root_);  // as separate processes would
            if (s.ok() && s->ensure(key('d'), fill).ok()) ++ok;
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(ok.load(), 4);
    EXPECT_EQ(fills.load(), 1);
}

TEST_F(ImageSnapshotStore, RemoveAndStaleTemporaries) {
    {
        auto store = SnapshotStore::open(root_);
        SNAP_ASSERT_OK(store);
        SNAP_ASSERT_OK(store->ensure(key('e'), [](const std::string& tmp) -> Result<void> {
            BERTH_TRY(mkdir_p(tmp + "/a/b/c"));
            return write_file(tmp + "/a/b/c/f", "x", true);
        }));
        SNAP_ASSERT_OK(store->remove(key('e')));
        EXPECT_FALSE(store->has(key('e')));
        auto again = store->remove(key('e'));
        ASSERT_FALSE(again.ok());
        EXPECT_EQ(again.error().errno_value(), ENOENT);
        EXPECT_TRUE(children(root_ + "/snapshots/.tmp").empty());
    }
    // A crashed fill: its temporary is removed by the next open.
    std::string stale = root_ + "/snapshots/.tmp/" + std::string(64, 'f') + "-dead01";
    SNAP_ASSERT_OK(mkdir_p(stale + "/fs/x"));
    auto store = SnapshotStore::open(root_);
    SNAP_ASSERT_OK(store);
    EXPECT_FALSE(path_exists(stale));
}

// ---- mount_overlay (root) ---------------------------------------------------------------

class ImageSnapshotMount : public ImageSnapshotStore {
  protected:
    void SetUp() override {
        if (::geteuid() != 0) GTEST_SKIP() << "mounting overlays needs root";
        ImageSnapshotStore::SetUp();
    }
    void TearDown() override {
        for (auto& m : mounts_) ::umount2(m.c_str(), MNT_DETACH);
        ImageSnapshotStore::TearDown();
    }
    std::string mount_point(const std::string& name) {
        std::string p = root_ + "/" + name;
        EXPECT_TRUE(mkdir_p(p).ok());
        mounts_.push_back(p);
        return p;
    }
    // n layers, each adding file "n" and whiting out layer n-1's: a long path per layer.
    std::vector<std::string> make_layers(int n) {
        std::vector<std::string> top_first;
        for (int i = 0; i < n; ++i) {
            std::string d = root_ + "/layers/" + std::string(60, 'l') + "-" + std::to_string(i);
            EXPECT_TRUE(mkdir_p(d).ok());
            EXPECT_TRUE(write_file(d + "/" + std::to_string(i), std::to_string(i), true).ok());
            if (i > 0) {
                std::string wh = d + "/" + std::to_string(i - 1);
                EXPECT_EQ(::mknod(wh.c_str(), S_IFCHR, 0), 0);
            }
            top_first.insert(top_first.begin(), d);
        }
        return top_first;
    }
    std::vector<std::string> mounts_;
};

TEST_F(ImageSnapshotMount, OverlayWithUpperIsWritableAndHidesWhiteouts) {
    auto layers = make_layers(3);
    std::string upper = root_ + "/upper", work = root_ + "/work";
    ASSERT_TRUE(mkdir_p(upper).ok() && mkdir_p(work).ok());
    std::string target = mount_point("rootfs");
    SNAP_ASSERT_OK(mount_overlay(layers, upper, work, target));
    EXPECT_EQ(children(target), std::vector<std::string>{"2"});
    SNAP_ASSERT_OK(write_file(target + "/new", "n", true));
    EXPECT_TRUE(path_exists(upper + "/new"));
    ASSERT_EQ(::umount2(target.c_str(), 0), 0);
}

TEST_F(ImageSnapshotMount, SixtyLayersBothWays) {
    auto layers = make_layers(60);
    size_t option_len = overlay_lowerdir_option(layers).size();
    ASSERT_GT(option_len, 4096u) << "the test must pass the page limit";
    for (OverlayApi api : {OverlayApi::FsConfig, OverlayApi::MountData, OverlayApi::Auto}) {
        std::string target = mount_point("ro-" + std::to_string(static_cast<int>(api)));
        auto r = mount_overlay_via(api, layers, "", "", target);
        SNAP_ASSERT_OK(r);
        EXPECT_EQ(children(target), std::vector<std::string>{"59"});
        EXPECT_EQ(*read_file(target + "/59"), "59");
        EXPECT_NE(::mkdir((target + "/x").c_str(), 0755), 0) << "read-only overlay is writable";
        EXPECT_EQ(errno, EROFS);
        ASSERT_EQ(::umount2(target.c_str(), 0), 0);
    }
}

TEST_F(ImageSnapshotMount, OneLayerIsAReadOnlyBind) {
    auto layers = make_layers(1);
    std::string target = mount_point("one");
    SNAP_ASSERT_OK(mount_overlay(layers, "", "", target));
    EXPECT_EQ(children(target), std::vector<std::string>{"0"});
    EXPECT_NE(::mkdir((target + "/x").c_str(), 0755), 0);
    EXPECT_EQ(errno, EROFS);
    ASSERT_EQ(::umount2(target.c_str(), 0), 0);
}

TEST_F(ImageSnapshotMount, ErrorsNameTheTarget) {
    auto r = mount_overlay({}, "", "", root_ + "/nowhere");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().errno_value(), EINVAL);
    auto missing =
        mount_overlay({root_ + "/missing-a", root_ + "/missing-b"}, "", "", mount_point("m"));
    ASSERT_FALSE(missing.ok());
    EXPECT_NE(missing.error().what().find("missing-a"), std::string::npos)
        << missing.error().what();
}

}  // namespace
}  // namespace berth::image

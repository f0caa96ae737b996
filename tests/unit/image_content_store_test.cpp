// The content store (image/content_store.h) in a temporary directory: verified commits, nothing
// left behind by failed or abandoned writes, concurrent writers, and crash cleanup.
#include "image/content_store.h"

#include <dirent.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <atomic>
#include <thread>

#include "base/file.h"

namespace berth::image {
namespace {

std::vector<std::string> entries(const std::string& dir) {
    std::vector<std::string> out;
    DIR* d = ::opendir(dir.c_str());
    if (!d) return out;
    while (auto* e = ::readdir(d)) {
        std::string n = e->d_name;
        if (n != "." && n != "..") out.push_back(n);
    }
    ::closedir(d);
    return out;
}

class ImageContentStoreTest : public ::testing::Test {
  protected:
    void SetUp() override {
        char tmpl[] = "/tmp/berth-content-test.XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        root_ = tmpl;
        auto s = ContentStore::open(root_);
        ASSERT_TRUE(s.ok()) << s.error().what();
        store_ = std::move(s).value();
    }
    void TearDown() override { (void)remove_all(root_); }
    std::vector<std::string> ingest() { return entries(root_ + "/ingest"); }
    std::vector<std::string> blobs() { return entries(root_ + "/blobs/sha256"); }

    std::string root_;
    ContentStore store_;
};

TEST_F(ImageContentStoreTest, WriteReadList) {
    auto d = store_.write_blob("hello");
    ASSERT_TRUE(d.ok()) << d.error().what();
    EXPECT_EQ(*d, sha256_of("hello"));
    EXPECT_TRUE(store_.has(*d));
    EXPECT_EQ(store_.blob_path(*d), root_ + "/blobs/sha256/" + d->hex);
    EXPECT_EQ(*store_.size(*d), 5u);
    EXPECT_EQ(*store_.read(*d), "hello");
    auto fd = store_.open_blob(*d);
    ASSERT_TRUE(fd.ok());
    EXPECT_EQ(*read_fd(*fd), "hello");
    EXPECT_EQ(store_.list()->size(), 1u);
    struct stat st;
    ASSERT_EQ(::stat(store_.blob_path(*d).c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0444u);  // blobs are immutable
    EXPECT_TRUE(ingest().empty());

    ASSERT_TRUE(store_.remove(*d).ok());
    EXPECT_FALSE(store_.has(*d));
    auto missing = store_.read(*d);
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.error().errno_value(), ENOENT);
    EXPECT_NE(missing.error().what().find(d->str()), std::string::npos);
}

TEST_F(ImageContentStoreTest, StreamedWriteWithExpectations) {
    auto w = store_.writer();
    ASSERT_TRUE(w.ok()) << w.error().what();
    std::string all;
    for (int i = 0; i < 100; ++i) {
        std::string chunk(1000 + i, char('a' + i % 26));
        ASSERT_TRUE(w->write(chunk).ok());
        all += chunk;
    }
    EXPECT_EQ(w->written(), all.size());
    EXPECT_EQ(ingest().size(), 1u);
    auto d = w->commit(sha256_of(all), all.size());
    ASSERT_TRUE(d.ok()) << d.error().what();
    EXPECT_EQ(*store_.read(*d), all);
    EXPECT_TRUE(ingest().empty());
    // A writer is single-use.
    EXPECT_FALSE(w->write("x").ok());
    EXPECT_FALSE(w->commit(std::nullopt).ok());
}

TEST_F(ImageContentStoreTest, DigestMismatchKeepsNothing) {
    auto d = store_.write_blob("evil", sha256_of("good"));
    ASSERT_FALSE(d.ok());
    EXPECT_EQ(d.error().errno_value(), EINVAL);
    EXPECT_NE(d.error().what().find("digest mismatch"), std::string::npos);
    EXPECT_NE(d.error().what().find(sha256_of("good").str()), std::string::npos);
    EXPECT_TRUE(blobs().empty());
    EXPECT_TRUE(ingest().empty());
    EXPECT_FALSE(store_.has(sha256_of("good")));
    EXPECT_FALSE(store_.has(sha256_of("evil")));
}

TEST_F(ImageContentStoreTest, TruncatedWriteKeepsNothing) {
    std::string full(10000, 'z');
    auto w = store_.writer();
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE(w->write(std::string_view(full).substr(0, 4096)).ok());
    auto d = w->commit(sha256_of(full), full.size());
    ASSERT_FALSE(d.ok());
    EXPECT_NE(d.error().what().find("size 4096, expected 10000"), std::string::npos)
        << d.error().what();
    EXPECT_TRUE(blobs().empty());
    EXPECT_TRUE(ingest().empty());

    // Right digest, wrong size is refused too.
    auto w2 = store_.writer();
    ASSERT_TRUE(w2->write("abc").ok());
    EXPECT_FALSE(w2->commit(sha256_of("abc"), 4).ok());
    EXPECT_TRUE(blobs().empty());
}

TEST_F(ImageContentStoreTest, AbandonedWriterRemovesItsIngest) {
    {
        auto w = store_.writer();
        ASSERT_TRUE(w.ok());
        ASSERT_TRUE(w->write("partial").ok());
        EXPECT_EQ(ingest().size(), 1u);
    }
    EXPECT_TRUE(ingest().empty());
    EXPECT_TRUE(blobs().empty());
}

TEST_F(ImageContentStoreTest, CommitOfExistingBlobSucceeds) {
    ASSERT_TRUE(store_.write_blob("same").ok());
    auto again = store_.write_blob("same", sha256_of("same"));
    ASSERT_TRUE(again.ok()) << again.error().what();
    EXPECT_EQ(blobs().size(), 1u);
    EXPECT_TRUE(ingest().empty());
}

TEST_F(ImageContentStoreTest, ConcurrentWritersOfOneBlob) {
    std::string data(1 << 20, 'q');
    Digest want = sha256_of(data);
    std::vector<std::thread> threads;
    std::atomic<int> ok{0};
    for (int t = 0; t < 6; ++t) {
        threads.emplace_back([&] {
            auto w = store_.writer();
            if (!w.ok()) return;
            for (size_t off = 0; off < data.size(); off += 4096)
                if (!w->write(std::string_view(data).substr(off, 4096)).ok()) return;
            if (w->commit(want, data.size()).ok()) ++ok;
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(ok.load(), 6);
    EXPECT_EQ(blobs(), std::vector<std::string>{want.hex});
    EXPECT_TRUE(ingest().empty());
    EXPECT_EQ(*store_.read(want), data);
}

TEST_F(ImageContentStoreTest, CorruptBlobIsDetectedOnRead) {
    auto d = store_.write_blob("original");
    ASSERT_TRUE(d.ok());
    std::string path = store_.blob_path(*d);
    ::chmod(path.c_str(), 0644);
    ASSERT_TRUE(write_file(path, "tampered").ok());
    auto r = store_.read(*d);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().errno_value(), EIO);
    EXPECT_NE(r.error().what().find("corrupt"), std::string::npos);
}

TEST_F(ImageContentStoreTest, StaleIngestCleanedButLiveKept) {
    // A leftover file nobody holds (a crashed writer) and one a live writer holds.
    ASSERT_TRUE(write_file(root_ + "/ingest/stale", "junk", true).ok());
    auto live = store_.writer();
    ASSERT_TRUE(live.ok());
    ASSERT_TRUE(live->write("in progress").ok());
    EXPECT_EQ(ingest().size(), 2u);

    auto reopened = ContentStore::open(root_);
    ASSERT_TRUE(reopened.ok()) << reopened.error().what();
    EXPECT_EQ(ingest().size(), 1u);
    EXPECT_FALSE(path_exists(root_ + "/ingest/stale"));
    auto d = live->commit(sha256_of("in progress"));
    ASSERT_TRUE(d.ok()) << d.error().what();
    EXPECT_TRUE(ingest().empty());
}

TEST_F(ImageContentStoreTest, KilledWriterLeavesOnlyIngestThenCleaned) {
    int ready[2];
    ASSERT_EQ(::pipe(ready), 0);
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        ::close(ready[0]);
        auto s = ContentStore::open(root_);
        if (!s.ok()) ::_exit(1);
        auto w = s->writer();
        if (!w.ok() || !w->write(std::string(100000, 'k')).ok()) ::_exit(1);
        (void)!::write(ready[1], "x", 1);
        for (;;) ::pause();
    }
    ::close(ready[1]);
    char c;
    ASSERT_EQ(::read(ready[0], &c, 1), 1);
    ::close(ready[0]);
    EXPECT_EQ(ingest().size(), 1u);
    EXPECT_TRUE(blobs().empty());
    ::kill(pid, SIGKILL);
    int status;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);

    EXPECT_EQ(ingest().size(), 1u);  // the crash left its partial write
    auto reopened = ContentStore::open(root_);
    ASSERT_TRUE(reopened.ok());
    EXPECT_TRUE(ingest().empty());
    EXPECT_TRUE(blobs().empty());
}

}  // namespace
}  // namespace berth::image

// The CRI log format and rotation, in a temp dir.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <string>
#include <vector>

#include "base/file.h"
#include "engine/monitor/cri_log.h"

namespace berth::monitor {
namespace {

std::vector<std::string> lines(std::string_view chunk, Stream s = Stream::kStdout) {
    std::vector<std::string> out;
    for_each_cri_line("T", s, chunk, [&](std::string_view l) { out.emplace_back(l); });
    return out;
}

TEST(MonitorCriLog, FullAndPartialLines) {
    EXPECT_EQ(lines("a\nb\n"), (std::vector<std::string>{"T stdout F a\n", "T stdout F b\n"}));
    EXPECT_EQ(lines("a\npart"), (std::vector<std::string>{"T stdout F a\n", "T stdout P part\n"}));
    EXPECT_EQ(lines("\n"), (std::vector<std::string>{"T stdout F \n"}));
    EXPECT_EQ(lines("x", Stream::kStderr), (std::vector<std::string>{"T stderr P x\n"}));
    EXPECT_TRUE(lines("").empty());
    // \r is content, not a separator (a pty's \r\n keeps its \r, as with conmon).
    EXPECT_EQ(lines("a\r\n"), (std::vector<std::string>{"T stdout F a\r\n"}));
}

class MonitorCriLogFile : public ::testing::Test {
  protected:
    void SetUp() override {
        char tmpl[] = "/tmp/monitor-cri-XXXXXX";
        ASSERT_NE(mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
        path_ = dir_ + "/ctr.log";
    }
    void TearDown() override { (void)remove_all(dir_); }
    std::string read(const std::string& p) {
        auto r = read_file(p);
        return r.ok() ? *r : std::string("<missing>");
    }
    std::string dir_, path_;
};

TEST_F(MonitorCriLogFile, WritesTimestampedRecords) {
    auto log = CriLog::open(path_, 0, 2);
    ASSERT_TRUE(log.ok()) << log.error().what();
    ASSERT_TRUE(log->write(Stream::kStdout, "hello\nwor").ok());
    ASSERT_TRUE(log->write(Stream::kStderr, "ld\n").ok());
    std::string text = read(path_);
    // 2024-01-01T00:00:00.123456789Z = 30 characters.
    auto recs = std::vector<std::string>();
    size_t pos = 0;
    while (pos < text.size()) {
        size_t nl = text.find('\n', pos);
        recs.push_back(text.substr(pos, nl - pos));
        pos = nl + 1;
    }
    ASSERT_EQ(recs.size(), 3u);
    EXPECT_EQ(recs[0].substr(30), " stdout F hello");
    EXPECT_EQ(recs[1].substr(30), " stdout P wor");
    EXPECT_EQ(recs[2].substr(30), " stderr F ld");
    EXPECT_EQ(recs[0][29], 'Z');
    EXPECT_EQ(recs[0][19], '.');
    EXPECT_EQ(log->size(), text.size());
}

TEST_F(MonitorCriLogFile, RotatesBySize) {
    auto log = CriLog::open(path_, 100, 3);
    ASSERT_TRUE(log.ok());
    for (int i = 0; i < 20; i++) {
        ASSERT_TRUE(log->write(Stream::kStdout, "line-" + std::to_string(i) + "\n").ok());
    }
    struct stat st;
    for (const std::string& p : {path_, path_ + ".1", path_ + ".2"}) {
        ASSERT_EQ(stat(p.c_str(), &st), 0) << p;
        EXPECT_LE(st.st_size, 100) << p;
    }
    EXPECT_NE(stat((path_ + ".3").c_str(), &st), 0);
    EXPECT_NE(read(path_).find("line-19"), std::string::npos);
    EXPECT_EQ(read(path_ + ".2").find("line-0\n"), std::string::npos);  // dropped by now
}

TEST_F(MonitorCriLogFile, OneFileTruncates) {
    auto log = CriLog::open(path_, 60, 1);
    ASSERT_TRUE(log.ok());
    ASSERT_TRUE(log->write(Stream::kStdout, "first\n").ok());
    ASSERT_TRUE(log->write(Stream::kStdout, "second\n").ok());
    EXPECT_EQ(read(path_).find("first"), std::string::npos);
    EXPECT_NE(read(path_).find("second"), std::string::npos);
    EXPECT_FALSE(path_exists(path_ + ".1"));
}

TEST_F(MonitorCriLogFile, ReopenAfterMove) {
    auto log = CriLog::open(path_, 0, 2);
    ASSERT_TRUE(log.ok());
    ASSERT_TRUE(log->write(Stream::kStdout, "a\n").ok());
    ASSERT_EQ(rename(path_.c_str(), (path_ + ".old").c_str()), 0);
    ASSERT_TRUE(log->reopen().ok());
    ASSERT_TRUE(log->write(Stream::kStdout, "b\n").ok());
    EXPECT_NE(read(path_).find("F b"), std::string::npos);
    EXPECT_EQ(read(path_).find("F a"), std::string::npos);
}

TEST_F(MonitorCriLogFile, OpenFailureNamesPath) {
    auto log = CriLog::open(dir_ + "/no/such/dir/ctr.log", 0, 2);
    ASSERT_FALSE(log.ok());
    EXPECT_EQ(log.error().errno_value(), ENOENT);
    EXPECT_NE(log.error().what().find("no/such/dir"), std::string::npos);
}

}  // namespace
}  // namespace berth::monitor

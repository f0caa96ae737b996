// --detach-keys parsing and the matcher that holds a partial sequence back.
#include <gtest/gtest.h>

#include "engine/detach_keys.h"

namespace berth::engine {
namespace {

TEST(DetachKeys, Parse) {
    EXPECT_EQ(*parse_detach_keys("ctrl-p,ctrl-q"), std::string("\x10\x11"));
    EXPECT_EQ(*parse_detach_keys("ctrl-a,x"), std::string("\x01x"));
    EXPECT_EQ(*parse_detach_keys("CTRL-Z"), std::string("\x1a"));
    EXPECT_EQ(*parse_detach_keys("ctrl-@"), std::string(1, '\0'));
    EXPECT_EQ(*parse_detach_keys("ctrl-[,ctrl-_"), std::string("\x1b\x1f"));
    EXPECT_EQ(*parse_detach_keys(""), "");
    for (const char* bad : {"ctrl-", "ctrl-1", "ab", "ctrl-p,", ",", "alt-x"}) {
        auto r = parse_detach_keys(bad);
        ASSERT_FALSE(r.ok()) << bad;
        EXPECT_NE(r.error().what().find("--detach-keys"), std::string::npos);
    }
}

TEST(DetachKeys, MatchesAcrossReads) {
    DetachKeyMatcher m("\x10\x11");
    std::string out;
    EXPECT_FALSE(m.feed("ab\x10", out));
    EXPECT_EQ(out, "ab");  // ctrl-p held back
    EXPECT_EQ(m.pending(), "\x10");
    out.clear();
    EXPECT_TRUE(m.feed("\x11zz", out));
    EXPECT_EQ(out, "");
}

TEST(DetachKeys, PartialSequenceIsInput) {
    DetachKeyMatcher m("\x10\x11");
    std::string out;
    EXPECT_FALSE(m.feed("\x10x", out));
    EXPECT_EQ(out, "\x10x");
    out.clear();
    // ctrl-p ctrl-p ctrl-q: the first is input, the last two detach.
    EXPECT_TRUE(m.feed("\x10\x10\x11", out));
    EXPECT_EQ(out, "\x10");
}

TEST(DetachKeys, EmptyNeverDetaches) {
    DetachKeyMatcher m("");
    std::string out;
    EXPECT_FALSE(m.feed("\x10\x11", out));
    EXPECT_EQ(out, "\x10\x11");
}

TEST(DetachKeys, SingleKey) {
    DetachKeyMatcher m("\x1d");
    std::string out;
    EXPECT_TRUE(m.feed("ab\x1d", out));
    EXPECT_EQ(out, "ab");
}

}  // namespace
}  // namespace berth::engine

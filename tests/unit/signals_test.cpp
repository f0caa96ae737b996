// Signal name table (base/signals.h): what `kill` accepts and how signals are printed.
#include "base/signals.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <string>

namespace berth {
namespace {

TEST(Signals, NamesWithAndWithoutPrefixAnyCase) {
    for (const char* s : {"KILL", "SIGKILL", "kill", "sigkill", "SigKill", "9"}) {
        EXPECT_EQ(signal_from_string(s), SIGKILL) << s;
    }
    EXPECT_EQ(signal_from_string("TERM"), SIGTERM);
    EXPECT_EQ(signal_from_string("SIGHUP"), SIGHUP);
    EXPECT_EQ(signal_from_string("usr1"), SIGUSR1);
    EXPECT_EQ(signal_from_string("WINCH"), SIGWINCH);
    EXPECT_EQ(signal_from_string("CHLD"), SIGCHLD);
    EXPECT_EQ(signal_from_string("CLD"), SIGCHLD);
    EXPECT_EQ(signal_from_string("IOT"), SIGABRT);
    EXPECT_EQ(signal_from_string("POLL"), SIGIO);
    EXPECT_EQ(signal_from_string("SYS"), SIGSYS);
}

TEST(Signals, Numbers) {
    EXPECT_EQ(signal_from_string("0"), 0);
    EXPECT_EQ(signal_from_string("15"), SIGTERM);
    EXPECT_EQ(signal_from_string("64"), 64);
    EXPECT_EQ(signal_from_string("65"), std::nullopt);
    EXPECT_EQ(signal_from_string("-9"), std::nullopt);
}

TEST(Signals, RealTime) {
    EXPECT_EQ(signal_from_string("RTMIN"), SIGRTMIN);
    EXPECT_EQ(signal_from_string("SIGRTMIN+3"), SIGRTMIN + 3);
    EXPECT_EQ(signal_from_string("rtmin+3"), SIGRTMIN + 3);
    EXPECT_EQ(signal_from_string("RTMAX"), SIGRTMAX);
    EXPECT_EQ(signal_from_string("SIGRTMAX-2"), SIGRTMAX - 2);
    EXPECT_EQ(signal_from_string("RTMIN+0"), SIGRTMIN);
    EXPECT_EQ(signal_from_string("RTMIN+100"), std::nullopt);
    EXPECT_EQ(signal_from_string("RTMAX-100"), std::nullopt);
    EXPECT_EQ(signal_from_string("RTMIN+"), std::nullopt);
    EXPECT_EQ(signal_from_string("RTMIN-1"), std::nullopt);
}

TEST(Signals, Unknown) {
    for (const char* s : {"", "SIG", "FOO", "SIGFOO", "KIL", "9x", " 9", "SIG9"}) {
        EXPECT_EQ(signal_from_string(s), std::nullopt) << s;
    }
}

TEST(Signals, Names) {
    EXPECT_STREQ(signal_name(SIGTERM), "SIGTERM");
    EXPECT_STREQ(signal_name(SIGKILL), "SIGKILL");
    EXPECT_STREQ(signal_name(SIGABRT), "SIGABRT");  // not its alias SIGIOT
    EXPECT_STREQ(signal_name(SIGCHLD), "SIGCHLD");
    EXPECT_STREQ(signal_name(SIGIO), "SIGIO");
    EXPECT_STREQ(signal_name(SIGRTMIN), "SIGRTMIN");
    EXPECT_STREQ(signal_name(SIGRTMIN + 3), "SIGRTMIN+3");
    EXPECT_STREQ(signal_name(SIGRTMAX - 1), "SIGRTMAX-1");
    EXPECT_STREQ(signal_name(SIGRTMAX), "SIGRTMAX");
    EXPECT_EQ(signal_name(0), nullptr);
    EXPECT_EQ(signal_name(-1), nullptr);
    EXPECT_EQ(signal_name(65), nullptr);
}

TEST(Signals, NameRoundTrips) {
    for (int sig = 1; sig <= SIGRTMAX; sig++) {
        const char* name = signal_name(sig);
        if (name == nullptr) continue;  // 32, 33: glibc's own
        EXPECT_EQ(signal_from_string(name), sig) << name;
    }
}

}  // namespace
}  // namespace berth

// Restart decisions and kubelet's back-off.
#include <gtest/gtest.h>

#include "engine/monitor/restart.h"

namespace berth::monitor {
namespace {

TEST(MonitorRestart, Policies) {
    RestartPolicy no;
    EXPECT_FALSE(should_restart(no, 1, 0, false));
    RestartPolicy always{RestartMode::kAlways, 0};
    EXPECT_TRUE(should_restart(always, 0, 100, false));
    EXPECT_FALSE(should_restart(always, 1, 0, true));
    RestartPolicy unless{RestartMode::kUnlessStopped, 0};
    EXPECT_TRUE(should_restart(unless, 0, 0, false));
    EXPECT_FALSE(should_restart(unless, 137, 0, true));
    RestartPolicy on_failure{RestartMode::kOnFailure, 2};
    EXPECT_FALSE(should_restart(on_failure, 0, 0, false));
    EXPECT_TRUE(should_restart(on_failure, 3, 0, false));
    EXPECT_TRUE(should_restart(on_failure, 137, 1, false));
    EXPECT_FALSE(should_restart(on_failure, 3, 2, false));
    RestartPolicy unlimited{RestartMode::kOnFailure, 0};
    EXPECT_TRUE(should_restart(unlimited, 1, 1000, false));
}

TEST(MonitorRestart, KubeletBackOff) {
    BackOff b(10'000, 300'000, 600'000);
    const uint64_t expected[] = {10'000, 20'000, 40'000, 80'000, 160'000, 300'000, 300'000};
    for (uint64_t e : expected) EXPECT_EQ(b.next_delay(1'000), e);
    // Ten minutes of running resets it.
    EXPECT_EQ(b.next_delay(600'000), 10'000u);
    EXPECT_EQ(b.next_delay(599'999), 20'000u);
}

TEST(MonitorRestart, BackOffCapBelowDouble) {
    BackOff b(100, 250, 1'000);
    EXPECT_EQ(b.next_delay(0), 100u);
    EXPECT_EQ(b.next_delay(0), 200u);
    EXPECT_EQ(b.next_delay(0), 250u);
    EXPECT_EQ(b.next_delay(0), 250u);
}

}  // namespace
}  // namespace berth::monitor

// task.json, OOM counters, and the runtime log's error messages.
#include <gtest/gtest.h>
#include <unistd.h>

#include "engine/monitor/oom.h"
#include "engine/monitor/runtime_client.h"
#include "engine/monitor/task_state.h"

namespace berth::monitor {
namespace {

TEST(MonitorTaskState, Json) {
    TaskState s;
    s.id = "c\"1";
    s.status = "running";
    s.pid = 42;
    s.monitor_pid = 7;
    s.restart_policy = "on-failure:2";
    std::string j = task_state_json(s);
    EXPECT_NE(j.find("\"id\":\"c\\\"1\""), std::string::npos) << j;
    EXPECT_NE(j.find("\"status\":\"running\""), std::string::npos);
    EXPECT_NE(j.find("\"pid\":42"), std::string::npos);
    EXPECT_NE(j.find("\"exit_code\":null"), std::string::npos);
    EXPECT_NE(j.find("\"exit_reason\":null"), std::string::npos);
    EXPECT_NE(j.find("\"stop_requested\":false"), std::string::npos);
    EXPECT_EQ(j.back(), '\n');
    s.has_exit = true;
    s.exit_code = 137;
    s.exit_signal = 9;
    s.exit_reason = "oom";
    j = task_state_json(s);
    EXPECT_NE(j.find("\"exit_code\":137,\"exit_signal\":9,\"exit_reason\":\"oom\""),
              std::string::npos)
        << j;
}

TEST(MonitorTaskState, StartTimeOfSelf) {
    EXPECT_GT(process_start_time(getpid()), 0u);
    EXPECT_EQ(process_start_time(0x3fffffff), 0u);
}

TEST(MonitorOom, ProcCgroup) {
    auto v2 = parse_proc_cgroup("0::/berth/c1\n");
    ASSERT_TRUE(v2);
    EXPECT_TRUE(v2->v2);
    EXPECT_EQ(v2->path, "/berth/c1");
    auto v1 = parse_proc_cgroup("12:pids:/x\n4:memory:/berth/c2\n1:name=systemd:/y\n");
    ASSERT_TRUE(v1);
    EXPECT_FALSE(v1->v2);
    EXPECT_EQ(v1->path, "/berth/c2");
    EXPECT_FALSE(parse_proc_cgroup("3:cpu:/z\n"));
    auto hybrid = parse_proc_cgroup("4:memory:/m\n0::/u\n");
    ASSERT_TRUE(hybrid);
    EXPECT_FALSE(hybrid->v2);
    EXPECT_EQ(hybrid->path, "/m");
}

TEST(MonitorOom, Counters) {
    EXPECT_EQ(parse_oom_kill("low 0\nhigh 0\nmax 3\noom 2\noom_kill 1\noom_group_kill 0\n"), 1u);
    EXPECT_EQ(parse_oom_kill("oom_kill_disable 0\nunder_oom 0\noom_kill 4\n"), 4u);
    EXPECT_FALSE(parse_oom_kill("oom 1\n"));
}

TEST(MonitorRuntimeLog, Message) {
    EXPECT_EQ(json_log_message(R"({"level":"error","msg":"open `/x`: No such file","time":"t"})"),
              "open `/x`: No such file");
    EXPECT_EQ(json_log_message(R"({"msg":"a \"q\"\nb\u0041"})"), "a \"q\"\nbA");
    EXPECT_EQ(json_log_message(R"({"level":"error"})"), "");
}

}  // namespace
}  // namespace berth::monitor

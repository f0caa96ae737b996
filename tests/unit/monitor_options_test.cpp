// berth-monitor's command line and restart-policy parsing.
#include <gtest/gtest.h>

#include <vector>

#include "engine/monitor/options.h"

namespace berth::monitor {
namespace {

Result<ParseOutcome> parse(std::vector<const char*> args) {
    args.insert(args.begin(), "berth-monitor");
    return parse_options(static_cast<int>(args.size()), args.data());
}

TEST(MonitorOptions, RequiredAndDefaults) {
    auto r = parse({"--runtime", "/bin/rt", "--bundle", "/b", "--id", "c1", "--task-dir", "/t"});
    ASSERT_TRUE(r.ok()) << r.error().what();
    const Options& o = r->options;
    EXPECT_EQ(o.runtime, "/bin/rt");
    EXPECT_EQ(o.id, "c1");
    EXPECT_EQ(o.stop_signal, 15);
    EXPECT_EQ(o.stop_timeout_s, 10u);
    EXPECT_EQ(o.log_max_files, 2u);
    EXPECT_EQ(o.backoff_base_ms, 10000u);
    EXPECT_EQ(o.backoff_max_ms, 300000u);
    EXPECT_EQ(o.backoff_reset_ms, 600000u);
    EXPECT_EQ(o.restart.mode, RestartMode::kNo);
    EXPECT_FALSE(o.terminal);
    EXPECT_EQ(o.ready_fd, -1);
}

TEST(MonitorOptions, AllFlags) {
    auto r = parse({"--runtime=/rt",
                    "--runtime-root",
                    "/root",
                    "--bundle",
                    "/b",
                    "--id",
                    "c",
                    "--task-dir",
                    "/t",
                    "--log-path",
                    "/l",
                    "--log-max-size",
                    "4096",
                    "--log-max-files=5",
                    "--terminal",
                    "--stdin",
                    "--restart",
                    "on-failure:3",
                    "--stop-signal",
                    "SIGINT",
                    "--stop-timeout",
                    "2",
                    "--ready-fd",
                    "9",
                    "--foreground",
                    "--backoff-base-ms",
                    "100",
                    "--backoff-max-ms",
                    "50"});
    ASSERT_TRUE(r.ok()) << r.error().what();
    const Options& o = r->options;
    EXPECT_EQ(o.runtime_root, "/root");
    EXPECT_EQ(o.log_max_size, 4096u);
    EXPECT_EQ(o.log_max_files, 5u);
    EXPECT_TRUE(o.terminal && o.stdin_pipe && o.foreground);
    EXPECT_EQ(o.restart.mode, RestartMode::kOnFailure);
    EXPECT_EQ(o.restart.max_retries, 3u);
    EXPECT_EQ(o.stop_signal, 2);
    EXPECT_EQ(o.ready_fd, 9);
    EXPECT_EQ(o.backoff_max_ms, 100u);  // the cap is never below the base
}

TEST(MonitorOptions, Errors) {
    auto missing = parse({"--runtime", "/rt", "--bundle", "/b", "--id", "c"});
    ASSERT_FALSE(missing.ok());
    EXPECT_NE(missing.error().what().find("--task-dir"), std::string::npos);
    auto unknown = parse({"--frobnicate", "1"});
    ASSERT_FALSE(unknown.ok());
    EXPECT_NE(unknown.error().what().find("--frobnicate"), std::string::npos);
    auto bad_number = parse({"--log-max-size", "12k"});
    ASSERT_FALSE(bad_number.ok());
    EXPECT_EQ(bad_number.error().errno_value(), EINVAL);
    auto bad_signal = parse({"--stop-signal", "SIGNOPE"});
    ASSERT_FALSE(bad_signal.ok());
    auto no_value = parse({"--runtime"});
    ASSERT_FALSE(no_value.ok());
    auto bad_id = parse({"--runtime", "r", "--bundle", "b", "--id", "../x", "--task-dir", "t"});
    ASSERT_FALSE(bad_id.ok());
    EXPECT_FALSE(parse({"--terminal=yes"}).ok());
}

TEST(MonitorOptions, HelpAndVersion) {
    auto h = parse({"--help"});
    ASSERT_TRUE(h.ok());
    EXPECT_EQ(h->action, ParseAction::kHelp);
    auto v = parse({"--version"});
    ASSERT_TRUE(v.ok());
    EXPECT_EQ(v->action, ParseAction::kVersion);
}

TEST(MonitorOptions, ExitCommand) {
    auto r = parse({"--runtime", "/rt", "--bundle", "/b", "--id", "c", "--task-dir", "/t",
                    "--exit-command", "/usr/bin/berth", "--exit-command-arg", "--root",
                    "--exit-command-arg=/var/lib/x", "--exit-command-arg", "cleanup"});
    ASSERT_TRUE(r.ok()) << r.error().what();
    EXPECT_EQ(r->options.exit_command, "/usr/bin/berth");
    EXPECT_EQ(r->options.exit_command_args,
              (std::vector<std::string>{"--root", "/var/lib/x", "cleanup"}));
    auto none = parse({"--runtime", "/rt", "--bundle", "/b", "--id", "c", "--task-dir", "/t"});
    ASSERT_TRUE(none.ok());
    EXPECT_TRUE(none->options.exit_command.empty());
    // Arguments without the command, and a relative command, are refused.
    EXPECT_FALSE(parse({"--runtime", "/rt", "--bundle", "/b", "--id", "c", "--task-dir", "/t",
                        "--exit-command-arg", "x"})
                     .ok());
    auto rel = parse({"--runtime", "/rt", "--bundle", "/b", "--id", "c", "--task-dir", "/t",
                      "--exit-command", "berth"});
    ASSERT_FALSE(rel.ok());
    EXPECT_NE(rel.error().what().find("--exit-command"), std::string::npos);
}

TEST(MonitorRestartPolicy, ParseAndPrint) {
    struct Case {
        const char* text;
        RestartMode mode;
        unsigned max;
    } cases[] = {{"no", RestartMode::kNo, 0},
                 {"always", RestartMode::kAlways, 0},
                 {"unless-stopped", RestartMode::kUnlessStopped, 0},
                 {"on-failure", RestartMode::kOnFailure, 0},
                 {"on-failure:5", RestartMode::kOnFailure, 5}};
    for (const auto& c : cases) {
        auto p = parse_restart_policy(c.text);
        ASSERT_TRUE(p.ok()) << c.text;
        EXPECT_EQ(p->mode, c.mode) << c.text;
        EXPECT_EQ(p->max_retries, c.max) << c.text;
        EXPECT_EQ(restart_policy_string(*p), c.text);
    }
    for (const char* bad :
         {"sometimes", "on-failure:", "on-failure:x", "on-failure5", "always:2"}) {
        auto p = parse_restart_policy(bad);
        ASSERT_FALSE(p.ok()) << bad;
        EXPECT_NE(p.error().what().find(bad), std::string::npos);
    }
}

}  // namespace
}  // namespace berth::monitor

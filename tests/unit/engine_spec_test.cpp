// The engine's pure pieces: user lookup in an image's passwd/group, env and args merging, CRI
// log parsing and tailing.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "engine/container_store.h"
#include "engine/cri_reader.h"
#include "engine/engine.h"
#include "engine/spec_builder.h"
#include "engine/user_lookup.h"

namespace berth::engine {
namespace {

constexpr const char kPasswd[] =
    "root:x:0:0:root:/root:/bin/sh\n"
    "daemon:x:1:1:daemon:/usr/sbin:/bin/false\n"
    "app:x:1000:1000:app:/home/app:/bin/sh\n";
constexpr const char kGroup[] = "root:x:0:\nwheel:x:10:app,root\napp:x:1000:\naudio:x:29:app\n";

TEST(EngineUser, NamesAndNumbers) {
    auto u = resolve_user("app", kPasswd, kGroup);
    ASSERT_TRUE(u.ok()) << u.error().what();
    EXPECT_EQ(u->uid, 1000u);
    EXPECT_EQ(u->gid, 1000u);
    EXPECT_EQ(u->home, "/home/app");
    EXPECT_EQ(u->additional_gids, (std::vector<uint32_t>{10, 29}));

    u = resolve_user("1000:wheel", kPasswd, kGroup);
    ASSERT_TRUE(u.ok());
    EXPECT_EQ(u->uid, 1000u);
    EXPECT_EQ(u->gid, 10u);
    EXPECT_TRUE(u->additional_gids.empty());

    u = resolve_user("4242:77", kPasswd, kGroup);
    ASSERT_TRUE(u.ok());
    EXPECT_EQ(u->uid, 4242u);
    EXPECT_EQ(u->gid, 77u);

    u = resolve_user("", "", "");
    ASSERT_TRUE(u.ok());
    EXPECT_EQ(u->uid, 0u);

    EXPECT_EQ(resolve_user("nobody", kPasswd, kGroup).error().errno_value(), ENOENT);
    EXPECT_EQ(resolve_user("app:nogroup", kPasswd, kGroup).error().errno_value(), ENOENT);
}

TEST(EngineSpec, ArgsFollowDocker) {
    image::ImageConfig img;
    img.entrypoint = {"/entry"};
    img.cmd = {"default"};
    CreateOptions o;
    EXPECT_EQ(*process_args(img, o), (std::vector<std::string>{"/entry", "default"}));
    o.command = {"x", "y"};
    EXPECT_EQ(*process_args(img, o), (std::vector<std::string>{"/entry", "x", "y"}));
    o.entrypoint = "echo";
    o.command.clear();
    // A given entrypoint drops the image's Cmd.
    EXPECT_EQ(*process_args(img, o), (std::vector<std::string>{"echo"}));
    o.entrypoint = "";
    EXPECT_FALSE(process_args(img, o).ok());
}

TEST(EngineSpec, EnvMerges) {
    image::ImageConfig img;
    img.env = {"A=image", "B=image"};
    CreateOptions o;
    o.env = {"B=flag", "C=new"};
    auto env = merge_env(img, o, "host1", "/root");
    ASSERT_TRUE(env.ok());
    EXPECT_EQ(*env, (std::vector<std::string>{
                        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                        "A=image", "B=flag", "HOSTNAME=host1", "HOME=/root", "C=new"}));
    o.env = {"=bad"};
    EXPECT_FALSE(merge_env(img, o, "h", "").ok());
}

TEST(EngineSpec, BuildsAConfig) {
    image::ImageConfig img;
    img.cmd = {"sh"};
    img.working_dir = "/work";
    CreateOptions o;
    o.image = "busybox";
    o.network = "host";
    o.read_only = true;
    SpecInputs in;
    in.image = &img;
    in.options = &o;
    in.id = std::string(64, 'a');
    in.cgroups_path = cgroup_path("default", in.id);
    in.user.uid = 1000;
    in.env = {"PATH=/bin"};
    auto text = build_spec(in);
    ASSERT_TRUE(text.ok()) << text.error().what();
    auto j = nlohmann::json::parse(*text);
    EXPECT_EQ(j["process"]["cwd"], "/work");
    EXPECT_EQ(j["process"]["terminal"], false);
    EXPECT_EQ(j["process"]["user"]["uid"], 1000);
    EXPECT_TRUE(j["process"]["capabilities"]["effective"].empty());
    EXPECT_EQ(j["root"]["readonly"], true);
    EXPECT_EQ(j["hostname"], "aaaaaaaaaaaa");
    EXPECT_EQ(j["linux"]["cgroupsPath"], "/berth/default-" + in.id);
    for (const auto& ns : j["linux"]["namespaces"]) EXPECT_NE(ns["type"], "network");
    o.workdir = "relative";
    EXPECT_FALSE(build_spec(in).ok());
}

TEST(EngineLogs, ParsesAndTails) {
    auto r = parse_cri_line("2024-05-01T10:00:00.123456789Z stderr P half");
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->is_stderr);
    EXPECT_TRUE(r->partial);
    EXPECT_EQ(r->text, "half");
    auto empty = parse_cri_line("2024-05-01T10:00:00.123456789Z stdout F");
    ASSERT_TRUE(empty);
    EXPECT_EQ(empty->text, "");
    EXPECT_FALSE(parse_cri_line("garbage"));
    EXPECT_FALSE(parse_cri_line("t stdin F x"));

    std::vector<LogRecord> recs = {{"t", false, false, "1"},
                                   {"t", false, true, "2a"},
                                   {"t", false, false, "2b"},
                                   {"t", false, false, "3"}};
    EXPECT_EQ(tail_lines(recs, 1).size(), 1u);
    EXPECT_EQ(tail_lines(recs, 2).size(), 3u);
    EXPECT_EQ(tail_lines(recs, 10).size(), 4u);
    EXPECT_EQ(tail_lines(recs, 0).size(), 0u);
}

TEST(EngineMisc, ExitCodesAndIds) {
    EXPECT_EQ(start_failure_exit_code("exec: \"x\": executable file not found in $PATH"), 127);
    EXPECT_EQ(start_failure_exit_code("exec: \"/etc\": permission denied"), 126);
    EXPECT_EQ(start_failure_exit_code("setrlimit: Operation not permitted"), 125);
    EXPECT_TRUE(check_restart_policy("on-failure:3").ok());
    EXPECT_FALSE(check_restart_policy("sometimes").ok());
    auto id = new_container_id();
    ASSERT_TRUE(id.ok());
    EXPECT_EQ(id->size(), 64u);
    EXPECT_FALSE(random_name(*id).empty());
}

}  // namespace
}  // namespace berth::engine

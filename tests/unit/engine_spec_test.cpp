// The engine's pure pieces: user lookup in an image's passwd/group, env and args merging, CRI
// log parsing and tailing.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "base/file.h"
#include "engine/container_store.h"
#include "engine/cri_reader.h"
#include "engine/engine.h"
#include "engine/seccomp_profile.h"
#include "engine/spec_builder.h"
#include "engine/user_lookup.h"
#include "engine/volumes.h"

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
    // crun's wording.
    EXPECT_EQ(start_failure_exit_code(
                  "executable file `x` not found in $PATH: No such file or directory"),
              127);
    EXPECT_EQ(start_failure_exit_code("open executable: Operation not permitted"), 126);
    EXPECT_TRUE(check_restart_policy("on-failure:3").ok());
    EXPECT_FALSE(check_restart_policy("sometimes").ok());
    auto id = new_container_id();
    ASSERT_TRUE(id.ok());
    EXPECT_EQ(id->size(), 64u);
    EXPECT_FALSE(random_name(*id).empty());
}

// The flags of `run`/`create` beyond the basics: capabilities, security options, mounts and
// resources, as they land in config.json.
struct FlagSpec {
    image::ImageConfig img;
    CreateOptions o;
    SpecInputs in;
    FlagSpec() {
        img.cmd = {"sh"};
        o.image = "busybox";
        in.image = &img;
        in.options = &o;
        in.id = std::string(64, 'b');
        in.cgroups_path = cgroup_path("default", in.id);
        in.env = {"PATH=/bin"};
    }
    Result<nlohmann::json> build() {
        auto text = BERTH_TRY(build_spec(in));
        return nlohmann::json::parse(text);
    }
};

bool has_cap(const nlohmann::json& caps, const std::string& c) {
    return std::find(caps.begin(), caps.end(), c) != caps.end();
}

TEST(EngineFlags, CapAddDrop) {
    CreateOptions o;
    auto caps = *container_caps(o);
    EXPECT_EQ(caps.size(), 11u);
    o.cap_add = {"net_admin", "CAP_SYS_PTRACE"};
    o.cap_drop = {"chown", "CAP_KILL"};
    caps = *container_caps(o);
    EXPECT_TRUE(std::find(caps.begin(), caps.end(), "CAP_NET_ADMIN") != caps.end());
    EXPECT_TRUE(std::find(caps.begin(), caps.end(), "CAP_SYS_PTRACE") != caps.end());
    EXPECT_TRUE(std::find(caps.begin(), caps.end(), "CAP_CHOWN") == caps.end());
    EXPECT_TRUE(std::find(caps.begin(), caps.end(), "CAP_KILL") == caps.end());
    o.cap_add = {"SETUID"};
    o.cap_drop = {"ALL"};
    EXPECT_EQ(*container_caps(o), (std::vector<std::string>{"CAP_SETUID"}));
    o.cap_add = {"ALL"};
    o.cap_drop = {"SYS_ADMIN"};
    caps = *container_caps(o);
    EXPECT_GT(caps.size(), 30u);
    EXPECT_TRUE(std::find(caps.begin(), caps.end(), "CAP_SYS_ADMIN") == caps.end());
    o.cap_add = {"BOGUS"};
    auto bad = container_caps(o);
    ASSERT_FALSE(bad.ok());
    EXPECT_NE(std::string(bad.error().what()).find("--cap-add"), std::string::npos);
}

TEST(EngineFlags, SecurityOptions) {
    FlagSpec f;
    auto j = *f.build();
    EXPECT_EQ(j["process"]["noNewPrivileges"], false);
    ASSERT_TRUE(j["linux"].contains("seccomp"));
    EXPECT_EQ(j["linux"]["seccomp"]["defaultAction"], "SCMP_ACT_ALLOW");
    EXPECT_TRUE(j["linux"].contains("maskedPaths"));
    f.o.security_opts = {"no-new-privileges", "seccomp=unconfined"};
    j = *f.build();
    EXPECT_EQ(j["process"]["noNewPrivileges"], true);
    EXPECT_FALSE(j["linux"].contains("seccomp"));
    f.o.security_opts = {"apparmor=foo"};
    auto bad = f.build();
    ASSERT_FALSE(bad.ok());
    EXPECT_NE(std::string(bad.error().what()).find("--security-opt"), std::string::npos);
    f.o.security_opts = {"seccomp=/nonexistent/profile.json"};
    EXPECT_FALSE(f.build().ok());

    f.o.security_opts.clear();
    f.o.privileged = true;
    j = *f.build();
    EXPECT_FALSE(j["linux"].contains("seccomp"));
    EXPECT_FALSE(j["linux"].contains("maskedPaths"));
    EXPECT_FALSE(j["linux"].contains("readonlyPaths"));
    EXPECT_TRUE(has_cap(j["process"]["capabilities"]["effective"], "CAP_SYS_ADMIN"));
    EXPECT_EQ(j["linux"]["resources"]["devices"][0]["allow"], true);
    for (const auto& m : j["mounts"]) {
        if (m["destination"] == "/sys") {
            EXPECT_FALSE(has_cap(m["options"], "ro"));
        }
    }
}

TEST(EngineFlags, DefaultSeccompFollowsCaps) {
    auto names = [](const nlohmann::ordered_json& s) {
        std::vector<std::string> out;
        for (const auto& c : s["syscalls"]) {
            for (const auto& n : c["names"]) out.push_back(n);
        }
        return out;
    };
    auto plain = names(default_seccomp({"CAP_CHOWN"}));
    EXPECT_TRUE(std::find(plain.begin(), plain.end(), "mount") != plain.end());
    EXPECT_TRUE(std::find(plain.begin(), plain.end(), "clone") != plain.end());
    auto admin = names(default_seccomp({"CAP_SYS_ADMIN"}));
    EXPECT_TRUE(std::find(admin.begin(), admin.end(), "mount") == admin.end());
    EXPECT_TRUE(std::find(admin.begin(), admin.end(), "clone") == admin.end());
    EXPECT_TRUE(std::find(admin.begin(), admin.end(), "kexec_load") != admin.end());
    auto clone = default_seccomp({})["syscalls"];
    bool found = false;
    for (const auto& c : clone) {
        if (c["names"][0] == "clone") {
            found = true;
            ASSERT_TRUE(c["args"].is_array());
            EXPECT_EQ(c["args"][0]["op"], "SCMP_CMP_MASKED_EQ");
        }
    }
    EXPECT_TRUE(found);
}

TEST(EngineFlags, DockerSeccompProfile) {
    const char* profile = R"({
        "defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1,
        "archMap": [{"architecture": "SCMP_ARCH_X86_64",
                     "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]},
                    {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]}],
        "syscalls": [
            {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"},
            {"name": "personality", "action": "SCMP_ACT_ALLOW",
             "args": [{"index": 0, "value": 0, "valueTwo": 0, "op": "SCMP_CMP_EQ"}]},
            {"names": ["mount"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}},
            {"names": ["chown"], "action": "SCMP_ACT_ALLOW", "excludes": {"caps": ["CAP_CHOWN"]}}
        ]})";
    auto s = seccomp_from_profile(profile, {"CAP_CHOWN"}, "p.json");
    ASSERT_TRUE(s.ok()) << s.error().what();
    EXPECT_EQ((*s)["defaultAction"], "SCMP_ACT_ERRNO");
    EXPECT_EQ((*s)["defaultErrnoRet"], 1);
    ASSERT_EQ((*s)["syscalls"].size(), 2u);  // mount needs SYS_ADMIN; chown is excluded
    EXPECT_EQ((*s)["syscalls"][1]["names"][0], "personality");
    EXPECT_EQ((*s)["syscalls"][1]["args"][0]["op"], "SCMP_CMP_EQ");
#ifdef __x86_64__
    EXPECT_EQ((*s)["architectures"].size(), 3u);
#endif
    s = seccomp_from_profile(profile, {"CAP_SYS_ADMIN"}, "p.json");
    ASSERT_TRUE(s.ok());
    EXPECT_EQ((*s)["syscalls"].size(), 4u);
    EXPECT_FALSE(seccomp_from_profile("[]", {}, "p.json").ok());
    EXPECT_FALSE(seccomp_from_profile(R"({"syscalls": []})", {}, "p.json").ok());
}

TEST(EngineFlags, Volumes) {
    char tmpl[] = "/tmp/berth-vol-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    std::string dir = tmpl;
    auto m = parse_volume(dir + ":/data:ro", dir + "/volumes");
    ASSERT_TRUE(m.ok()) << m.error().what();
    EXPECT_EQ(m->source, dir);
    EXPECT_EQ(m->destination, "/data");
    EXPECT_EQ(m->type, "bind");
    EXPECT_EQ(m->options, (std::vector<std::string>{"rbind", "rprivate", "ro"}));
    auto missing = parse_volume(dir + "/nope:/data", dir + "/volumes");
    ASSERT_FALSE(missing.ok());
    EXPECT_NE(std::string(missing.error().what()).find(dir + "/nope"), std::string::npos);
    EXPECT_FALSE(parse_volume(dir + ":relative", dir + "/volumes").ok());
    EXPECT_FALSE(parse_volume("/data", dir + "/volumes").ok());
    EXPECT_FALSE(parse_volume("bad name:/data", dir + "/volumes").ok());
    EXPECT_FALSE(parse_volume(dir + ":/data:bogus", dir + "/volumes").ok());

    auto named = parse_volume("cache:/cache", dir + "/volumes");
    ASSERT_TRUE(named.ok()) << named.error().what();
    EXPECT_EQ(named->source, dir + "/volumes/cache/_data");
    EXPECT_TRUE(is_directory(named->source));
    EXPECT_EQ(*list_volumes(dir + "/volumes"), (std::vector<std::string>{"cache"}));
    EXPECT_TRUE(remove_volume(dir + "/volumes", "cache").ok());
    EXPECT_EQ(remove_volume(dir + "/volumes", "cache").error().errno_value(), ENOENT);
    EXPECT_TRUE(list_volumes(dir + "/volumes")->empty());

    auto t = parse_tmpfs("/scratch:size=1m,exec");
    ASSERT_TRUE(t.ok());
    EXPECT_EQ(t->type, "tmpfs");
    EXPECT_EQ(t->options, (std::vector<std::string>{"nosuid", "nodev", "size=1m", "exec"}));
    EXPECT_FALSE(parse_tmpfs("scratch").ok());
    (void)remove_all(dir);
}

TEST(EngineFlags, MountOrderAndDuplicates) {
    FlagSpec f;
    f.o.volumes_dir = "/nonexistent";
    f.o.volumes = {"/tmp:/x/y"};
    f.o.tmpfs = {"/x", "/dev/shm:size=1m"};
    auto j = f.build();
    ASSERT_TRUE(j.ok()) << j.error().what();
    std::vector<std::string> dests;
    int shm = 0;
    for (const auto& m : (*j)["mounts"]) {
        dests.push_back(m["destination"]);
        if (m["destination"] == "/dev/shm") {
            ++shm;
            EXPECT_EQ(m["options"].back(), "size=1m");
        }
    }
    EXPECT_EQ(shm, 1);  // the user's replaces the default
    auto x = std::find(dests.begin(), dests.end(), "/x");
    auto xy = std::find(dests.begin(), dests.end(), "/x/y");
    ASSERT_NE(x, dests.end());
    EXPECT_LT(x, xy);
    f.o.tmpfs = {"/x/y/"};
    auto dup = f.build();
    ASSERT_FALSE(dup.ok());
    EXPECT_NE(std::string(dup.error().what()).find("duplicate mount point `/x/y`"),
              std::string::npos);
}

TEST(EngineFlags, ResourcesAndInit) {
    EXPECT_EQ(*parse_bytes("--memory", "512m"), 512 << 20);
    EXPECT_EQ(*parse_bytes("--memory", "1G"), int64_t(1) << 30);
    EXPECT_EQ(*parse_bytes("--memory", "64kb"), 64 << 10);
    EXPECT_EQ(*parse_bytes("--memory", "1048576"), 1048576);
    EXPECT_FALSE(parse_bytes("--memory", "lots").ok());
    EXPECT_FALSE(parse_bytes("--memory", "-1m").ok());

    FlagSpec f;
    f.o.memory = "64m";
    f.o.cpus = "1.5";
    f.o.pids_limit = 100;
    auto j = f.build();
    ASSERT_TRUE(j.ok()) << j.error().what();
    EXPECT_EQ((*j)["linux"]["resources"]["memory"]["limit"], 64 << 20);
    EXPECT_EQ((*j)["linux"]["resources"]["cpu"]["quota"], 150000);
    EXPECT_EQ((*j)["linux"]["resources"]["cpu"]["period"], 100000);
    EXPECT_EQ((*j)["linux"]["resources"]["pids"]["limit"], 100);
    // The default device rules stay.
    EXPECT_EQ((*j)["linux"]["resources"]["devices"][0]["allow"], false);
    f.o.init = true;
    j = f.build();
    ASSERT_TRUE(j.ok()) << j.error().what();  // berth-init is built next to the tests
    EXPECT_EQ((*j)["process"]["args"], nlohmann::json::array({kInitPath, "--", "sh"}));
    EXPECT_EQ((*j)["mounts"].back()["destination"], kInitPath);
    f.o.init = false;
    f.o.cpus = "zero";
    EXPECT_FALSE(f.build().ok());
    f.o.cpus.clear();
    f.o.memory = "1k";
    EXPECT_FALSE(f.build().ok());
}

}  // namespace
}  // namespace berth::engine

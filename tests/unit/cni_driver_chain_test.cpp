// The CNI driver's verbs (net/cnidriver/driver.h) over a chain of fake plugins: a Python script
// that logs each call (command, env, stdin) and answers as its configuration tells it. No root.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "base/file.h"
#include "base/strings.h"
#include "net/cnidriver/driver.h"

namespace berth::net::cnidriver {
namespace {

// Logs {"cmd", "type", "conf", "env"} as one JSON line to conf["log"]. ADD appends conf["ip"] to
// prevResult's ips (or starts a result), or prints conf["garbage"]; conf["fail"] lists commands to
// fail with conf["code"].
const char* kFakePlugin = R"(#!/usr/bin/python3
import json, os, sys
conf = json.load(sys.stdin)
cmd = os.environ["CNI_COMMAND"]
if cmd == "VERSION":
    print(json.dumps({"cniVersion": "1.1.0", "supportedVersions": ["0.3.1", "0.4.0", "1.0.0", "1.1.0"]}))
    sys.exit(0)
env = {k: v for k, v in os.environ.items() if k.startswith("CNI_")}
with open(conf["log"], "a") as f:
    f.write(json.dumps({"cmd": cmd, "type": conf["type"], "conf": conf, "env": env}) + "\n")
if cmd in conf.get("fail", []):
    print(json.dumps({"cniVersion": conf["cniVersion"], "code": conf.get("code", 7),
                      "msg": "fake failure", "details": conf["type"]}))
    sys.exit(1)
if cmd == "ADD" and "garbage" in conf:
    print(conf["garbage"])
    sys.exit(0)
if cmd == "ADD":
    r = conf.get("prevResult") or {"cniVersion": conf["cniVersion"], "ips": []}
    if "ip" in conf:
        r["ips"].append({"address": conf["ip"]})
    print(json.dumps(r))
)";

class CniDriverChain : public ::testing::Test {
  protected:
    void SetUp() override {
        char tmpl[] = "/tmp/berth-cnidriver-chain.XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
        ASSERT_TRUE(mkdir_p(dir_ + "/bin").ok());
        for (const char* name : {"first", "second", "third"}) {
            std::string p = dir_ + "/bin/" + name;
            ASSERT_TRUE(write_file(p, kFakePlugin, true, 0755).ok());
            ::chmod(p.c_str(), 0755);
        }
        log_ = dir_ + "/log";
        rt_.container_id = "ctr1";
        rt_.netns = "/var/run/netns/fake";
        rt_.ifname = "eth0";
        rt_.args = {{"IgnoreUnknown", "1"}};
        rt_.capability_args = {{"portMappings", Json::array({{{"hostPort", 80}}})}};
    }
    void TearDown() override { (void)remove_all(dir_); }

    // A list of the three fake plugins; `extra[i]` is merged into plugin i.
    NetworkConfigList list(const std::string& version = "1.1.0", std::vector<Json> extra = {}) {
        Json plugins = Json::array();
        const char* types[] = {"first", "second", "third"};
        const char* ips[] = {"10.0.0.2/24", "10.0.1.2/24", "10.0.2.2/24"};
        for (size_t i = 0; i < 3; i++) {
            Json p = {{"type", types[i]}, {"log", log_}, {"ip", ips[i]}};
            if (i == 2) p["capabilities"] = {{"portMappings", true}};
            if (i < extra.size()) p.update(extra[i]);
            plugins.push_back(p);
        }
        Json l = {{"cniVersion", version}, {"name", "net1"}, {"plugins", plugins}};
        auto parsed = parse_conflist(l.dump(), "test.conflist");
        EXPECT_TRUE(parsed.ok()) << parsed.error().what();
        return *parsed;
    }
    CniDriver driver() { return CniDriver({{dir_ + "/empty", dir_ + "/bin"}, dir_ + "/cache"}); }
    // The calls logged so far, then the log is emptied.
    std::vector<Json> calls() {
        std::vector<Json> out;
        auto text = read_file(log_);
        if (text)
            for (const std::string& line : split(*text, '\n'))
                if (!line.empty()) out.push_back(Json::parse(line));
        (void)write_file(log_, "", true);
        return out;
    }
    static std::string sequence(const std::vector<Json>& calls) {
        std::string s;
        for (const Json& c : calls)
            s += (s.empty() ? "" : " ") + c["cmd"].get<std::string>() + ":" +
                 c["type"].get<std::string>();
        return s;
    }
    std::string cache_file() { return dir_ + "/cache/results/net1-ctr1-eth0"; }

    std::string dir_, log_;
    RuntimeConf rt_;
};

TEST_F(CniDriverChain, AddChainsResultsAndCaches) {
    auto d = driver();
    auto l = list();
    cni::Outcome o = d.add(l, rt_);
    ASSERT_FALSE(o.error) << o.error->msg;
    Json result = Json::parse(o.output);
    ASSERT_EQ(result["ips"].size(), 3u);
    EXPECT_EQ(result["ips"][2]["address"], "10.0.2.2/24");

    auto c = calls();
    EXPECT_EQ(sequence(c), "ADD:first ADD:second ADD:third");
    EXPECT_FALSE(c[0]["conf"].contains("prevResult"));
    EXPECT_EQ(c[1]["conf"]["prevResult"]["ips"].size(), 1u);
    EXPECT_EQ(c[2]["conf"]["prevResult"]["ips"].size(), 2u);
    EXPECT_EQ(c[0]["env"]["CNI_CONTAINERID"], "ctr1");
    EXPECT_EQ(c[0]["env"]["CNI_NETNS"], "/var/run/netns/fake");
    EXPECT_EQ(c[0]["env"]["CNI_IFNAME"], "eth0");
    EXPECT_EQ(c[0]["env"]["CNI_ARGS"], "IgnoreUnknown=1");
    EXPECT_EQ(c[0]["env"]["CNI_PATH"], dir_ + "/empty:" + dir_ + "/bin");
    EXPECT_EQ(c[0]["conf"]["name"], "net1");
    EXPECT_EQ(c[0]["conf"]["cniVersion"], "1.1.0");
    EXPECT_FALSE(c[0]["conf"].contains("runtimeConfig"));
    EXPECT_EQ(c[2]["conf"]["runtimeConfig"]["portMappings"], rt_.capability_args["portMappings"]);

    Json cached = Json::parse(*read_file(cache_file()));
    EXPECT_EQ(cached["kind"], "cniCacheV1");
    EXPECT_EQ(cached["result"], result);
    EXPECT_EQ(*d.cached_result(l, rt_), result);
}

TEST_F(CniDriverChain, FailedAddUndoesTheChainAndKeepsTheCode) {
    auto d = driver();
    auto l = list("1.0.0", {Json::object(), Json::object(), {{"fail", {"ADD"}}, {"code", 11}}});
    cni::Outcome o = d.add(l, rt_);
    ASSERT_TRUE(o.error);
    EXPECT_EQ(o.error->code, 11u);
    EXPECT_NE(o.error->msg.find("type=\"third\""), std::string::npos) << o.error->msg;
    EXPECT_NE(o.error->msg.find("fake failure"), std::string::npos) << o.error->msg;
    auto c = calls();
    EXPECT_EQ(sequence(c), "ADD:first ADD:second ADD:third DEL:third DEL:second DEL:first");
    // The undo gets what the failed plugin was given.
    EXPECT_EQ(c[3]["conf"]["prevResult"]["ips"].size(), 2u);
    EXPECT_FALSE(path_exists(cache_file()));
}

TEST_F(CniDriverChain, InvalidResultIsADecodeFailureAndUndone) {
    auto d = driver();
    for (const char* garbage : {"not json", R"({"ips":[{"address":"nonsense"}]})"}) {
        auto l = list("1.0.0", {Json::object(), {{"garbage", garbage}}});
        cni::Outcome o = d.add(l, rt_);
        ASSERT_TRUE(o.error) << garbage;
        EXPECT_EQ(o.error->code, cni::kDecodeFailure) << o.error->msg;
        EXPECT_EQ(sequence(calls()), "ADD:first ADD:second DEL:second DEL:first");
        EXPECT_FALSE(path_exists(cache_file()));
    }
}

TEST_F(CniDriverChain, DelRunsInReverseWithCachedResultAndArgs) {
    auto d = driver();
    auto l = list();
    ASSERT_FALSE(d.add(l, rt_).error);
    calls();
    RuntimeConf bare{rt_.container_id, rt_.netns, rt_.ifname, {}, Json::object()};
    cni::Outcome o = d.del(l, bare);
    ASSERT_FALSE(o.error) << o.error->msg;
    auto c = calls();
    EXPECT_EQ(sequence(c), "DEL:third DEL:second DEL:first");
    EXPECT_EQ(c[0]["conf"]["prevResult"]["ips"].size(), 3u);
    // What the caller left out comes from the cache.
    EXPECT_EQ(c[0]["env"]["CNI_ARGS"], "IgnoreUnknown=1");
    EXPECT_EQ(c[0]["conf"]["runtimeConfig"]["portMappings"], rt_.capability_args["portMappings"]);
    EXPECT_FALSE(path_exists(cache_file()));
}

TEST_F(CniDriverChain, DelWithoutCacheStillRunsAndIsRepeatable) {
    auto d = driver();
    auto l = list();
    for (int i = 0; i < 2; i++) {
        cni::Outcome o = d.del(l, rt_);
        ASSERT_FALSE(o.error) << o.error->msg;
        auto c = calls();
        EXPECT_EQ(sequence(c), "DEL:third DEL:second DEL:first");
        EXPECT_FALSE(c[0]["conf"].contains("prevResult"));
    }
}

TEST_F(CniDriverChain, DelFailureAsksEveryPluginAndKeepsTheCache) {
    auto d = driver();
    ASSERT_FALSE(d.add(list(), rt_).error);
    calls();
    auto l = list("1.1.0", {Json::object(), {{"fail", {"DEL"}}}});
    cni::Outcome o = d.del(l, rt_);
    ASSERT_TRUE(o.error);
    EXPECT_NE(o.error->msg.find("type=\"second\""), std::string::npos);
    EXPECT_EQ(sequence(calls()), "DEL:third DEL:second DEL:first");
    EXPECT_TRUE(path_exists(cache_file()));
}

TEST_F(CniDriverChain, OldVersionsDelWithoutPrevResult) {
    auto d = driver();
    auto l = list("0.3.1");
    ASSERT_FALSE(d.add(l, rt_).error);
    calls();
    ASSERT_FALSE(d.del(l, rt_).error);
    auto c = calls();
    ASSERT_EQ(c.size(), 3u);
    EXPECT_FALSE(c[0]["conf"].contains("prevResult"));
    EXPECT_FALSE(path_exists(cache_file()));
}

TEST_F(CniDriverChain, CheckUsesCacheAndNeedsVersion040) {
    auto d = driver();
    auto l = list("1.0.0");
    cni::Outcome none = d.check(l, rt_);
    ASSERT_TRUE(none.error);
    EXPECT_EQ(none.error->code, cni::kUnknownContainer);
    ASSERT_FALSE(d.add(l, rt_).error);
    calls();
    cni::Outcome o = d.check(l, rt_);
    ASSERT_FALSE(o.error) << o.error->msg;
    auto c = calls();
    EXPECT_EQ(sequence(c), "CHECK:first CHECK:second CHECK:third");
    EXPECT_EQ(c[0]["conf"]["prevResult"]["ips"].size(), 3u);

    cni::Outcome old = d.check(list("0.3.1"), rt_);
    ASSERT_TRUE(old.error);
    EXPECT_EQ(old.error->code, cni::kIncompatibleVersion);
    EXPECT_TRUE(calls().empty());

    auto failing = list("1.0.0", {Json::object(), {{"fail", {"CHECK"}}}});
    cni::Outcome bad = d.check(failing, rt_);
    ASSERT_TRUE(bad.error);
    EXPECT_EQ(sequence(calls()), "CHECK:first CHECK:second");
}

TEST_F(CniDriverChain, DisableCheckRunsNothing) {
    auto d = driver();
    auto l = list("1.0.0");
    l.disable_check = true;
    ASSERT_FALSE(d.check(l, rt_).error);
    EXPECT_TRUE(calls().empty());
}

TEST_F(CniDriverChain, GcDeletesStaleAttachmentsThenAsksPlugins) {
    auto d = driver();
    auto l = list("1.1.0");
    RuntimeConf keep = rt_, stale = rt_;
    keep.container_id = "keep";
    stale.container_id = "stale";
    ASSERT_FALSE(d.add(l, keep).error);
    ASSERT_FALSE(d.add(l, stale).error);
    calls();
    cni::Outcome o = d.gc(l, {{"keep", "eth0"}});
    ASSERT_FALSE(o.error) << o.error->msg;
    auto c = calls();
    EXPECT_EQ(sequence(c), "DEL:third DEL:second DEL:first GC:first GC:second GC:third");
    EXPECT_EQ(c[0]["env"]["CNI_CONTAINERID"], "stale");
    EXPECT_EQ(c[3]["conf"]["cni.dev/valid-attachments"],
              Json::parse(R"([{"containerID":"keep","ifname":"eth0"}])"));
    EXPECT_EQ(c[3]["env"]["CNI_CONTAINERID"], "");
    auto left = d.cached_attachments();
    ASSERT_TRUE(left.ok());
    ASSERT_EQ(left->size(), 1u);
    EXPECT_EQ((*left)[0].container_id, "keep");
}

TEST_F(CniDriverChain, GcBefore110OnlyDeletesStaleAndDisableGcNothing) {
    auto d = driver();
    auto l = list("1.0.0");
    ASSERT_FALSE(d.add(l, rt_).error);
    calls();
    auto off = l;
    off.disable_gc = true;
    ASSERT_FALSE(d.gc(off, {}).error);
    EXPECT_TRUE(calls().empty());
    ASSERT_FALSE(d.gc(l, {}).error);
    EXPECT_EQ(sequence(calls()), "DEL:third DEL:second DEL:first");
    EXPECT_FALSE(path_exists(cache_file()));
}

TEST_F(CniDriverChain, StatusStopsAtTheFirstNotReady) {
    auto d = driver();
    ASSERT_FALSE(d.status(list("1.1.0")).error);
    EXPECT_EQ(sequence(calls()), "STATUS:first STATUS:second STATUS:third");
    auto l = list("1.1.0", {Json::object(), {{"fail", {"STATUS"}}, {"code", 50}}});
    cni::Outcome o = d.status(l);
    ASSERT_TRUE(o.error);
    EXPECT_EQ(o.error->code, 50u);
    EXPECT_EQ(sequence(calls()), "STATUS:first STATUS:second");
    ASSERT_FALSE(d.status(list("1.0.0")).error);
    EXPECT_TRUE(calls().empty());
}

TEST_F(CniDriverChain, BadRuntimeParametersAndMissingPlugins) {
    auto d = driver();
    RuntimeConf bad = rt_;
    bad.container_id = "../x";
    cni::Outcome o = d.add(list(), bad);
    ASSERT_TRUE(o.error);
    EXPECT_EQ(o.error->code, cni::kInvalidEnvironment);
    bad = rt_;
    bad.ifname = "a/b";
    EXPECT_EQ(d.del(list(), bad).error->code, cni::kInvalidEnvironment);
    EXPECT_TRUE(calls().empty());

    auto missing = list("1.0.0", {{{"type", "nosuch"}}});
    cni::Outcome m = d.add(missing, rt_);
    ASSERT_TRUE(m.error);
    EXPECT_EQ(m.error->code, cni::kPluginNotAvailable);
    EXPECT_NE(m.error->msg.find("nosuch"), std::string::npos) << m.error->msg;
}

}  // namespace
}  // namespace berth::net::cnidriver

// The CNI driver's configuration loading (net/cnidriver/config.h), runtime-config injection
// (driver.h plugin_config) and result cache format (cache.h). No root, no plugins.
#include <gtest/gtest.h>

#include "base/file.h"
#include "net/cnidriver/cache.h"
#include "net/cnidriver/config.h"
#include "net/cnidriver/driver.h"

namespace berth::net::cnidriver {
namespace {

class CniDriverFiles : public ::testing::Test {
  protected:
    void SetUp() override {
        char tmpl[] = "/tmp/berth-cnidriver-test.XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
    }
    void TearDown() override { (void)remove_all(dir_); }
    void put(const std::string& name, const std::string& text) {
        ASSERT_TRUE(write_file(path_join(dir_, name), text, true).ok());
    }
    std::string dir_;
};

const char* kList = R"({"cniVersion":"1.0.0","name":"net1","plugins":[
    {"type":"bridge","bridge":"br0","ipam":{"type":"host-local"}},
    {"type":"portmap","capabilities":{"portMappings":true}}]})";

std::string error_of(const Result<NetworkConfigList>& r) {
    return r.ok() ? "<ok>" : r.error().what();
}

TEST(CniDriverConfig, ParsesAConflist) {
    auto l = parse_conflist(kList, "/etc/cni/net.d/10-net1.conflist");
    ASSERT_TRUE(l.ok()) << l.error().what();
    EXPECT_EQ(l->name, "net1");
    EXPECT_EQ(l->cni_version, "1.0.0");
    ASSERT_EQ(l->plugins.size(), 2u);
    EXPECT_EQ(l->plugins[1]["type"], "portmap");
    EXPECT_EQ(l->bytes, kList);
    EXPECT_FALSE(l->disable_check);
}

TEST(CniDriverConfig, ErrorsNameTheFileAndField) {
    struct Case {
        const char* text;
        const char* want;
    } cases[] = {
        {"{", "f.conflist: not valid JSON"},
        {"[]", "not a JSON object"},
        {R"({"cniVersion":"1.0.0","plugins":[{"type":"x"}]})", "f.conflist: name: missing"},
        {R"({"name":5,"cniVersion":"1.0.0","plugins":[{"type":"x"}]})", "name: not a string"},
        {R"({"name":"a/b","cniVersion":"1.0.0","plugins":[{"type":"x"}]})", "name: \"a/b\""},
        {R"({"name":"n","plugins":[{"type":"x"}]})", "cniVersion: missing"},
        {R"({"name":"n","cniVersion":"0.2.0","plugins":[{"type":"x"}]})",
         "cniVersion: \"0.2.0\" is not supported"},
        {R"({"name":"n","cniVersion":"1.0.0"})", "plugins: missing"},
        {R"({"name":"n","cniVersion":"1.0.0","plugins":{}})", "plugins: not an array"},
        {R"({"name":"n","cniVersion":"1.0.0","plugins":[]})", "plugins: empty"},
        {R"({"name":"n","cniVersion":"1.0.0","plugins":[{"type":"x"},{}]})",
         "plugins[1].type: missing"},
        {R"({"name":"n","cniVersion":"1.0.0","plugins":[{"type":"../x"}]})",
         "plugins[0].type: \"../x\" is not a plain name"},
        {R"({"name":"n","cniVersion":"1.0.0","plugins":[{"type":"x","capabilities":[]}]})",
         "plugins[0].capabilities: not an object"},
        {R"({"name":"n","cniVersion":"1.0.0","disableCheck":"maybe","plugins":[{"type":"x"}]})",
         "disableCheck: not a boolean"},
    };
    for (const Case& c : cases) {
        std::string err = error_of(parse_conflist(c.text, "f.conflist"));
        EXPECT_NE(err.find(c.want), std::string::npos) << c.text << " -> " << err;
    }
}

TEST(CniDriverConfig, CniVersionsPicksTheNewestWeSpeak) {
    auto l = parse_conflist(
        R"({"name":"n","cniVersion":"0.4.0","cniVersions":["1.0.0","1.1.0","9.0.0"],
            "plugins":[{"type":"x"}]})");
    ASSERT_TRUE(l.ok()) << l.error().what();
    EXPECT_EQ(l->cni_version, "1.1.0");
}

TEST(CniDriverConfig, DisableFlagsTakeBoolsAndStrings) {
    auto l = parse_conflist(
        R"({"name":"n","cniVersion":"1.1.0","disableCheck":"TRUE","disableGC":true,
            "plugins":[{"type":"x"}]})");
    ASSERT_TRUE(l.ok()) << l.error().what();
    EXPECT_TRUE(l->disable_check);
    EXPECT_TRUE(l->disable_gc);
}

TEST(CniDriverConfig, SingleConfBecomesAListOfOne) {
    auto l = parse_conf(R"({"cniVersion":"0.3.1","name":"lo","type":"loopback"})", "99-lo.conf");
    ASSERT_TRUE(l.ok()) << l.error().what();
    ASSERT_EQ(l->plugins.size(), 1u);
    EXPECT_EQ(l->plugins[0]["type"], "loopback");
    Json bytes = Json::parse(l->bytes);
    EXPECT_EQ(bytes["name"], "lo");
    EXPECT_EQ(bytes["plugins"][0]["type"], "loopback");
    EXPECT_NE(error_of(parse_conf(R"({"cniVersion":"1.0.0","name":"lo"})", "x.conf"))
                  .find("x.conf: type: missing"),
              std::string::npos);
}

TEST_F(CniDriverFiles, DirectoryIsReadInNameOrder) {
    put("20-b.conflist", R"({"cniVersion":"1.0.0","name":"b","plugins":[{"type":"x"}]})");
    put("10-a.conf", R"({"cniVersion":"1.0.0","name":"a","type":"x"})");
    put("30-c.json", R"({"cniVersion":"1.0.0","name":"c","type":"x"})");
    put("05-ignored.txt", "not a config");
    ASSERT_TRUE(mkdir_p(dir_ + "/00-dir.conf").ok());
    auto files = config_files(dir_);
    ASSERT_TRUE(files.ok());
    ASSERT_EQ(files->size(), 3u);
    auto lists = load_config_dir(dir_);
    ASSERT_TRUE(lists.ok()) << lists.error().what();
    ASSERT_EQ(lists->size(), 3u);
    EXPECT_EQ((*lists)[0].name, "a");
    EXPECT_EQ((*lists)[1].name, "b");
    EXPECT_EQ((*lists)[2].name, "c");
    EXPECT_TRUE(config_files(dir_ + "/missing")->empty());
}

TEST_F(CniDriverFiles, LoadNetworkPrefersConflists) {
    put("10-a.conf", R"({"cniVersion":"1.0.0","name":"a","type":"single"})");
    put("20-a.conflist", R"({"cniVersion":"1.0.0","name":"a","plugins":[{"type":"list"}]})");
    auto l = load_network(dir_, "a");
    ASSERT_TRUE(l.ok()) << l.error().what();
    EXPECT_EQ(l->plugins[0]["type"], "list");
    EXPECT_EQ(l->source, dir_ + "/20-a.conflist");
    auto missing = load_network(dir_, "zzz");
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.error().errno_value(), ENOENT);
}

TEST_F(CniDriverFiles, BadFileInDirectoryIsNamed) {
    put("10-bad.conflist", R"({"cniVersion":"1.0.0","name":"bad","plugins":[{}]})");
    auto lists = load_config_dir(dir_);
    ASSERT_FALSE(lists.ok());
    EXPECT_NE(lists.error().what().find(dir_ + "/10-bad.conflist: plugins[0].type: missing"),
              std::string::npos)
        << lists.error().what();
}

TEST(CniDriverInject, NameVersionPrevResultAndDeclaredCapabilities) {
    auto l = parse_conflist(R"({"cniVersion":"1.0.0","name":"net1","plugins":[
        {"type":"bridge","name":"other","cniVersion":"0.3.1"},
        {"type":"portmap","capabilities":{"portMappings":true,"bandwidth":false},
         "runtimeConfig":{"stale":1}}]})");
    ASSERT_TRUE(l.ok());
    RuntimeConf rt;
    rt.capability_args = {{"portMappings", Json::array({{{"hostPort", 8080}}})},
                          {"bandwidth", {{"ingressRate", 1}}},
                          {"ips", {"10.0.0.5/24"}}};
    Json first = plugin_config(*l, 0, Json(), rt);
    EXPECT_EQ(first["name"], "net1");
    EXPECT_EQ(first["cniVersion"], "1.0.0");
    EXPECT_FALSE(first.contains("prevResult"));
    EXPECT_FALSE(first.contains("runtimeConfig"));  // declares no capabilities

    Json prev = {{"cniVersion", "1.0.0"}, {"ips", Json::array()}};
    Json second = plugin_config(*l, 1, prev, rt);
    EXPECT_EQ(second["prevResult"], prev);
    ASSERT_TRUE(second.contains("runtimeConfig"));
    // Only the declared, enabled capability; what the file had there is replaced.
    EXPECT_EQ(second["runtimeConfig"],
              Json({{"portMappings", rt.capability_args["portMappings"]}}));
}

TEST(CniDriverInject, CniArgsJoin) {
    EXPECT_EQ(join_cni_args({{"IgnoreUnknown", "1"}, {"K8S_POD_NAME", "p"}}),
              "IgnoreUnknown=1;K8S_POD_NAME=p");
    EXPECT_EQ(join_cni_args({}), "");
}

TEST(CniDriverCache, Base64MatchesGo) {
    EXPECT_EQ(base64_encode(""), "");
    EXPECT_EQ(base64_encode("f"), "Zg==");
    EXPECT_EQ(base64_encode("fo"), "Zm8=");
    EXPECT_EQ(base64_encode("foo"), "Zm9v");
    EXPECT_EQ(base64_encode("{\"a\":1}\n"), "eyJhIjoxfQo=");
    for (std::string s : {"", "f", "fo", "foo", "foob", "\xff\x00\x01"})
        EXPECT_EQ(*base64_decode(base64_encode(s)), s);
    EXPECT_FALSE(base64_decode("Zg=").ok());
    EXPECT_FALSE(base64_decode("Z=g=").ok());
    EXPECT_FALSE(base64_decode("Zm9*").ok());
}

TEST_F(CniDriverFiles, CacheFileHasLibcniLayout) {
    CachedAttachment a;
    a.container_id = "ctr1";
    a.ifname = "eth0";
    a.network_name = "net1";
    a.netns = "/var/run/netns/x";
    a.config = kList;
    a.cni_args = {{"IgnoreUnknown", "1"}};
    a.capability_args = {{"portMappings", Json::array()}};
    a.result = {{"cniVersion", "1.0.0"}, {"ips", Json::array()}};
    ASSERT_TRUE(write_cached(dir_, a).ok());

    std::string path = dir_ + "/results/net1-ctr1-eth0";
    EXPECT_EQ(cache_file_path(dir_, "net1", "ctr1", "eth0"), path);
    Json j = Json::parse(*read_file(path));
    EXPECT_EQ(j["kind"], "cniCacheV1");
    EXPECT_EQ(j["containerId"], "ctr1");
    EXPECT_EQ(j["ifName"], "eth0");
    EXPECT_EQ(j["networkName"], "net1");
    EXPECT_EQ(j["netns"], "/var/run/netns/x");
    EXPECT_EQ(*base64_decode(j["config"].get<std::string>()), kList);
    EXPECT_EQ(j["cniArgs"], Json::parse(R"([["IgnoreUnknown","1"]])"));
    EXPECT_EQ(j["capabilityArgs"], a.capability_args);
    EXPECT_EQ(j["result"], a.result);

    auto back = read_cached(dir_, "net1", "ctr1", "eth0");
    ASSERT_TRUE(back.ok() && back->has_value());
    EXPECT_EQ((*back)->config, kList);
    EXPECT_EQ((*back)->cni_args, a.cni_args);
    EXPECT_EQ((*back)->result, a.result);

    auto listed = list_cached(dir_);
    ASSERT_TRUE(listed.ok());
    ASSERT_EQ(listed->size(), 1u);
    EXPECT_TRUE(list_cached(dir_, "other")->empty());

    ASSERT_TRUE(remove_cached(dir_, "net1", "ctr1", "eth0").ok());
    EXPECT_FALSE(read_cached(dir_, "net1", "ctr1", "eth0")->has_value());
    EXPECT_TRUE(remove_cached(dir_, "net1", "ctr1", "eth0").ok());
}

TEST_F(CniDriverFiles, CacheSkipsForeignFilesAndRefusesWrongKind) {
    ASSERT_TRUE(mkdir_p(dir_ + "/results").ok());
    put("results/junk", "not json");
    put("results/net1-c-eth0", R"({"kind":"other"})");
    EXPECT_TRUE(list_cached(dir_)->empty());
    auto r = read_cached(dir_, "net1", "c", "eth0");
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().what().find("kind"), std::string::npos);
}

}  // namespace
}  // namespace berth::net::cnidriver

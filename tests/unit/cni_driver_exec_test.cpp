// The CNI driver running real plugins: the reference plugins in /usr/lib/cni (bridge,
// host-local, portmap, loopback) and berth's own (berth-host-local, berth-loopback, found next
// to this test binary or in $BERTH_CNI_BIN). Root only: each test makes two network namespaces,
// "host" (where the driver and so the plugins run: the bridge and portmap's rules live there)
// and "container"; nothing touches the real host namespace. Skipped without root or plugins.
#include <gtest/gtest.h>
#include <limits.h>
#include <unistd.h>

#include <cstdlib>

#include "base/file.h"
#include "base/strings.h"
#include "net/cnidriver/driver.h"
#include "net/netlink/netns.h"

namespace berth::net::cnidriver {
namespace {

const char* kReference = "/usr/lib/cni";

std::string berth_bin() {
    if (const char* d = std::getenv("BERTH_CNI_BIN")) return d;
    char buf[PATH_MAX];
    ssize_t n = ::readlink("/proc/self/exe", buf, sizeof(buf) - 1);
    return n > 0 ? path_dirname(std::string(buf, size_t(n))) : "";
}

bool executable(const std::string& p) {
    return ::access(p.c_str(), X_OK) == 0;
}

// `cmd`'s stdout; empty on failure.
std::string sh(const std::string& cmd) {
    std::string out;
    if (FILE* f = ::popen(cmd.c_str(), "r")) {
        char buf[4096];
        size_t n;
        while ((n = fread(buf, 1, sizeof(buf), f)) > 0) out.append(buf, n);
        ::pclose(f);
    }
    return out;
}

class CniDriverExec : public ::testing::Test {
  protected:
    void SetUp() override {
        if (::geteuid() != 0) GTEST_SKIP() << "needs root (network namespaces)";
        for (const char* p : {"bridge", "host-local", "portmap", "loopback"})
            if (!executable(std::string(kReference) + "/" + p))
                GTEST_SKIP() << "reference plugin " << p << " missing";
        char tmpl[] = "/tmp/berth-cnidriver-exec.XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
        std::string tag = std::to_string(::getpid()) + "-" + std::to_string(counter_++);
        host_ = "bt-cnidrv-h" + tag;
        ctr_ = "bt-cnidrv-c" + tag;
        ASSERT_EQ(std::system(("ip netns add " + host_ + " && ip netns add " + ctr_).c_str()), 0);
        auto fd = open_netns("/var/run/netns/" + host_);
        ASSERT_TRUE(fd.ok());
        host_fd_ = std::move(*fd);
        rt_.container_id = "ctr-" + tag;
        rt_.netns = "/var/run/netns/" + ctr_;
        rt_.ifname = "eth0";
    }
    void TearDown() override {
        if (!host_.empty())
            (void)std::system(("ip netns del " + host_ + "; ip netns del " + ctr_).c_str());
        if (!dir_.empty()) (void)remove_all(dir_);
    }

    CniDriver driver() { return CniDriver({{berth_bin(), kReference}, dir_ + "/cache"}); }
    // Runs a driver verb with the "host" namespace as the plugins' namespace.
    template <typename F>
    cni::Outcome in_host(F&& verb) {
        auto r = in_netns(host_fd_, [&]() -> Result<cni::Outcome> { return verb(); });
        if (!r) return cni::Outcome::fail(cni::kInternal, r.error());
        return *r;
    }
    NetworkConfigList parse(const Json& j) {
        auto l = parse_conflist(j.dump(), "test");
        EXPECT_TRUE(l.ok()) << l.error().what();
        return *l;
    }
    Json host_local(const std::string& type = "host-local") {
        return {{"type", type},
                {"dataDir", dir_ + "/ipam"},
                {"ranges", Json::array({Json::array({{{"subnet", "10.231.7.0/24"}}})})}};
    }
    // The addresses host-local holds for the network (its files but the bookkeeping ones).
    std::vector<std::string> reservations(const std::string& network) {
        std::vector<std::string> out;
        for (const std::string& line : split(sh("ls " + dir_ + "/ipam/" + network), '\n'))
            if (!line.empty() && line != "lock" && !starts_with(line, "last_reserved_ip"))
                out.push_back(line);
        return out;
    }
    std::string cache_file(const std::string& network) {
        return dir_ + "/cache/results/" + network + "-" + rt_.container_id + "-" + rt_.ifname;
    }

    static inline int counter_ = 0;
    std::string dir_, host_, ctr_;
    UniqueFd host_fd_;
    RuntimeConf rt_;
};

class CniDriverExecVersions : public CniDriverExec,
                              public ::testing::WithParamInterface<const char*> {};

TEST_P(CniDriverExecVersions, BridgePortmapChainAddCheckDelGc) {
    const std::string version = GetParam();
    auto d = driver();
    auto list = parse(
        {{"cniVersion", version},
         {"name", "btnet"},
         {"plugins",
          {{{"type", "bridge"},
            {"bridge", "btcd0"},
            {"isGateway", true},
            {"ipMasq", false},
            {"ipam", host_local()}},
           {{"type", "portmap"}, {"capabilities", {{"portMappings", true}}}, {"snat", false}}}}});
    rt_.capability_args = {
        {"portMappings",
         Json::array({{{"hostPort", 18080}, {"containerPort", 80}, {"protocol", "tcp"}}})}};

    cni::Outcome add = in_host([&] { return d.add(list, rt_); });
    ASSERT_FALSE(add.error) << add.error->msg << " " << add.error->details;
    Json result = Json::parse(add.output);
    ASSERT_TRUE(result.contains("ips"));
    std::string ip = result["ips"][0]["address"];
    EXPECT_EQ(ip, "10.231.7.2/24");
    EXPECT_NE(sh("ip -n " + ctr_ + " -o addr show dev eth0").find("10.231.7.2/24"),
              std::string::npos);
    EXPECT_EQ(reservations("btnet"), std::vector<std::string>{"10.231.7.2"});

    // The cache: libcni's layout.
    auto text = read_file(cache_file("btnet"));
    ASSERT_TRUE(text.ok());
    Json cached = Json::parse(*text);
    EXPECT_EQ(cached["kind"], "cniCacheV1");
    EXPECT_EQ(cached["containerId"], rt_.container_id);
    EXPECT_EQ(cached["ifName"], "eth0");
    EXPECT_EQ(cached["networkName"], "btnet");
    EXPECT_EQ(*base64_decode(cached["config"].get<std::string>()), list.bytes);
    EXPECT_EQ(cached["capabilityArgs"], rt_.capability_args);
    EXPECT_EQ(cached["result"], result);

    if (version != "0.3.1") {
        // Without portmap: the reference portmap's (1.1.1) CHECK looks for its IPv4 rule in
        // the IPv6 table and fails on any attachment.
        NetworkConfigList bridge_only = list;
        bridge_only.plugins.pop_back();
        cni::Outcome check = in_host([&] { return d.check(bridge_only, rt_); });
        EXPECT_FALSE(check.error) << check.error->msg;
    }

    cni::Outcome del = in_host([&] { return d.del(list, rt_); });
    ASSERT_FALSE(del.error) << del.error->msg;
    EXPECT_FALSE(path_exists(cache_file("btnet")));
    EXPECT_TRUE(reservations("btnet").empty());
    EXPECT_EQ(sh("ip -n " + ctr_ + " -o link show dev eth0 2>/dev/null"), "");
    // DEL again: nothing cached, nothing to undo, still success.
    cni::Outcome again = in_host([&] { return d.del(list, rt_); });
    EXPECT_FALSE(again.error) << again.error->msg;

    // GC with no valid attachment deletes the cached one, so host-local lets the address go.
    ASSERT_FALSE(in_host([&] { return d.add(list, rt_); }).error);
    EXPECT_EQ(reservations("btnet").size(), 1u);
    cni::Outcome gc = in_host([&] { return d.gc(list, {}); });
    ASSERT_FALSE(gc.error) << gc.error->msg;
    EXPECT_TRUE(reservations("btnet").empty());
    EXPECT_FALSE(path_exists(cache_file("btnet")));
}

INSTANTIATE_TEST_SUITE_P(Versions, CniDriverExecVersions,
                         ::testing::Values("0.3.1", "0.4.0", "1.0.0"));

TEST_F(CniDriverExec, LoopbackReferenceThenBerthChained) {
    if (!executable(berth_bin() + "/berth-loopback")) GTEST_SKIP() << "no berth-loopback";
    auto d = driver();
    auto list = parse({{"cniVersion", "1.0.0"},
                       {"name", "btlo"},
                       {"plugins", {{{"type", "loopback"}}, {{"type", "berth-loopback"}}}}});
    rt_.ifname = "lo";
    cni::Outcome add = in_host([&] { return d.add(list, rt_); });
    ASSERT_FALSE(add.error) << add.error->msg;
    // berth-loopback passes the reference's result through.
    Json result = Json::parse(add.output);
    EXPECT_EQ(result["interfaces"][0]["name"], "lo");
    EXPECT_NE(sh("ip -n " + ctr_ + " link show lo").find("UP"), std::string::npos);
    EXPECT_FALSE(in_host([&] { return d.check(list, rt_); }).error);
    ASSERT_FALSE(in_host([&] { return d.del(list, rt_); }).error);
    EXPECT_EQ(sh("ip -n " + ctr_ + " link show lo").find(",UP"), std::string::npos);
    cni::Outcome check = in_host([&] { return d.check(list, rt_); });
    EXPECT_TRUE(check.error);  // nothing cached any more
}

// GC and STATUS as spec 1.1.0 has them, with berth's host-local (the reference speaks 1.0.0).
TEST_F(CniDriverExec, GcVerbReleasesWhatNoValidAttachmentHolds) {
    if (!executable(berth_bin() + "/berth-host-local")) GTEST_SKIP() << "no berth-host-local";
    auto d = driver();
    Json plugin = {{"type", "berth-host-local"}, {"ipam", host_local("host-local")}};
    auto list = parse({{"cniVersion", "1.1.0"}, {"name", "btgc"}, {"plugins", {plugin}}});
    ASSERT_FALSE(in_host([&] { return d.status(list); }).error);

    RuntimeConf a = rt_, b = rt_;
    a.container_id += "-a";
    b.container_id += "-b";
    ASSERT_FALSE(in_host([&] { return d.add(list, a); }).error);
    ASSERT_FALSE(in_host([&] { return d.add(list, b); }).error);
    EXPECT_EQ(reservations("btgc").size(), 2u);
    // b's cache entry is lost: only the GC verb can free its address now.
    ASSERT_TRUE(remove_cached(dir_ + "/cache", "btgc", b.container_id, "eth0").ok());
    cni::Outcome gc = in_host([&] { return d.gc(list, {{a.container_id, "eth0"}}); });
    ASSERT_FALSE(gc.error) << gc.error->msg;
    EXPECT_EQ(reservations("btgc"), std::vector<std::string>{"10.231.7.2"});
    ASSERT_FALSE(in_host([&] { return d.gc(list, {}); }).error);
    EXPECT_TRUE(reservations("btgc").empty());
    EXPECT_TRUE(d.cached_attachments()->empty());
}

}  // namespace
}  // namespace berth::net::cnidriver

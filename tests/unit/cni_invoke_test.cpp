// Running CNI plugins (net/cni/invoke.h) with small shell scripts standing in for plugins: the
// search path, the environment and stdin they get, and how their errors come back.
#include "net/cni/invoke.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "base/file.h"

namespace berth::net::cni {
namespace {

class CniInvoke : public ::testing::Test {
  protected:
    void SetUp() override {
        char tmpl[] = "/tmp/berth-cni-invoke-test.XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
        ASSERT_TRUE(mkdir_p(dir_ + "/a").ok());
        ASSERT_TRUE(mkdir_p(dir_ + "/b").ok());
    }
    void TearDown() override { (void)remove_all(dir_); }

    std::string script(const std::string& rel, const std::string& body, mode_t mode = 0755) {
        std::string path = dir_ + "/" + rel;
        EXPECT_TRUE(write_file(path, "#!/bin/sh\n" + body, true, mode).ok());
        ::chmod(path.c_str(), mode);
        return path;
    }
    PluginEnv env(const std::string& command = "ADD") {
        return {command, "ctr1", "/var/run/netns/x", "eth0", "A=1;B=2", dir_ + "/a:" + dir_ + "/b"};
    }
    std::string dir_;
};

TEST_F(CniInvoke, FindPluginSearchesThePathInOrder) {
    script("b/p", "exit 0\n");
    auto found = find_plugin("p", dir_ + "/a:" + dir_ + "/b");
    ASSERT_TRUE(found.ok()) << found.error().what();
    EXPECT_EQ(*found, dir_ + "/b/p");
    script("a/p", "exit 0\n");
    EXPECT_EQ(*find_plugin("p", dir_ + "/a:" + dir_ + "/b"), dir_ + "/a/p");
}

TEST_F(CniInvoke, FindPluginSkipsWhatItCannotRun) {
    script("a/p", "exit 0\n", 0644);
    ASSERT_TRUE(mkdir_p(dir_ + "/a/q").ok());
    auto r = find_plugin("p", dir_ + "/a");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().errno_value(), ENOENT);
    EXPECT_NE(r.error().what().find("\"p\""), std::string::npos);
    EXPECT_FALSE(find_plugin("q", dir_ + "/a").ok());
}

TEST_F(CniInvoke, FindPluginRefusesPaths) {
    for (const char* t : {"../p", "/bin/sh", "a/p", "", ".."}) {
        auto r = find_plugin(t, dir_);
        ASSERT_FALSE(r.ok()) << t;
        EXPECT_EQ(r.error().errno_value(), EINVAL) << t;
    }
}

TEST_F(CniInvoke, PluginGetsEnvironmentAndStdin) {
    std::string p = script("a/p",
                           "printf '%s|%s|%s|%s|%s|%s|%s|' \"$CNI_COMMAND\" \"$CNI_CONTAINERID\" "
                           "\"$CNI_NETNS\" \"$CNI_IFNAME\" \"$CNI_ARGS\" \"$CNI_PATH\" "
                           "\"${HOME:-nohome}\"\ncat\n");
    Outcome o = exec_plugin(p, env(), "{\"x\":1}");
    ASSERT_FALSE(o.error) << o.error->msg;
    EXPECT_EQ(o.output, "ADD|ctr1|/var/run/netns/x|eth0|A=1;B=2|" + dir_ + "/a:" + dir_ +
                            "/b|nohome|{\"x\":1}");
}

TEST_F(CniInvoke, ErrorJsonKeepsItsCode) {
    std::string p = script("a/p",
                           "cat >/dev/null\necho '{\"cniVersion\":\"1.0.0\",\"code\":11,\"msg\":"
                           "\"busy\",\"details\":\"try later\"}'\necho noise >&2\nexit 1\n");
    Outcome o = exec_plugin(p, env(), "{}");
    ASSERT_TRUE(o.error);
    EXPECT_EQ(o.error->code, kTryAgainLater);
    EXPECT_EQ(o.error->msg, "busy");
    EXPECT_EQ(o.error->details, "try later");
}

TEST_F(CniInvoke, FailureWithoutErrorJsonReportsStderr) {
    std::string p = script("a/p", "echo 'it broke' >&2\nexit 3\n");
    Outcome o = exec_plugin(p, env(), "{}");
    ASSERT_TRUE(o.error);
    EXPECT_EQ(o.error->code, kInternal);
    EXPECT_NE(o.error->msg.find("it broke"), std::string::npos) << o.error->msg;
    EXPECT_NE(o.error->msg.find("status 3"), std::string::npos) << o.error->msg;
}

TEST_F(CniInvoke, KilledPluginIsAnError) {
    std::string p = script("a/p", "kill -9 $$\n");
    Outcome o = exec_plugin(p, env(), "{}");
    ASSERT_TRUE(o.error);
    EXPECT_NE(o.error->msg.find("signal 9"), std::string::npos) << o.error->msg;
}

TEST_F(CniInvoke, MissingExecutableIsPluginNotAvailable) {
    Outcome o = exec_plugin(dir_ + "/a/none", env(), "{}");
    ASSERT_TRUE(o.error);
    EXPECT_EQ(o.error->code, kPluginNotAvailable);
    Outcome d = delegate("none", env(), "{}");
    ASSERT_TRUE(d.error);
    EXPECT_EQ(d.error->code, kPluginNotAvailable);
}

TEST_F(CniInvoke, LargeInputAndOutputDoNotDeadlock) {
    // Echoes stdin back twice: both directions exceed a pipe buffer at once.
    std::string p = script("a/p", "tee /dev/stdout\n");
    std::string big(1 << 20, 'x');
    Outcome o = exec_plugin(p, env(), big);
    ASSERT_FALSE(o.error) << o.error->msg;
    EXPECT_EQ(o.output.size(), 2 * big.size());
}

TEST_F(CniInvoke, PluginThatIgnoresStdinDoesNotKillUs) {
    std::string p = script("a/p", "echo '{}'\n");
    Outcome o = exec_plugin(p, env(), std::string(1 << 20, 'x'));
    ASSERT_FALSE(o.error) << o.error->msg;
    EXPECT_EQ(o.output, "{}\n");
}

TEST_F(CniInvoke, DelegateFindsTypeOnCniPath) {
    script("b/ipam", "cat >/dev/null\necho '{\"ips\":[]}'\n");
    Outcome o = delegate("ipam", env(), "{}");
    ASSERT_FALSE(o.error) << o.error->msg;
    EXPECT_EQ(o.output, "{\"ips\":[]}\n");
}

}  // namespace
}  // namespace berth::net::cni

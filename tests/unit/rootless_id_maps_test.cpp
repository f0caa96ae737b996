// Rootless id maps: which maps the caller may write itself, the newuidmap command line, finding
// the helper, and running it (a shell script stands in for it).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "base/file.h"
#include "runtime/id_maps.h"

namespace berth::runtime {
namespace {

oci::IdMapping m(uint32_t c, uint32_t h, uint32_t n) {
    oci::IdMapping e;
    e.container_id = c;
    e.host_id = h;
    e.size = n;
    return e;
}

class TempDir {
  public:
    TempDir() {
        char tmpl[] = "/tmp/berth-rootless-test-XXXXXX";
        path_ = ::mkdtemp(tmpl);
    }
    ~TempDir() { (void)remove_all(path_); }
    const std::string& path() const { return path_; }
    std::string script(const std::string& name, const std::string& body) const {
        std::string p = path_join(path_, name);
        EXPECT_TRUE(write_file(p, "#!/bin/sh\n" + body, true, 0755).ok());
        ::chmod(p.c_str(), 0755);
        return p;
    }

  private:
    std::string path_;
};

TEST(RootlessIdMaps, Text) {
    EXPECT_EQ(id_map_text({m(0, 1000, 1), m(1, 100000, 65536)}), "0 1000 1\n1 100000 65536\n");
    EXPECT_EQ(id_map_text({}), "");
}

TEST(RootlessIdMaps, OwnMapIsOneIdOntoTheCaller) {
    EXPECT_TRUE(is_own_id_map({m(0, 1000, 1)}, 1000));
    EXPECT_TRUE(is_own_id_map({m(5, 1000, 1)}, 1000));  // any container id
    EXPECT_FALSE(is_own_id_map({m(0, 1001, 1)}, 1000));
    EXPECT_FALSE(is_own_id_map({m(0, 1000, 2)}, 1000));
    EXPECT_FALSE(is_own_id_map({m(0, 1000, 1), m(1, 100000, 10)}, 1000));
    EXPECT_FALSE(is_own_id_map({}, 1000));
}

TEST(RootlessIdMaps, HelperArgsArePidThenTriples) {
    auto args = id_map_helper_args(4242, {m(0, 1000, 1), m(1, 100000, 65536)});
    std::vector<std::string> want{"4242", "0", "1000", "1", "1", "100000", "65536"};
    EXPECT_EQ(args, want);
}

TEST(RootlessIdMaps, FindHelperOnSearchPathFirst) {
    TempDir d;
    std::string fake = d.script("newuidmap", "exit 0\n");
    auto found = find_id_map_helper("newuidmap", "relative/dir:" + d.path(), "linux.uidMappings");
    ASSERT_TRUE(found.ok()) << found.error().what();
    EXPECT_EQ(*found, fake);
}

TEST(RootlessIdMaps, MissingHelperNamesFieldAndPackage) {
    TempDir d;
    auto found = find_id_map_helper("no-such-idmap-helper", d.path(), "linux.gidMappings");
    ASSERT_FALSE(found.ok());
    EXPECT_EQ(found.error().errno_value(), ENOENT);
    EXPECT_NE(found.error().what().find("linux.gidMappings"), std::string::npos);
    EXPECT_NE(found.error().what().find("uidmap"), std::string::npos);
}

TEST(RootlessIdMaps, RunHelperPassesArguments) {
    TempDir d;
    std::string out = path_join(d.path(), "args");
    std::string helper = d.script("newuidmap", "echo \"$@\" > " + out + "\n");
    auto r = run_id_map_helper(helper, 77, {m(0, 1000, 1), m(1, 200000, 10)}, "linux.uidMappings");
    ASSERT_TRUE(r.ok()) << r.error().what();
    auto args = read_file(out);
    ASSERT_TRUE(args.ok());
    EXPECT_EQ(*args, "77 0 1000 1 1 200000 10\n");
}

TEST(RootlessIdMaps, HelperFailureCarriesItsOutput) {
    TempDir d;
    std::string helper =
        d.script("newuidmap",
                 "echo 'newuidmap: uid range [1-11) -> [300000-300010) not allowed' >&2\n"
                 "exit 1\n");
    auto r = run_id_map_helper(helper, 77, {m(0, 1000, 1), m(1, 300000, 10)}, "linux.uidMappings");
    ASSERT_FALSE(r.ok());
    const std::string& what = r.error().what();
    EXPECT_EQ(what.rfind("linux.uidMappings: ", 0), 0u) << what;
    EXPECT_NE(what.find("exit status 1"), std::string::npos) << what;
    EXPECT_NE(what.find("not allowed"), std::string::npos) << what;
    EXPECT_NE(what.find("77 0 1000 1 1 300000 10"), std::string::npos) << what;
}

}  // namespace
}  // namespace berth::runtime

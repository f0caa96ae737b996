// berth cp's tree copy (engine/copy_tree.h) in temp dirs, no root: directory walks into a
// directory and through tar, symlinks kept, and names that would leave the destination or
// a container's root refused or kept inside.
#include "engine/copy_tree.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include <gtest/gtest.h>

#include "base/file.h"

namespace berth::engine {
namespace {

class CopyTreeTest : public ::testing::Test {
  protected:
    void SetUp() override {
        char tmpl[] = "/tmp/berth-copy-test-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
    }
    void TearDown() override { (void)remove_all(dir_); }

    std::string path(const std::string& rel) const { return dir_ + "/" + rel; }
    void write(const std::string& rel, const std::string& data, mode_t mode = 0644) {
        ASSERT_TRUE(write_file(path(rel), data, true, mode).ok());
        ASSERT_EQ(::chmod(path(rel).c_str(), mode), 0);
    }
    UniqueFd opath(const std::string& rel) {
        return UniqueFd(::open(path(rel).c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    }
    FsSink sink_into(const std::string& rel, FsSinkOptions o = {}) {
        o.uid = ::geteuid();
        o.gid = ::getegid();
        return FsSink(opath(rel), rel, o);
    }
    std::string read(const std::string& rel) {
        auto r = read_file(path(rel));
        return r.ok() ? *r : "<" + r.error().what() + ">";
    }
    std::string link(const std::string& rel) {
        char buf[256];
        ssize_t n = ::readlink(path(rel).c_str(), buf, sizeof(buf));
        return n < 0 ? "" : std::string(buf, size_t(n));
    }
    mode_t mode(const std::string& rel) {
        struct stat st;
        return ::lstat(path(rel).c_str(), &st) == 0 ? st.st_mode : 0;
    }
    // src/{f (0751), sub/g, l -> /etc/passwd, fifo}
    void make_tree() {
        ASSERT_TRUE(mkdir_p(path("src/sub")).ok());
        write("src/f", "eff\n", 0751);
        write("src/sub/g", "gee\n");
        ASSERT_EQ(::symlink("/etc/passwd", path("src/l").c_str()), 0);
        ASSERT_EQ(::mkfifo(path("src/fifo").c_str(), 0640), 0);
    }
    void expect_tree(const std::string& rel) {
        EXPECT_EQ(read(rel + "/f"), "eff\n");
        EXPECT_EQ(mode(rel + "/f") & 07777, 0751u);
        EXPECT_EQ(read(rel + "/sub/g"), "gee\n");
        EXPECT_EQ(link(rel + "/l"), "/etc/passwd");
        EXPECT_TRUE(S_ISFIFO(mode(rel + "/fifo")));
        EXPECT_EQ(mode(rel + "/fifo") & 0777, 0640u);
    }

    std::string dir_;
};

TEST_F(CopyTreeTest, WalkIntoDirectory) {
    make_tree();
    ASSERT_TRUE(mkdir_p(path("dst")).ok());
    FsSink sink = sink_into("dst");
    ASSERT_TRUE(walk_tree(opath("src"), "copy", sink).ok());
    ASSERT_TRUE(sink.finish().ok());
    expect_tree("dst/copy");
    // "" copies the contents, merging with what is there.
    write("dst/copy/keep", "k");
    FsSink again = sink_into("dst/copy");
    ASSERT_TRUE(walk_tree(opath("src"), "", again).ok());
    expect_tree("dst/copy");
    EXPECT_EQ(read("dst/copy/keep"), "k");
}

TEST_F(CopyTreeTest, TarRoundTrip) {
    make_tree();
    ASSERT_TRUE(mkdir_p(path("dst")).ok());
    {
        UniqueFd out(::open(path("t.tar").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
        auto tar = TarSink::open(out);
        ASSERT_TRUE(tar.ok());
        ASSERT_TRUE(walk_tree(opath("src"), "src", **tar).ok());
        ASSERT_TRUE((*tar)->finish().ok());
    }
    UniqueFd in(::open(path("t.tar").c_str(), O_RDONLY | O_CLOEXEC));
    FsSink sink = sink_into("dst");
    auto r = read_tar(in, sink);
    ASSERT_TRUE(r.ok()) << r.error().what();
    ASSERT_TRUE(sink.finish().ok());
    expect_tree("dst/src");
}

TEST_F(CopyTreeTest, NoDirectoryReplacedByFileOrBack) {
    ASSERT_TRUE(mkdir_p(path("dst/x")).ok());
    write("dst/y", "y");
    FsSink sink = sink_into("dst");
    CopyEntry file{.path = "x", .mode = S_IFREG | 0644};
    auto r = sink.add(file, [](char*, size_t) -> Result<size_t> { return size_t(0); });
    EXPECT_EQ(r.error().errno_value(), EISDIR);
    CopyEntry dir{.path = "y", .mode = S_IFDIR | 0755};
    EXPECT_EQ(sink.add(dir, {}).error().errno_value(), ENOTDIR);
}

// A tar entry under a symlink it made: refused on the host, followed inside a root.
TEST_F(CopyTreeTest, SymlinkComponentsStayInTheRoot) {
    ASSERT_TRUE(mkdir_p(path("root/tmp")).ok());
    ASSERT_TRUE(mkdir_p(path("root/dst")).ok());
    ASSERT_TRUE(mkdir_p(path("host/tmp")).ok());
    CopyEntry l{.path = "l", .mode = S_IFLNK | 0777};
    l.link_target = "/";  // the root's / ...
    CopyEntry f{.path = "l/tmp/x", .mode = S_IFREG | 0644, .size = 3};
    auto content = [sent = false](char* buf, size_t) mutable -> Result<size_t> {
        if (sent) return size_t(0);
        sent = true;
        std::memcpy(buf, "in\n", 3);
        return size_t(3);
    };
    {
        FsSink plain = sink_into("root/dst");
        ASSERT_TRUE(plain.add(l, {}).ok());
        EXPECT_EQ(plain.add(f, content).error().errno_value(), ELOOP);
    }
    ASSERT_EQ(::unlink(path("root/dst/l").c_str()), 0);
    UniqueFd root = opath("root");
    FsSinkOptions o;
    o.root_fd = root.get();
    o.dest_in_root = "/dst";
    FsSink inside = sink_into("root/dst", o);
    ASSERT_TRUE(inside.add(l, {}).ok());
    auto r = inside.add(f, content);
    ASSERT_TRUE(r.ok()) << r.error().what();
    EXPECT_EQ(read("root/tmp/x"), "in\n");  // ... is the root, not the host's /
}

TEST_F(CopyTreeTest, OpenInRootConfinesSymlinksAndDotDot) {
    ASSERT_TRUE(mkdir_p(path("root/d")).ok());
    write("root/marker", "inside");
    write("outside", "host");
    ASSERT_EQ(::symlink("/", path("root/esc").c_str()), 0);
    ASSERT_EQ(::symlink("../../../../..", path("root/d/up").c_str()), 0);
    UniqueFd root = opath("root");
    for (const char* p : {"/esc/marker", "/d/up/marker", "../../marker", "/d/up/esc/marker"}) {
        auto fd = open_in_root(root, p, true, O_RDONLY);
        ASSERT_TRUE(fd.ok()) << p;
        EXPECT_EQ(*read_fd(*fd), "inside") << p;
    }
    // The host's file by its host path, through a link: not there inside the root.
    auto out = open_in_root(root, "/esc" + path("outside"), true, O_RDONLY);
    EXPECT_EQ(out.error().errno_value(), ENOENT);
    // Without follow, the last component is the link itself.
    auto self = open_in_root(root, "/esc", false, O_PATH);
    ASSERT_TRUE(self.ok());
    struct stat st;
    ASSERT_EQ(::fstat(self->get(), &st), 0);
    EXPECT_TRUE(S_ISLNK(st.st_mode));
    // /proc magic links are refused.
    UniqueFd host_root(::open("/", O_PATH | O_CLOEXEC));
    auto magic = open_in_root(host_root, "/proc/self/root/etc", true, O_PATH);
    EXPECT_EQ(magic.error().errno_value(), ELOOP);
}

TEST_F(CopyTreeTest, TarNamesThatLeaveAreRefused) {
    for (const char* bad : {"../x", "a/../../x"}) {
        UniqueFd out(
            ::open(path("bad.tar").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
        auto tar = TarSink::open(out);
        ASSERT_TRUE(tar.ok());
        CopyEntry e{.path = bad, .mode = S_IFREG | 0644};
        ASSERT_TRUE((*tar)->add(e, {}).ok());
        ASSERT_TRUE((*tar)->finish().ok());
        ASSERT_TRUE(mkdir_p(path("dst")).ok());
        UniqueFd in(::open(path("bad.tar").c_str(), O_RDONLY | O_CLOEXEC));
        FsSink sink = sink_into("dst");
        auto r = read_tar(in, sink);
        ASSERT_FALSE(r.ok()) << bad;
        EXPECT_NE(r.error().what().find("leaves"), std::string::npos) << r.error().what();
    }
    EXPECT_FALSE(path_exists(path("x")));
}

}  // namespace
}  // namespace berth::engine

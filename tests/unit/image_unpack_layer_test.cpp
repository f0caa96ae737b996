// unpack_layer on tars built here with libarchive's writer: every entry kind, compression, the
// diff ID, and malicious entries refused with nothing left behind. Ownership, devices,
// whiteouts and trusted.* xattrs need root; those cases skip without it.
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include "base/file.h"
#include "image/digest.h"
#include "image/unpack.h"

namespace berth::image {
namespace {

#define UNPACK_ASSERT_OK(expr)                                      \
    do {                                                            \
        auto&& r_ = (expr);                                         \
        ASSERT_TRUE(r_.ok()) << #expr << ": " << r_.error().what(); \
    } while (0)

struct Entry {
    std::string name;
    mode_t type = AE_IFREG;
    mode_t perm = 0644;
    std::string data;
    std::string link;  // symlink target
    std::string hardlink;
    int64_t uid = 0, gid = 0;
    dev_t rdev = 0;
    std::vector<std::pair<std::string, std::string>> xattrs;
};

Entry file(std::string name, std::string data, mode_t perm = 0644) {
    return Entry{.name = std::move(name), .perm = perm, .data = std::move(data)};
}
Entry dir(std::string name, mode_t perm = 0755) {
    return Entry{.name = std::move(name), .type = AE_IFDIR, .perm = perm};
}
Entry symlink(std::string name, std::string target) {
    return Entry{
        .name = std::move(name), .type = AE_IFLNK, .perm = 0777, .link = std::move(target)};
}
Entry hardlink(std::string name, std::string target) {
    return Entry{.name = std::move(name), .hardlink = std::move(target)};
}

// A pax tar of `entries`, filtered (gzip, zstd) as asked; *raw gets the uncompressed tar.
std::string make_tar(const std::vector<Entry>& entries, Compression c = Compression::None,
                     std::string* raw = nullptr) {
    std::string out;
    for (int pass = 0; pass < 2; ++pass) {
        bool compress = pass == 1;
        if (compress && c == Compression::None) break;
        archive* a = archive_write_new();
        archive_write_set_format_pax_restricted(a);
        if (compress && c == Compression::Gzip) archive_write_add_filter_gzip(a);
        if (compress && c == Compression::Zstd) archive_write_add_filter_zstd(a);
        archive_write_set_bytes_in_last_block(a, 1);
        std::string buf;
        archive_write_open(
            a, &buf, nullptr,
            [](archive*, void* ctx, const void* data, size_t n) -> la_ssize_t {
                static_cast<std::string*>(ctx)->append(static_cast<const char*>(data), n);
                return static_cast<la_ssize_t>(n);
            },
            nullptr);
        for (const auto& e : entries) {
            archive_entry* ae = archive_entry_new();
            archive_entry_set_pathname(ae, e.name.c_str());
            archive_entry_set_mtime(ae, 1700000000, 0);
            archive_entry_set_uid(ae, e.uid);
            archive_entry_set_gid(ae, e.gid);
            if (!e.hardlink.empty()) {
                archive_entry_set_filetype(ae, AE_IFREG);
                archive_entry_set_hardlink(ae, e.hardlink.c_str());
                archive_entry_set_size(ae, 0);
            } else {
                archive_entry_set_filetype(ae, e.type);
                archive_entry_set_size(
                    ae, e.type == AE_IFREG ? static_cast<la_int64_t>(e.data.size()) : 0);
            }
            archive_entry_set_perm(ae, e.perm);
            if (!e.link.empty()) archive_entry_set_symlink(ae, e.link.c_str());
            if (e.rdev) archive_entry_set_rdev(ae, e.rdev);
            for (const auto& [k, v] : e.xattrs)
                archive_entry_xattr_add_entry(ae, k.c_str(), v.data(), v.size());
            EXPECT_EQ(archive_write_header(a, ae), ARCHIVE_OK) << archive_error_string(a);
            if (e.type == AE_IFREG && e.hardlink.empty() && !e.data.empty())
                archive_write_data(a, e.data.data(), e.data.size());
            archive_entry_free(ae);
        }
        archive_write_close(a);
        archive_write_free(a);
        if (!compress && raw) *raw = buf;
        out = std::move(buf);
    }
    return out;
}

// A memfd holding `bytes`, at offset 0.
UniqueFd blob_fd(const std::string& bytes) {
    UniqueFd fd(::memfd_create("layer", MFD_CLOEXEC));
    EXPECT_TRUE(fd.valid());
    EXPECT_TRUE(write_all(fd, bytes).ok());
    ::lseek(fd.get(), 0, SEEK_SET);
    return fd;
}

bool is_root() {
    return ::geteuid() == 0;
}

class ImageUnpackLayer : public ::testing::Test {
  protected:
    void SetUp() override {
        char tmpl[] = "/tmp/berth-unpack-test.XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        base_ = tmpl;
        dest_ = base_ + "/layer";
        outside_ = base_ + "/outside";
        ASSERT_EQ(::mkdir(dest_.c_str(), 0755), 0);
        ASSERT_EQ(::mkdir(outside_.c_str(), 0755), 0);
        ASSERT_TRUE(write_file(outside_ + "/sentinel", "keep\n", true).ok());
    }
    void TearDown() override { (void)remove_all(base_); }

    Result<Digest> unpack(const std::vector<Entry>& entries, Compression c = Compression::None,
                          UnpackOptions o = {.same_owner = is_root()}) {
        std::string tar = make_tar(entries, c);
        UniqueFd fd = blob_fd(tar);
        return unpack_layer(fd, c, dest_, o);
    }

    // The refusal contract: EPERM naming the entry, the layer directory empty, nothing written
    // beside it.
    void expect_refused(const std::vector<Entry>& entries, const std::string& entry_named,
                        const std::string& why) {
        auto r = unpack(entries);
        ASSERT_FALSE(r.ok()) << "unpacked a malicious layer";
        EXPECT_EQ(r.error().errno_value(), EPERM) << r.error().what();
        EXPECT_NE(r.error().what().find(entry_named), std::string::npos) << r.error().what();
        EXPECT_NE(r.error().what().find(why), std::string::npos) << r.error().what();
        EXPECT_TRUE(children(dest_).empty()) << "partial layer left behind";
        EXPECT_EQ(children(outside_), std::vector<std::string>{"sentinel"});
        EXPECT_EQ(*read_file(outside_ + "/sentinel"), "keep\n");
        auto base_children = children(base_);
        EXPECT_EQ(base_children, (std::vector<std::string>{"layer", "outside"}));
    }

    static std::vector<std::string> children(const std::string& dir) {
        std::vector<std::string> out;
        if (DIR* d = ::opendir(dir.c_str())) {
            while (auto* e = ::readdir(d)) {
                std::string n = e->d_name;
                if (n != "." && n != "..") out.push_back(n);
            }
            ::closedir(d);
        }
        std::sort(out.begin(), out.end());
        return out;
    }

    struct stat lstat_of(const std::string& rel) {
        struct stat st {};
        EXPECT_EQ(::lstat((dest_ + "/" + rel).c_str(), &st), 0) << rel << ": " << strerror(errno);
        return st;
    }

    std::string base_, dest_, outside_;
};

TEST_F(ImageUnpackLayer, WritesFilesDirectoriesAndLinksAndReturnsTheDiffId) {
    std::vector<Entry> entries = {
        dir("./"),
        dir("etc"),
        file("etc/hostname", "box\n"),
        file("etc/secret", "s", 0600),
        file("bin/tool", std::string(300000, 'x'), 0755),  // parent "bin" not listed
        symlink("etc/rel", "hostname"),
        symlink("etc/abs", "/etc/hostname"),
        symlink("etc/out", "../../../../etc/passwd"),  // may point anywhere; only resolved later
        hardlink("etc/hostname2", "etc/hostname"),
        dir("sticky", 01777),
        file("empty", ""),
    };
    std::string raw;
    std::string tar = make_tar(entries, Compression::None, &raw);
    UniqueFd fd = blob_fd(tar);
    auto diff_id = unpack_layer(fd, Compression::None, dest_, {.same_owner = is_root()});
    UNPACK_ASSERT_OK(diff_id);
    EXPECT_EQ(*diff_id, sha256_of(raw));

    EXPECT_EQ(*read_file(dest_ + "/etc/hostname"), "box\n");
    EXPECT_EQ(lstat_of("etc/secret").st_mode & 07777, 0600u);
    EXPECT_EQ(read_file(dest_ + "/bin/tool")->size(), 300000u);
    EXPECT_EQ(lstat_of("bin/tool").st_mode & 07777, 0755u);
    EXPECT_EQ(lstat_of("bin").st_mode & 07777, 0755u);
    EXPECT_TRUE(S_ISDIR(lstat_of("bin").st_mode));
    EXPECT_EQ(lstat_of("sticky").st_mode & 07777, 01777u);
    EXPECT_EQ(lstat_of("empty").st_size, 0);
    char buf[256];
    ssize_t n = ::readlink((dest_ + "/etc/abs").c_str(), buf, sizeof(buf));
    ASSERT_GT(n, 0);
    EXPECT_EQ(std::string(buf, n), "/etc/hostname");
    n = ::readlink((dest_ + "/etc/out").c_str(), buf, sizeof(buf));
    EXPECT_EQ(std::string(buf, n), "../../../../etc/passwd");
    EXPECT_EQ(lstat_of("etc/hostname2").st_ino, lstat_of("etc/hostname").st_ino);
    EXPECT_EQ(lstat_of("etc/hostname").st_nlink, 2u);
    // Times: files and directories keep the tar's mtime (directories set last).
    EXPECT_EQ(lstat_of("etc/hostname").st_mtim.tv_sec, 1700000000);
    EXPECT_EQ(lstat_of("etc").st_mtim.tv_sec, 1700000000);
    EXPECT_EQ(lstat_of("etc/abs").st_mtim.tv_sec, 1700000000);
}

TEST_F(ImageUnpackLayer, DecompressesGzipAndZstdAndHashesTheTar) {
    std::vector<Entry> entries = {dir("d"), file("d/f", std::string(100000, 'z'))};
    for (Compression c : {Compression::Gzip, Compression::Zstd}) {
        std::string raw;
        std::string blob = make_tar(entries, c, &raw);
        ASSERT_NE(blob, raw);
        (void)remove_all(dest_);
        ASSERT_EQ(::mkdir(dest_.c_str(), 0755), 0);
        UniqueFd fd = blob_fd(blob);
        auto diff_id = unpack_layer(fd, c, dest_, {.same_owner = is_root()});
        UNPACK_ASSERT_OK(diff_id);
        EXPECT_EQ(*diff_id, sha256_of(raw));
        EXPECT_EQ(read_file(dest_ + "/d/f")->size(), 100000u);
    }
}

TEST_F(ImageUnpackLayer, LaterEntriesReplaceEarlierOnes) {
    auto r = unpack({dir("a"), file("a/x", "1"), file("a", "now a file"), file("b", "file"),
                     dir("b"), file("b/y", "2"), symlink("c", "/x"), file("c", "not a link"),
                     dir("d", 0700), file("d/keep", "k"), dir("d", 0755)},
                    Compression::None, {.same_owner = is_root()});
    UNPACK_ASSERT_OK(r);
    EXPECT_EQ(*read_file(dest_ + "/a"), "now a file");
    EXPECT_EQ(*read_file(dest_ + "/b/y"), "2");
    EXPECT_TRUE(S_ISREG(lstat_of("c").st_mode));
    EXPECT_EQ(*read_file(dest_ + "/d/keep"), "k");
    EXPECT_EQ(lstat_of("d").st_mode & 07777, 0755u);
}

TEST_F(ImageUnpackLayer, RefusesDotDotEscapes) {
    expect_refused({dir("etc"), file("etc/ok", "fine"), file("../escaped", "x")}, "`../escaped`",
                   "escapes the layer directory");
    expect_refused({file("a/../../outside/evil", "x")}, "a/../../outside/evil",
                   "escapes the layer directory");
}

TEST_F(ImageUnpackLayer, RefusesAbsolutePaths) {
    expect_refused({file("ok", "fine"), file("/tmp/escaped-absolute", "x")},
                   "/tmp/escaped-absolute", "absolute path");
}

TEST_F(ImageUnpackLayer, RefusesWritingThroughASymlink) {
    // The symlink itself is fine; the entry below it would land outside.
    expect_refused({symlink("escape", "../outside"), file("escape/evil", "x")}, "escape/evil",
                   "symlink");
    expect_refused({symlink("escape", outside_), file("escape/evil", "x")}, "escape/evil",
                   "symlink");
    expect_refused({symlink("escape", outside_), dir("escape/sub")}, "escape/sub", "symlink");
    // A link to a directory inside is refused too: no entry is ever written through one.
    expect_refused({dir("real"), symlink("alias", "real"), file("alias/f", "x")}, "alias/f",
                   "symlink");
}

TEST_F(ImageUnpackLayer, RefusesHardLinksOutOfTheLayer) {
    expect_refused({file("ok", "fine"), hardlink("pw", "../outside/sentinel")}, "`pw`",
                   "escapes the layer directory");
    expect_refused({hardlink("pw", outside_ + "/sentinel")}, "`pw`", "absolute path");
    expect_refused({symlink("escape", "../outside"), hardlink("pw", "escape/sentinel")}, "`pw`",
                   "symlink");
}

TEST_F(ImageUnpackLayer, HardLinkToASymlinkLinksTheSymlink) {
    auto r = unpack({symlink("escape", "../outside/sentinel"), hardlink("twin", "escape")},
                    Compression::None, {.same_owner = is_root()});
    UNPACK_ASSERT_OK(r);
    EXPECT_TRUE(S_ISLNK(lstat_of("twin").st_mode));
    EXPECT_EQ(lstat_of("twin").st_ino, lstat_of("escape").st_ino);
}

TEST_F(ImageUnpackLayer, RefusesWhiteoutsOfTheParent) {
    expect_refused({dir("etc"), file("etc/.wh..", "")}, "etc/.wh..", "whiteout");
}

TEST_F(ImageUnpackLayer, RejectsGarbageWithEinvalAndKeepsNothing) {
    std::string tar = make_tar({file("a", "1"), file("b", std::string(5000, 'b'))});
    tar.resize(tar.size() / 2 + 100);  // truncated in the middle of b's data
    UniqueFd fd = blob_fd(tar);
    auto r = unpack_layer(fd, Compression::None, dest_, {.same_owner = is_root()});
    ASSERT_FALSE(r.ok());
    EXPECT_TRUE(children(dest_).empty());
    UniqueFd junk = blob_fd("this is not gzip");
    auto g = unpack_layer(junk, Compression::Gzip, dest_);
    ASSERT_FALSE(g.ok());
    EXPECT_EQ(g.error().errno_value(), EINVAL) << g.error().what();
}

TEST_F(ImageUnpackLayer, TurnsOciWhiteoutsIntoOverlayWhiteouts) {
    if (!is_root()) GTEST_SKIP() << "whiteouts (0/0 devices, trusted.* xattrs) need root";
    auto r = unpack({dir("etc"), file("etc/.wh.passwd", ""), dir("opq"),
                     file("opq/.wh..wh..opq", ""), file("opq/new", "n"), file(".wh.gone", ""),
                     file("same", "kept"), file(".wh.same", ""), file(".wh..wh.plnk", "")});
    UNPACK_ASSERT_OK(r);
    struct stat st = lstat_of("etc/passwd");
    EXPECT_TRUE(S_ISCHR(st.st_mode));
    EXPECT_EQ(st.st_rdev, makedev(0, 0));
    EXPECT_TRUE(S_ISCHR(lstat_of("gone").st_mode));
    EXPECT_FALSE(path_exists(dest_ + "/etc/.wh.passwd"));
    EXPECT_FALSE(path_exists(dest_ + "/opq/.wh..wh..opq"));
    EXPECT_FALSE(path_exists(dest_ + "/.wh..wh.plnk"));
    char v[8];
    ssize_t n = ::lgetxattr((dest_ + "/opq").c_str(), "trusted.overlay.opaque", v, sizeof(v));
    ASSERT_EQ(n, 1);
    EXPECT_EQ(v[0], 'y');
    // A whiteout hides lower layers only: this layer's own file stays.
    EXPECT_EQ(*read_file(dest_ + "/same"), "kept");
}

TEST_F(ImageUnpackLayer, KeepsOwnersModesDevicesAndXattrs) {
    if (!is_root()) GTEST_SKIP() << "chown and mknod need root";
    Entry owned = file("home/user/f", "mine", 0640);
    owned.uid = 1000;
    owned.gid = 1001;
    Entry suid = file("bin/su", "#!", 04755);
    suid.uid = 0;
    Entry null{.name = "dev/null", .type = AE_IFCHR, .perm = 0666, .rdev = makedev(1, 3)};
    Entry blk{.name = "dev/loop", .type = AE_IFBLK, .perm = 0660, .rdev = makedev(7, 200)};
    Entry fifo{.name = "run/fifo", .type = AE_IFIFO, .perm = 0620};
    Entry x = file("x", "xattrs");
    x.xattrs = {{"user.berth", "hello"}, {"trusted.overlay.opaque", "y"}};
    Entry link = symlink("owned-link", "x");
    link.uid = 1000;
    link.gid = 1000;
    auto r = unpack({owned, suid, null, blk, fifo, x, link});
    UNPACK_ASSERT_OK(r);
    struct stat st = lstat_of("home/user/f");
    EXPECT_EQ(st.st_uid, 1000u);
    EXPECT_EQ(st.st_gid, 1001u);
    EXPECT_EQ(st.st_mode & 07777, 0640u);
    EXPECT_EQ(lstat_of("bin/su").st_mode & 07777, 04755u);
    st = lstat_of("dev/null");
    EXPECT_TRUE(S_ISCHR(st.st_mode));
    EXPECT_EQ(st.st_rdev, makedev(1, 3));
    EXPECT_EQ(st.st_mode & 07777, 0666u);
    st = lstat_of("dev/loop");
    EXPECT_TRUE(S_ISBLK(st.st_mode));
    EXPECT_EQ(st.st_rdev, makedev(7, 200));
    st = lstat_of("run/fifo");
    EXPECT_TRUE(S_ISFIFO(st.st_mode));
    EXPECT_EQ(st.st_mode & 07777, 0620u);
    char v[16];
    ssize_t n = ::lgetxattr((dest_ + "/x").c_str(), "user.berth", v, sizeof(v));
    ASSERT_EQ(n, 5);
    EXPECT_EQ(std::string(v, 5), "hello");
    // A layer cannot forge overlayfs's own attributes.
    EXPECT_LT(::lgetxattr((dest_ + "/x").c_str(), "trusted.overlay.opaque", v, sizeof(v)), 0);
    EXPECT_EQ(lstat_of("owned-link").st_uid, 1000u);
}

TEST_F(ImageUnpackLayer, WithoutSameOwnerFilesBelongToTheCaller) {
    Entry owned = file("f", "mine", 0640);
    owned.uid = 1234;
    auto r = unpack({owned}, Compression::None, {.same_owner = false});
    UNPACK_ASSERT_OK(r);
    EXPECT_EQ(lstat_of("f").st_uid, ::geteuid());
}

}  // namespace
}  // namespace berth::image

// The unpacked images against Debian's umoci: scripts/make-test-images.sh builds multi-layer
// images; each is unpacked into snapshots, mounted as a read-only overlay, and walked file by
// file beside `umoci unpack`'s rootfs (paths, types, modes, owners, sizes, contents, link
// targets, device numbers, user.* xattrs, hard-link groups). The evil-* images must be
// refused naming the entry, with no snapshot and nothing written anywhere. Needs root, umoci,
// python3, zstd and busybox-static; skips otherwise.
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "base/file.h"
#include "image/digest.h"
#include "image/oci_image.h"
#include "image/snapshots.h"
#include "image/unpack.h"

namespace berth::image {
namespace {

#define REAL_ASSERT_OK(expr)                                        \
    do {                                                            \
        auto&& r_ = (expr);                                         \
        ASSERT_TRUE(r_.ok()) << #expr << ": " << r_.error().what(); \
    } while (0)

std::string source_dir() {
    if (const char* s = ::getenv("BERTH_SOURCE_DIR")) return s;
    std::string f = __FILE__;  // <src>/tests/unit/image_unpack_real_test.cpp
    return path_dirname(path_dirname(path_dirname(f)));
}

int run(const std::string& cmd) {
    int st = std::system(cmd.c_str());
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

struct Layer {
    std::string media_type;
    std::string blob;  // path
    Digest diff_id;
};

Result<std::vector<Layer>> read_layout(const std::string& dir) {
    try {
        auto blob = [&](const std::string& digest) {
            return dir + "/blobs/sha256/" + digest.substr(7);
        };
        auto index = nlohmann::json::parse(BERTH_TRY(read_file(dir + "/index.json")));
        auto manifest = nlohmann::json::parse(
            BERTH_TRY(read_file(blob(index["manifests"][0]["digest"].get<std::string>()))));
        auto config = nlohmann::json::parse(
            BERTH_TRY(read_file(blob(manifest["config"]["digest"].get<std::string>()))));
        std::vector<Layer> out;
        for (size_t i = 0; i < manifest["layers"].size(); ++i) {
            const auto& l = manifest["layers"][i];
            out.push_back(
                {l["mediaType"].get<std::string>(), blob(l["digest"].get<std::string>()),
                 BERTH_TRY(Digest::parse(config["rootfs"]["diff_ids"][i].get<std::string>()))});
        }
        return out;
    } catch (const std::exception& e) {
        return Error(EINVAL) << "layout `" << dir << "`: " << e.what();
    }
}

Compression compression_of(const std::string& media_type) {
    if (media_type.ends_with("+gzip") || media_type.ends_with(".gzip")) return Compression::Gzip;
    if (media_type.ends_with("+zstd")) return Compression::Zstd;
    return Compression::None;
}

// Unpacks the image's layers as the image store does; the snapshot directories, lowest first.
Result<std::vector<std::string>> unpack_image(SnapshotStore& store,
                                              const std::vector<Layer>& layers) {
    std::vector<Digest> diff_ids;
    for (const auto& l : layers) diff_ids.push_back(l.diff_id);
    auto chains = chain_ids(diff_ids);
    std::vector<std::string> dirs;
    for (size_t i = 0; i < layers.size(); ++i) {
        const Layer& l = layers[i];
        dirs.push_back(
            BERTH_TRY(store.ensure(chains[i], [&](const std::string& tmp) -> Result<void> {
                UniqueFd fd = BERTH_TRY(open_fd(l.blob, O_RDONLY));
                Digest got = BERTH_TRY(unpack_layer(fd, compression_of(l.media_type), tmp));
                if (got != l.diff_id)
                    return Error(EINVAL)
                           << "diff ID " << got.str() << ", config says " << l.diff_id.str();
                return {};
            })));
    }
    return dirs;
}

struct Node {
    char type = '?';
    mode_t mode = 0;
    uid_t uid = 0;
    gid_t gid = 0;
    off_t size = 0;
    nlink_t nlink = 0;
    std::string content;  // sha256 of a file, target of a symlink, "major:minor" of a device
    std::string xattrs;   // user.* as "name=value;"
    ino_t ino = 0;
    bool operator==(const Node& o) const {
        return type == o.type && mode == o.mode && uid == o.uid && gid == o.gid && size == o.size &&
               nlink == o.nlink && content == o.content && xattrs == o.xattrs;
    }
};

std::string describe(const Node& n) {
    std::ostringstream s;
    s << n.type << " mode " << std::oct << n.mode << std::dec << " " << n.uid << ":" << n.gid
      << " size " << n.size << " nlink " << n.nlink << " [" << n.content << "] {" << n.xattrs
      << "}";
    return s.str();
}

std::string user_xattrs(const std::string& path) {
    char names[4096];
    ssize_t n = ::llistxattr(path.c_str(), names, sizeof(names));
    std::set<std::string> keys;
    for (ssize_t i = 0; i < n; i += static_cast<ssize_t>(strlen(names + i)) + 1)
        if (std::string_view(names + i).starts_with("user.")) keys.insert(names + i);
    std::string out;
    for (const auto& k : keys) {
        char v[4096];
        ssize_t vn = ::lgetxattr(path.c_str(), k.c_str(), v, sizeof(v));
        out += k + "=" + std::string(v, vn > 0 ? static_cast<size_t>(vn) : 0) + ";";
    }
    return out;
}

void walk(const std::string& root, const std::string& rel, std::map<std::string, Node>& out) {
    std::string path = rel.empty() ? root : root + "/" + rel;
    struct stat st;
    ASSERT_EQ(::lstat(path.c_str(), &st), 0) << path;
    Node n;
    n.mode = st.st_mode & 07777;
    n.uid = st.st_uid;
    n.gid = st.st_gid;
    n.ino = st.st_ino;
    n.xattrs = user_xattrs(path);
    if (S_ISREG(st.st_mode)) {
        n.type = 'f';
        n.size = st.st_size;
        n.nlink = st.st_nlink;
        auto data = read_file(path);
        ASSERT_TRUE(data.ok()) << path;
        n.content = sha256_of(*data).hex;
    } else if (S_ISDIR(st.st_mode)) {
        n.type = 'd';
    } else if (S_ISLNK(st.st_mode)) {
        n.type = 'l';
        char buf[4096];
        ssize_t len = ::readlink(path.c_str(), buf, sizeof(buf));
        n.content.assign(buf, len > 0 ? static_cast<size_t>(len) : 0);
    } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
        n.type = S_ISCHR(st.st_mode) ? 'c' : 'b';
        n.content = std::to_string(major(st.st_rdev)) + ":" + std::to_string(minor(st.st_rdev));
    } else if (S_ISFIFO(st.st_mode)) {
        n.type = 'p';
    }
    out[rel.empty() ? "." : rel] = n;
    if (!S_ISDIR(st.st_mode)) return;
    DIR* d = ::opendir(path.c_str());
    ASSERT_NE(d, nullptr) << path;
    std::vector<std::string> names;
    while (auto* e = ::readdir(d)) {
        std::string name = e->d_name;
        if (name != "." && name != "..") names.push_back(name);
    }
    ::closedir(d);
    for (const auto& name : names) walk(root, rel.empty() ? name : rel + "/" + name, out);
}

// Paths sharing an inode, for every file with more than one link.
std::set<std::set<std::string>> link_groups(const std::map<std::string, Node>& tree) {
    std::map<ino_t, std::set<std::string>> by_ino;
    for (const auto& [path, n] : tree)
        if (n.type == 'f' && n.nlink > 1) by_ino[n.ino].insert(path);
    std::set<std::set<std::string>> out;
    for (auto& [ino, paths] : by_ino) out.insert(paths);
    return out;
}

void expect_same_tree(const std::string& expected_root, const std::string& actual_root) {
    std::map<std::string, Node> expected, actual;
    walk(expected_root, "", expected);
    walk(actual_root, "", actual);
    ASSERT_GT(expected.size(), 5u);
    for (const auto& [path, n] : expected) {
        auto it = actual.find(path);
        if (it == actual.end()) {
            ADD_FAILURE() << "missing from berth's rootfs: " << path << " (" << describe(n) << ")";
            continue;
        }
        EXPECT_TRUE(it->second == n)
            << path << ":\n  umoci: " << describe(n) << "\n  berth: " << describe(it->second);
    }
    for (const auto& [path, n] : actual)
        if (!expected.count(path))
            ADD_FAILURE() << "only in berth's rootfs: " << path << " (" << describe(n) << ")";
    EXPECT_EQ(link_groups(expected), link_groups(actual)) << "hard links differ";
}

std::vector<std::string> find_named(const std::string& dir, const std::string& prefix) {
    std::vector<std::string> out;
    DIR* d = ::opendir(dir.c_str());
    if (!d) return out;
    std::vector<std::string> subdirs;
    while (auto* e = ::readdir(d)) {
        std::string name = e->d_name;
        if (name == "." || name == "..") continue;
        if (name.starts_with(prefix)) out.push_back(dir + "/" + name);
        if (e->d_type == DT_DIR) subdirs.push_back(dir + "/" + name);
    }
    ::closedir(d);
    for (const auto& s : subdirs)
        for (auto& f : find_named(s, prefix)) out.push_back(std::move(f));
    return out;
}

class ImageUnpackReal : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        if (::geteuid() != 0) {
            skip_ = "needs root (ownership, devices, overlay mounts, umoci unpack)";
            return;
        }
        for (const char* tool :
             {"/usr/bin/umoci", "/usr/bin/python3", "/usr/bin/zstd", "/bin/busybox"}) {
            if (::access(tool, X_OK) != 0) {
                skip_ = std::string(tool) + " is not installed";
                return;
            }
        }
        char tmpl[] = "/var/tmp/berth-unpack-real.XXXXXX";
        if (!::mkdtemp(tmpl)) {
            skip_ = "mkdtemp failed";
            return;
        }
        images_ = std::string(tmpl) + "/images";
        std::string cmd = source_dir() + "/scripts/make-test-images.sh " + images_ + " 2>" +
                          std::string(tmpl) + "/make-test-images.log";
        if (run(cmd) != 0) build_error_ = "scripts/make-test-images.sh failed: " + cmd;
        shared_ = tmpl;
    }
    static void TearDownTestSuite() {
        if (!shared_.empty()) (void)remove_all(shared_);
        shared_.clear();
    }

    void SetUp() override {
        if (!skip_.empty()) GTEST_SKIP() << skip_;
        ASSERT_TRUE(build_error_.empty()) << build_error_;
        char tmpl[] = "/var/tmp/berth-unpack-case.XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        root_ = tmpl;
    }
    void TearDown() override {
        for (const auto& m : mounts_) ::umount2(m.c_str(), MNT_DETACH);
        if (!root_.empty()) (void)remove_all(root_);
    }

    // berth's rootfs of `image` (mounted read-only under root_) beside umoci's of `reference`.
    void compare_with_umoci(const std::string& image, const std::string& reference) {
        auto store = SnapshotStore::open(root_ + "/store");
        REAL_ASSERT_OK(store);
        auto layers = read_layout(images_ + "/" + image);
        REAL_ASSERT_OK(layers);
        auto dirs = unpack_image(*store, *layers);
        REAL_ASSERT_OK(dirs);
        std::vector<std::string> top_first(dirs->rbegin(), dirs->rend());
        std::string mnt = root_ + "/rootfs";
        ASSERT_EQ(::mkdir(mnt.c_str(), 0755), 0);
        REAL_ASSERT_OK(mount_overlay(top_first, "", "", mnt));
        mounts_.push_back(mnt);

        std::string bundle = root_ + "/umoci-bundle";
        std::string cmd = "umoci unpack --image " + images_ + "/" + reference + ":latest " +
                          bundle + " >" + root_ + "/umoci.log 2>&1";
        ASSERT_EQ(run(cmd), 0) << cmd << "\n" << read_file(root_ + "/umoci.log").value();
        expect_same_tree(bundle + "/rootfs", mnt);
    }

    void expect_refused(const std::string& image, const std::string& entry) {
        auto store = SnapshotStore::open(root_ + "/store");
        REAL_ASSERT_OK(store);
        auto layers = read_layout(images_ + "/" + image);
        REAL_ASSERT_OK(layers);
        auto r = unpack_image(*store, *layers);
        ASSERT_FALSE(r.ok()) << image << " was unpacked";
        EXPECT_EQ(r.error().errno_value(), EPERM) << r.error().what();
        EXPECT_NE(r.error().what().find("`" + entry + "`"), std::string::npos) << r.error().what();
        std::vector<Digest> diff_ids;
        for (const auto& l : *layers) diff_ids.push_back(l.diff_id);
        auto chains = chain_ids(diff_ids);
        EXPECT_TRUE(store->has(chains[0]));  // the honest base layer
        EXPECT_FALSE(store->has(chains[1]));
        auto listed = store->list();
        REAL_ASSERT_OK(listed);
        EXPECT_EQ(*listed, std::vector<Digest>{chains[0]});
        auto tmp = find_named(root_ + "/store/snapshots/.tmp", "");
        EXPECT_TRUE(tmp.empty()) << "temporary left: " << tmp.front();
        EXPECT_TRUE(find_named(shared_, "escaped-").empty()) << "an entry escaped";
        EXPECT_TRUE(find_named(root_, "escaped-").empty()) << "an entry escaped";
        EXPECT_FALSE(path_exists("/escaped-absolute"));
    }

    static inline std::string skip_, build_error_, shared_, images_;
    std::string root_;
    std::vector<std::string> mounts_;
};

TEST_F(ImageUnpackReal, LayersMatchUmoci) {
    compare_with_umoci("layers", "layers");
}

TEST_F(ImageUnpackReal, ZstdLayersMatchUmociOfTheGzipImage) {
    // umoci 0.4.7 reads no zstd: the same files in gzip layers are the reference.
    compare_with_umoci("layers-zstd", "layers");
}

TEST_F(ImageUnpackReal, SixtyLayersMatchUmoci) {
    compare_with_umoci("many", "many");
}

TEST_F(ImageUnpackReal, SharedBaseLayerIsUnpackedOnce) {
    auto store = SnapshotStore::open(root_ + "/store");
    REAL_ASSERT_OK(store);
    auto a = read_layout(images_ + "/many"), b = read_layout(images_ + "/evil-dotdot");
    REAL_ASSERT_OK(a);
    REAL_ASSERT_OK(b);
    ASSERT_EQ((*a)[0].diff_id, (*b)[0].diff_id);
    auto dirs = unpack_image(*store, *a);
    REAL_ASSERT_OK(dirs);
    struct stat before, after;
    ASSERT_EQ(::stat((*dirs)[0].c_str(), &before), 0);
    (void)unpack_image(*store, *b);  // fails on its second layer
    ASSERT_EQ(::stat((*dirs)[0].c_str(), &after), 0);
    EXPECT_EQ(before.st_ino, after.st_ino);
    EXPECT_EQ(store->list()->size(), 60u);
}

TEST_F(ImageUnpackReal, RefusesDotDot) {
    expect_refused("evil-dotdot", "../../escaped-dotdot");
}
TEST_F(ImageUnpackReal, RefusesAbsolutePath) {
    expect_refused("evil-absolute", "/escaped-absolute");
}
TEST_F(ImageUnpackReal, RefusesWritingThroughSymlink) {
    expect_refused("evil-symlink", "escape/escaped-symlink");
}
TEST_F(ImageUnpackReal, RefusesHardLinkOutside) {
    expect_refused("evil-hardlink", "etc/pw");
}
TEST_F(ImageUnpackReal, RefusesWhiteoutOfParent) {
    expect_refused("evil-whiteout", "etc/.wh...");
}

}  // namespace
}  // namespace berth::image

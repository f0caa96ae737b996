// The image store (image/image_store.h) in a temporary directory: names in SQLite, resolving by
// name, digest and ID prefix (also through an index), refusing incomplete images, unpacking
// with diff ID checks, and garbage collection.
#include "image/image_store.h"

#include <dirent.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <thread>

#include "base/file.h"

namespace berth::image {
namespace {

// A one-file ustar archive: enough for a layer whose diff ID we know.
std::string make_tar(const std::string& name, const std::string& content) {
    std::string header(512, '\0');
    auto put = [&](size_t off, const std::string& s) {
        std::memcpy(&header[off], s.data(), s.size());
    };
    auto octal = [](uint64_t v, int width) {
        char buf[32];
        std::snprintf(buf, sizeof(buf), "%0*llo", width - 1, (unsigned long long)v);
        return std::string(buf);
    };
    put(0, name);
    put(100, octal(0644, 8));
    put(108, octal(0, 8));
    put(116, octal(0, 8));
    put(124, octal(content.size(), 12));
    put(136, octal(1700000000, 12));
    put(148, "        ");
    header[156] = '0';
    put(257, "ustar");
    put(263, "00");
    unsigned sum = 0;
    for (unsigned char c : header) sum += c;
    put(148, octal(sum, 7));
    std::string tar = header + content;
    tar.append((512 - content.size() % 512) % 512, '\0');
    tar.append(1024, '\0');
    return tar;
}

struct Built {
    Descriptor manifest;
    Digest config;
    std::vector<Digest> layers;
};

class ImageStoreTest : public ::testing::Test {
  protected:
    void SetUp() override {
        char tmpl[] = "/tmp/berth-images-test.XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        root_ = tmpl;
        auto s = ImageStore::open(root_);
        ASSERT_TRUE(s.ok()) << s.error().what();
        store_ = std::make_unique<ImageStore>(std::move(s).value());
    }
    void TearDown() override { (void)remove_all(root_); }

    Descriptor put(std::string_view media_type, const std::string& data) {
        auto d = store_->content().write_blob(data);
        EXPECT_TRUE(d.ok()) << d.error().what();
        return Descriptor{std::string(media_type), *d, int64_t(data.size()), {}, {}, {}};
    }

    // An image whose layers are uncompressed tars (so diff ID = blob digest).
    Built build(const std::string& label, const std::vector<std::string>& layer_tars,
                const Platform& platform = host_platform(), bool write_config = true,
                std::vector<Digest> diff_ids = {}) {
        Built b;
        Manifest m;
        m.media_type = std::string(media::kOciManifest);
        for (const auto& tar : layer_tars) {
            Descriptor l = put(media::kOciLayer, tar);
            b.layers.push_back(l.digest);
            m.layers.push_back(l);
        }
        if (diff_ids.empty()) diff_ids = b.layers;
        Json config = {{"architecture", platform.architecture},
                       {"os", platform.os},
                       {"config", {{"Labels", {{"l", label}}}, {"Cmd", {"sh"}}}},
                       {"rootfs", {{"type", "layers"}, {"diff_ids", Json::array()}}}};
        for (const auto& d : diff_ids) config["rootfs"]["diff_ids"].push_back(d.str());
        std::string config_text = config.dump();
        if (write_config) {
            m.config = put(media::kOciConfig, config_text);
        } else {
            m.config = Descriptor{std::string(media::kOciConfig),
                                  sha256_of(config_text),
                                  int64_t(config_text.size()),
                                  {},
                                  {},
                                  {}};
        }
        b.config = m.config.digest;
        b.manifest = put(media::kOciManifest, manifest_to_json(m));
        return b;
    }

    size_t blob_count() { return store_->content().list()->size(); }

    std::string root_;
    std::unique_ptr<ImageStore> store_;
};

TEST_F(ImageStoreTest, SetGetListRemove) {
    Built a = build("a", {make_tar("a", "A")});
    ASSERT_TRUE(store_->set("busybox", a.manifest).ok());
    ASSERT_TRUE(store_->set("localhost:5000/x:1", a.manifest).ok());

    auto got = store_->get("docker.io/library/busybox:latest");
    ASSERT_TRUE(got.ok()) << got.error().what();
    ASSERT_TRUE(got->has_value());
    EXPECT_EQ((*got)->name, "docker.io/library/busybox:latest");
    EXPECT_EQ((*got)->target.digest, a.manifest.digest);
    EXPECT_EQ((*got)->target.size, a.manifest.size);
    EXPECT_FALSE((*got)->created.empty());
    EXPECT_FALSE(store_->get("busybox:other")->has_value());

    auto all = store_->list();
    ASSERT_TRUE(all.ok());
    ASSERT_EQ(all->size(), 2u);
    EXPECT_EQ((*all)[0].name, "docker.io/library/busybox:latest");
    EXPECT_EQ((*all)[1].name, "localhost:5000/x:1");

    // Re-pointing a name replaces its target.
    Built b = build("b", {make_tar("b", "B")});
    ASSERT_TRUE(store_->set("busybox:latest", b.manifest).ok());
    EXPECT_EQ((*store_->get("busybox"))->target.digest, b.manifest.digest);

    ASSERT_TRUE(store_->remove("busybox").ok());
    EXPECT_FALSE(store_->get("busybox")->has_value());
    auto again = store_->remove("busybox");
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(again.error().errno_value(), ENOENT);
    EXPECT_NE(again.error().what().find("docker.io/library/busybox:latest"), std::string::npos);
    EXPECT_FALSE(store_->set("Not/Valid", a.manifest).ok());

    // Names survive reopening.
    store_.reset();
    auto s = ImageStore::open(root_);
    ASSERT_TRUE(s.ok()) << s.error().what();
    EXPECT_TRUE(s->get("localhost:5000/x:1")->has_value());
}

TEST_F(ImageStoreTest, IncompleteImagesAreRefused) {
    Built no_config = build("c", {make_tar("c", "C")}, host_platform(), /*write_config=*/false);
    auto r = store_->set("c", no_config.manifest);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().errno_value(), ENOENT);
    EXPECT_NE(r.error().what().find(no_config.config.str()), std::string::npos) << r.error().what();
    EXPECT_FALSE(store_->get("c")->has_value());

    Built no_layer = build("d", {make_tar("d", "D")});
    ASSERT_TRUE(store_->content().remove(no_layer.layers[0]).ok());
    r = store_->set("d", no_layer.manifest);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().what().find("layer blob " + no_layer.layers[0].str()), std::string::npos)
        << r.error().what();

    Built e = build("e", {make_tar("e", "E")});
    Descriptor wrong_size = e.manifest;
    wrong_size.size += 1;
    EXPECT_FALSE(store_->set("e", wrong_size).ok());
    Descriptor unknown = e.manifest;
    unknown.media_type = "application/x-unknown";
    r = store_->set("e", unknown);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().what().find("application/x-unknown"), std::string::npos);

    Built mismatch =
        build("f", {make_tar("f", "F")}, host_platform(), true, {sha256_of("x"), sha256_of("y")});
    r = store_->set("f", mismatch.manifest);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().what().find("2 diff IDs"), std::string::npos) << r.error().what();
    EXPECT_TRUE(store_->list()->empty());
}

TEST_F(ImageStoreTest, ResolveByNameDigestAndIdPrefix) {
    Built a = build("a", {make_tar("a", "A"), make_tar("a2", "A2")});
    ASSERT_TRUE(store_->set("a:1", a.manifest).ok());
    ASSERT_TRUE(store_->set("quay.io/a/b:2", a.manifest).ok());
    Platform host = host_platform();

    auto byname = store_->resolve("a:1", host);
    ASSERT_TRUE(byname.ok()) << byname.error().what();
    EXPECT_EQ(byname->id(), a.config);
    EXPECT_EQ(byname->manifest_desc.digest, a.manifest.digest);
    EXPECT_EQ(byname->config.cmd, std::vector<std::string>{"sh"});
    EXPECT_EQ(byname->config.labels.at("l"), "a");
    ASSERT_EQ(byname->chain_ids.size(), 2u);
    EXPECT_EQ(byname->chain_ids, chain_ids(a.layers));

    for (std::string ref : {a.config.str(), a.config.hex, a.config.hex.substr(0, 12),
                            "sha256:" + a.config.hex.substr(0, 5), a.manifest.digest.str(),
                            "docker.io/library/a@" + a.manifest.digest.str()}) {
        auto r = store_->resolve(ref, host);
        ASSERT_TRUE(r.ok()) << ref << ": " << r.error().what();
        EXPECT_EQ(r->id(), a.config) << ref;
    }
    auto names = store_->names_of(*byname, host);
    ASSERT_TRUE(names.ok());
    EXPECT_EQ(*names, (std::vector<std::string>{"docker.io/library/a:1", "quay.io/a/b:2"}));

    for (std::string ref : {"a:2", "nothere", "0000000000ff", "zz"}) {
        auto r = store_->resolve(ref, host);
        ASSERT_FALSE(r.ok()) << ref;
        EXPECT_EQ(r.error().errno_value(), ENOENT) << ref << ": " << r.error().what();
    }
}

TEST_F(ImageStoreTest, AmbiguousIdPrefix) {
    // Make images until two IDs share their first three hex digits.
    std::map<std::string, Digest> by_prefix;
    std::string prefix;
    for (int i = 0; i < 5000 && prefix.empty(); ++i) {
        Built b = build("img" + std::to_string(i), {});
        ASSERT_TRUE(store_->set("img" + std::to_string(i), b.manifest).ok());
        std::string p = b.config.hex.substr(0, 3);
        if (by_prefix.count(p)) prefix = p;
        by_prefix.emplace(p, b.config);
    }
    ASSERT_FALSE(prefix.empty());
    auto r = store_->resolve(prefix, host_platform());
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().what().find("ambiguous"), std::string::npos) << r.error().what();
}

TEST_F(ImageStoreTest, ResolveThroughIndex) {
    Platform host = host_platform();
    Platform other{"linux", host.architecture == "arm64" ? "amd64" : "arm64", ""};
    Built mine = build("mine", {make_tar("m", "M")}, host);
    Built theirs = build("theirs", {make_tar("t", "T")}, other);
    Index index;
    index.media_type = std::string(media::kOciIndex);
    Descriptor d1 = theirs.manifest, d2 = mine.manifest;
    d1.platform = other;
    d2.platform = host;
    index.manifests = {d1, d2};
    Descriptor idx = put(media::kOciIndex, index_to_json(index));
    // Only this platform's image was pulled: the index is still complete enough.
    ASSERT_TRUE(store_->content().remove(theirs.layers[0]).ok());
    auto set = store_->set("multi", idx);
    EXPECT_FALSE(set.ok());  // theirs is present but incomplete
    ASSERT_TRUE(store_->content().remove(theirs.manifest.digest).ok());
    ASSERT_TRUE(store_->set("multi", idx).ok());

    auto r = store_->resolve("multi", host);
    ASSERT_TRUE(r.ok()) << r.error().what();
    EXPECT_EQ(r->id(), mine.config);
    auto none = store_->resolve("multi", Platform{"linux", "s390x", ""});
    ASSERT_FALSE(none.ok());
    EXPECT_NE(none.error().what().find("linux/s390x"), std::string::npos) << none.error().what();
    auto by_index_digest = store_->resolve(idx.digest.str(), host);
    ASSERT_TRUE(by_index_digest.ok()) << by_index_digest.error().what();
}

std::vector<std::string> dir_entries(const std::string& dir) {
    std::vector<std::string> out;
    if (DIR* d = ::opendir(dir.c_str())) {
        while (auto* e = ::readdir(d))
            if (e->d_name[0] != '.') out.push_back(e->d_name);
        ::closedir(d);
    }
    return out;
}

TEST_F(ImageStoreTest, UnpackVerifiesDiffIds) {
    std::string tar = make_tar("hello.txt", "hello world\n");
    Built good = build("good", {tar});
    ASSERT_TRUE(store_->set("good", good.manifest).ok());
    auto img = store_->resolve("good", host_platform());
    ASSERT_TRUE(img.ok());
    auto dirs = store_->unpack(*img, UnpackOptions{.same_owner = false});
    ASSERT_TRUE(dirs.ok()) << dirs.error().what();
    ASSERT_EQ(dirs->size(), 1u);
    EXPECT_EQ((*dirs)[0], store_->snapshots().dir(img->chain_ids[0]));
    EXPECT_EQ(*read_file((*dirs)[0] + "/hello.txt"), "hello world\n");
    // Unpacking again reuses the snapshot.
    auto again = store_->unpack(*img, UnpackOptions{.same_owner = false});
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(*again, *dirs);

    // A layer whose content is not what the config says is refused and not kept.
    std::string other = make_tar("evil.txt", "evil\n");
    Built bad = build("bad", {other}, host_platform(), true, {sha256_of("not the layer")});
    ASSERT_TRUE(store_->set("bad", bad.manifest).ok());
    auto bad_img = store_->resolve("bad", host_platform());
    ASSERT_TRUE(bad_img.ok());
    auto r = store_->unpack(*bad_img, UnpackOptions{.same_owner = false});
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().what().find("diff ID"), std::string::npos) << r.error().what();
    EXPECT_FALSE(store_->snapshots().has(bad_img->chain_ids[0]));
}

TEST_F(ImageStoreTest, GcRemovesOnlyUnreferenced) {
    std::string shared = make_tar("shared", "S");
    Built keep = build("keep", {shared, make_tar("k", "K")});
    Built drop = build("drop", {shared, make_tar("d", "D")});
    ASSERT_TRUE(store_->set("keep", keep.manifest).ok());
    ASSERT_TRUE(store_->set("drop", drop.manifest).ok());
    Descriptor stray = put("application/octet-stream", "stray");
    EXPECT_EQ(blob_count(), 8u);  // 3 layers + 2 configs + 2 manifests + stray

    auto keep_img = *store_->resolve("keep", host_platform());
    auto drop_img = *store_->resolve("drop", host_platform());
    UnpackOptions o{.same_owner = false};
    ASSERT_TRUE(store_->unpack(keep_img, o).ok());
    ASSERT_TRUE(store_->unpack(drop_img, o).ok());
    // chain[0] is shared: 3 snapshots.
    EXPECT_EQ(store_->snapshots().list()->size(), 3u);

    auto first = store_->gc();
    ASSERT_TRUE(first.ok()) << first.error().what();
    EXPECT_EQ(first->blobs_removed, 1u);  // the stray blob only
    EXPECT_EQ(first->bytes_freed, 5u);
    EXPECT_EQ(first->snapshots_removed, 0u);
    EXPECT_FALSE(store_->content().has(stray.digest));

    ASSERT_TRUE(store_->remove("drop").ok());
    // A container still uses drop's top snapshot: the engine says so.
    auto second = store_->gc({drop_img.chain_ids[1]});
    ASSERT_TRUE(second.ok()) << second.error().what();
    EXPECT_EQ(second->blobs_removed, 3u);  // drop's manifest, config and own layer
    EXPECT_EQ(second->snapshots_removed, 0u);
    EXPECT_TRUE(store_->content().has(keep.layers[0]));
    EXPECT_TRUE(store_->content().has(keep.layers[1]));
    EXPECT_TRUE(store_->content().has(keep.config));
    EXPECT_TRUE(store_->content().has(keep.manifest.digest));
    EXPECT_FALSE(store_->content().has(drop.layers[1]));
    EXPECT_FALSE(store_->content().has(drop.manifest.digest));

    auto third = store_->gc();
    ASSERT_TRUE(third.ok());
    EXPECT_EQ(third->blobs_removed, 0u);
    EXPECT_EQ(third->snapshots_removed, 1u);
    EXPECT_TRUE(store_->snapshots().has(keep_img.chain_ids[0]));
    EXPECT_TRUE(store_->snapshots().has(keep_img.chain_ids[1]));
    EXPECT_FALSE(store_->snapshots().has(drop_img.chain_ids[1]));
    EXPECT_TRUE(store_->resolve("keep", host_platform()).ok());
}

TEST_F(ImageStoreTest, GcWaitsForWriteLeases) {
    auto lease = store_->write_lease();
    ASSERT_TRUE(lease.ok()) << lease.error().what();
    Descriptor pending = put("application/octet-stream", "about to be named");
    std::atomic<bool> done{false};
    std::thread gc([&] {
        EXPECT_TRUE(store_->gc().ok());
        done = true;
    });
    ::usleep(200 * 1000);
    EXPECT_FALSE(done.load());
    EXPECT_TRUE(store_->content().has(pending.digest));
    lease->reset();
    gc.join();
    EXPECT_TRUE(done.load());
    EXPECT_FALSE(store_->content().has(pending.digest));  // never named: swept
}

TEST_F(ImageStoreTest, LayoutUnderRoot) {
    EXPECT_TRUE(path_exists(root_ + "/berth.db"));
    EXPECT_TRUE(is_directory(root_ + "/blobs/sha256"));
    EXPECT_TRUE(dir_entries(root_ + "/ingest").empty());
    Built a = build("a", {});
    EXPECT_EQ(dir_entries(root_ + "/blobs/sha256").size(), 2u);
}

}  // namespace
}  // namespace berth::image

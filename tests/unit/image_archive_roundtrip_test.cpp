// Archive formats in and out of a content store: OCI layout, oci-archive and docker-archive
// round trips give back the same descriptors; corrupt blobs are refused; rootfs layers and the
// flattened export apply whiteouts.
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <map>
#include <optional>
#include <set>
#include <string>

#include "base/file.h"
#include "image/archive/archive.h"
#include "image/archive/rootfs.h"
#include "image/archive/tar_io.h"

namespace berth::image {
namespace {

class ArchiveRoundTrip : public ::testing::Test {
  protected:
    void SetUp() override {
        char tmpl[] = "/tmp/berth-archive-test.XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
        auto s = ContentStore::open(path_join(dir_, "store"));
        ASSERT_TRUE(s.ok()) << s.error().what();
        store_.emplace(std::move(*s));
    }
    void TearDown() override { (void)remove_all(dir_); }

    std::string path(const std::string& rel) const { return path_join(dir_, rel); }

    ContentStore fresh_store(const std::string& name) {
        auto s = ContentStore::open(path(name));
        EXPECT_TRUE(s.ok()) << s.error().what();
        return std::move(*s);
    }

    void write(const std::string& rel, const std::string& data) {
        ASSERT_TRUE(mkdir_p(path_dirname(path(rel))).ok());
        ASSERT_TRUE(write_file(path(rel), data, true).ok());
    }

    // A two-layer image: a base filesystem, then a layer that adds, changes and deletes.
    Descriptor two_layer_image() {
        write("l1/etc/hello", "hello\n");
        write("l1/etc/gone", "bye\n");
        write("l1/opt/old/file", "old\n");
        write("l1/bin/tool", std::string(100000, 'x'));
        EXPECT_EQ(::symlink("tool", path("l1/bin/alias").c_str()), 0);
        write("l2/etc/hello", "hello again\n");
        write("l2/etc/.wh.gone", "");
        write("l2/opt/.wh..wh..opq", "");
        write("l2/opt/new", "new\n");
        auto a = layer_from_directory(*store_, path("l1"));
        EXPECT_TRUE(a.ok()) << a.error().what();
        auto b = layer_from_directory(*store_, path("l2"));
        EXPECT_TRUE(b.ok()) << b.error().what();
        NewImageConfig c;
        c.cmd = {"/bin/tool"};
        c.env = {"A=1"};
        c.created = "2024-01-02T03:04:05Z";
        auto d = make_image(*store_, {*a, *b}, c);
        EXPECT_TRUE(d.ok()) << d.error().what();
        return *d;
    }

    Manifest manifest_of(const ContentStore& s, const Descriptor& d) {
        auto text = s.read(d.digest);
        EXPECT_TRUE(text.ok());
        auto m = parse_manifest(*text);
        EXPECT_TRUE(m.ok());
        return *m;
    }

    std::string dir_;
    std::optional<ContentStore> store_;
};

TEST_F(ArchiveRoundTrip, LayersFromADirectoryHaveMatchingDiffIds) {
    Descriptor d = two_layer_image();
    Manifest m = manifest_of(*store_, d);
    ASSERT_EQ(m.layers.size(), 2u);
    auto config = parse_image_config(*store_->read(m.config.digest));
    ASSERT_TRUE(config.ok());
    ASSERT_EQ(config->diff_ids.size(), 2u);
    EXPECT_EQ(config->cmd, std::vector<std::string>{"/bin/tool"});
    EXPECT_EQ(config->architecture, host_platform().architecture);
    for (size_t i = 0; i < 2; ++i) {
        EXPECT_EQ(m.layers[i].media_type, media::kOciLayerGzip);
        // The gzip blob decompresses to the tar the diff ID names.
        auto opened = store_->open_blob(m.layers[i].digest);
        ASSERT_TRUE(opened.ok());
        UniqueFd fd = std::move(*opened);
        Sha256 sha;
        ASSERT_TRUE(tar::decompress_fd(fd, "layer", [&](std::string_view s) -> Result<void> {
                        sha.update(s);
                        return {};
                    }).ok());
        EXPECT_EQ(sha.finish(), config->diff_ids[i]);
    }
}

TEST_F(ArchiveRoundTrip, OciLayoutKeepsDescriptorsAndNames) {
    Descriptor d = two_layer_image();
    std::vector<NamedImage> images = {{"localhost/test/img:1", d}};
    ASSERT_TRUE(export_oci_layout(*store_, images, path("layout")).ok());
    EXPECT_TRUE(path_exists(path("layout/oci-layout")));
    ContentStore other = fresh_store("other");
    auto back = import_oci_layout(other, path("layout"));
    ASSERT_TRUE(back.ok()) << back.error().what();
    ASSERT_EQ(back->size(), 1u);
    EXPECT_EQ((*back)[0].first, "localhost/test/img:1");
    EXPECT_EQ((*back)[0].second.digest, d.digest);
    EXPECT_EQ((*back)[0].second.size, d.size);
    EXPECT_EQ((*back)[0].second.media_type, d.media_type);
    EXPECT_EQ((*back)[0].second.annotations.at("org.opencontainers.image.ref.name"), "1");
    Manifest m = manifest_of(other, (*back)[0].second);
    EXPECT_TRUE(other.has(m.config.digest));
    for (const auto& l : m.layers) EXPECT_TRUE(other.has(l.digest));
}

TEST_F(ArchiveRoundTrip, OciArchiveRoundTrip) {
    Descriptor d = two_layer_image();
    ASSERT_TRUE(export_oci_archive(*store_, {{"docker.io/library/a:b", d}, {"x.io/c:d", d}},
                                   path("img.tar"))
                    .ok());
    ContentStore other = fresh_store("other");
    auto back = import_any(other, path("img.tar"));
    ASSERT_TRUE(back.ok()) << back.error().what();
    ASSERT_EQ(back->size(), 2u);
    std::set<std::string> names = {(*back)[0].first, (*back)[1].first};
    EXPECT_EQ(names, (std::set<std::string>{"docker.io/library/a:b", "x.io/c:d"}));
    for (const auto& [n, desc] : *back) EXPECT_EQ(desc.digest, d.digest) << n;
    EXPECT_EQ(manifest_of(other, d).layers.size(), 2u);
}

TEST_F(ArchiveRoundTrip, DockerArchiveRoundTripKeepsConfigAndDiffIds) {
    Descriptor d = two_layer_image();
    Manifest m = manifest_of(*store_, d);
    ASSERT_TRUE(export_docker_archive(*store_, {{"docker.io/library/a:b", d}}, path("d.tar")).ok());
    ContentStore other = fresh_store("other");
    auto back = import_any(other, path("d.tar"));
    ASSERT_TRUE(back.ok()) << back.error().what();
    ASSERT_EQ(back->size(), 1u);
    EXPECT_EQ((*back)[0].first, "docker.io/library/a:b");
    Manifest m2 = manifest_of(other, (*back)[0].second);
    EXPECT_EQ(m2.config.digest, m.config.digest);
    ASSERT_EQ(m2.layers.size(), 2u);
    auto config = parse_image_config(*other.read(m2.config.digest));
    ASSERT_TRUE(config.ok());
    for (size_t i = 0; i < 2; ++i) {
        // docker save writes layers uncompressed: the blob is the diff ID.
        EXPECT_EQ(m2.layers[i].media_type, media::kOciLayer);
        EXPECT_EQ(m2.layers[i].digest, config->diff_ids[i]);
    }
    // And back out again, then in: the same descriptors.
    ASSERT_TRUE(
        export_docker_archive(other, {{"docker.io/library/a:b", (*back)[0].second}}, path("e.tar"))
            .ok());
    ContentStore third = fresh_store("third");
    auto again = import_docker_archive(third, path("e.tar"));
    ASSERT_TRUE(again.ok()) << again.error().what();
    EXPECT_EQ((*again)[0].second.digest, (*back)[0].second.digest);
}

TEST_F(ArchiveRoundTrip, CorruptBlobIsRefused) {
    Descriptor d = two_layer_image();
    ASSERT_TRUE(export_oci_layout(*store_, {{"a.io/x:1", d}}, path("layout")).ok());
    Manifest m = manifest_of(*store_, d);
    std::string blob = path("layout/blobs/sha256/" + m.layers[1].digest.hex);
    std::string data = *read_file(blob);
    data[data.size() / 2] ^= 1;
    ASSERT_TRUE(write_file(blob, data).ok());
    ContentStore other = fresh_store("other");
    auto r = import_oci_layout(other, path("layout"));
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().what().find(m.layers[1].digest.hex.substr(0, 12)), std::string::npos)
        << r.error().what();
    EXPECT_FALSE(other.has(m.layers[1].digest));
}

TEST_F(ArchiveRoundTrip, MissingBlobInOciArchiveIsNamed) {
    Descriptor d = two_layer_image();
    Manifest m = manifest_of(*store_, d);
    ASSERT_TRUE(export_oci_layout(*store_, {{"a.io/x:1", d}}, path("layout")).ok());
    ASSERT_EQ(::unlink(path("layout/blobs/sha256/" + m.config.digest.hex).c_str()), 0);
    // Re-pack the layout as a tar without the config.
    {
        auto w = tar::Writer::create_file(path("broken.tar"));
        ASSERT_TRUE(w.ok());
        for (const char* f : {"oci-layout", "index.json"}) {
            ASSERT_TRUE(w->add_file(f, *read_file(path(std::string("layout/") + f))).ok());
        }
        for (const auto& digest : {d.digest, m.layers[0].digest, m.layers[1].digest}) {
            ASSERT_TRUE(w->add_file("blobs/sha256/" + digest.hex,
                                    *read_file(path("layout/blobs/sha256/" + digest.hex)))
                            .ok());
        }
        ASSERT_TRUE(w->close().ok());
    }
    ContentStore other = fresh_store("other");
    auto r = import_any(other, path("broken.tar"));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().errno_value(), ENOENT);
    EXPECT_NE(r.error().what().find(m.config.digest.str()), std::string::npos) << r.error().what();
}

TEST_F(ArchiveRoundTrip, DockerArchiveWithWrongDiffIdIsRefused) {
    Descriptor d = two_layer_image();
    ASSERT_TRUE(export_docker_archive(*store_, {{"a.io/x:1", d}}, path("d.tar")).ok());
    // Swap the layer order in manifest.json: the diff IDs no longer match.
    std::string manifest;
    std::vector<std::pair<std::string, std::string>> files;
    {
        auto r = tar::Reader::open_file(path("d.tar"));
        ASSERT_TRUE(r.ok());
        while (*r->next()) files.emplace_back(r->path(), *r->read_all(1 << 30));
    }
    auto w = tar::Writer::create_file(path("swapped.tar"));
    ASSERT_TRUE(w.ok());
    for (auto& [name, data] : files) {
        if (name == "manifest.json") {
            Json j = Json::parse(data);
            auto layers = j[0]["Layers"];
            j[0]["Layers"] = Json::array({layers[1], layers[0]});
            data = j.dump();
        }
        ASSERT_TRUE(w->add_file(name, data).ok());
    }
    ASSERT_TRUE(w->close().ok());
    ContentStore other = fresh_store("other");
    auto r = import_docker_archive(other, path("swapped.tar"));
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().what().find("manifest.json[0].Layers[0]"), std::string::npos)
        << r.error().what();
    EXPECT_NE(r.error().what().find("diff_ids[0]"), std::string::npos) << r.error().what();
}

TEST_F(ArchiveRoundTrip, NotAnArchiveIsNamed) {
    write("junk", "this is not a tar");
    ContentStore other = fresh_store("other");
    auto r = import_any(other, path("junk"));
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().what().find(path("junk")), std::string::npos) << r.error().what();
    ASSERT_TRUE(mkdir_p(path("emptydir")).ok());
    r = import_any(other, path("emptydir"));
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().what().find("oci-layout"), std::string::npos) << r.error().what();
}

TEST_F(ArchiveRoundTrip, FlattenedExportAppliesWhiteouts) {
    Descriptor d = two_layer_image();
    Manifest m = manifest_of(*store_, d);
    ASSERT_TRUE(export_flattened(*store_, m, path("flat.tar")).ok());
    std::map<std::string, std::string> files;
    auto r = tar::Reader::open_file(path("flat.tar"));
    ASSERT_TRUE(r.ok());
    while (*r->next()) {
        files[r->path()] = r->type() == AE_IFREG ? *r->read_all(1 << 20) : "";
    }
    EXPECT_EQ(files.count("etc/gone"), 0u);
    EXPECT_EQ(files.count("opt/old/file"), 0u);
    EXPECT_EQ(files.count("opt/old"), 0u);
    EXPECT_EQ(files.count("opt/.wh..wh..opq"), 0u);
    EXPECT_EQ(files.count("etc/.wh.gone"), 0u);
    EXPECT_EQ(files["etc/hello"], "hello again\n");
    EXPECT_EQ(files["opt/new"], "new\n");
    EXPECT_EQ(files["bin/tool"].size(), 100000u);
    EXPECT_EQ(files.count("bin/alias"), 1u);
    EXPECT_EQ(files.count("opt"), 1u);
}

TEST_F(ArchiveRoundTrip, TarballImportKeepsUncompressedAndRecompressesOthers) {
    write("root/a", "a\n");
    // An uncompressed tar is stored as it is.
    {
        auto w = tar::Writer::create_file(path("rootfs.tar"));
        ASSERT_TRUE(w.ok());
        ASSERT_TRUE(w->add_file("a", "a\n").ok());
        ASSERT_TRUE(w->close().ok());
    }
    auto plain = layer_from_tarball(*store_, path("rootfs.tar"));
    ASSERT_TRUE(plain.ok()) << plain.error().what();
    EXPECT_EQ(plain->desc.media_type, media::kOciLayer);
    EXPECT_EQ(plain->desc.digest, plain->diff_id);
    EXPECT_EQ(plain->diff_id, sha256_of(*read_file(path("rootfs.tar"))));
    // gzip: stored gzip-compressed, the diff ID is the uncompressed tar's.
    ASSERT_EQ(system(("gzip -k " + path("rootfs.tar")).c_str()), 0);
    auto gz = layer_from_tarball(*store_, path("rootfs.tar.gz"));
    ASSERT_TRUE(gz.ok()) << gz.error().what();
    EXPECT_EQ(gz->desc.media_type, media::kOciLayerGzip);
    EXPECT_EQ(gz->diff_id, plain->diff_id);
    write("notatar", "hello");
    EXPECT_FALSE(layer_from_tarball(*store_, path("notatar")).ok());
}

}  // namespace
}  // namespace berth::image

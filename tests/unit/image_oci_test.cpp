// OCI and Docker image documents (image/oci_image.h): manifests, indexes and configs parsed
// from both vocabularies, errors that name the field, and platform selection.
#include "image/oci_image.h"

#include <gtest/gtest.h>

namespace berth::image {
namespace {

const std::string kA = "sha256:" + std::string(64, 'a');
const std::string kB = "sha256:" + std::string(64, 'b');
const std::string kC = "sha256:" + std::string(64, 'c');

std::string oci_manifest() {
    return R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
      "config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" +
           kA +
           R"(","size":1470},
      "layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":")" +
           kB +
           R"(","size":2220094},
                {"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":")" +
           kC +
           R"(","size":10240,"annotations":{"x":"y"}}],
      "annotations":{"org.opencontainers.image.ref.name":"latest"}})";
}

std::string docker_manifest() {
    return R"({"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",
      "config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":1457,"digest":")" +
           kA + R"("},
      "layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":772788,"digest":")" +
           kB + R"("}]})";
}

std::string error_of(std::string_view text, bool index = false) {
    if (index) {
        auto r = parse_index(text);
        if (r.ok()) return "<ok>";
        EXPECT_EQ(r.error().errno_value(), EINVAL);
        return r.error().what();
    }
    auto r = parse_manifest(text);
    if (r.ok()) return "<ok>";
    EXPECT_EQ(r.error().errno_value(), EINVAL);
    return r.error().what();
}

TEST(ImageManifest, ParsesOci) {
    auto m = parse_manifest(oci_manifest());
    ASSERT_TRUE(m.ok()) << m.error().what();
    EXPECT_EQ(m->schema_version, 2);
    EXPECT_EQ(kind_of(m->media_type), Kind::Manifest);
    EXPECT_EQ(m->config.digest.str(), kA);
    EXPECT_EQ(m->config.size, 1470);
    ASSERT_EQ(m->layers.size(), 2u);
    EXPECT_EQ(*layer_compression(m->layers[0].media_type), Compression::Gzip);
    EXPECT_EQ(*layer_compression(m->layers[1].media_type), Compression::None);
    EXPECT_EQ(m->layers[1].annotations.at("x"), "y");
    EXPECT_EQ(m->annotations.at("org.opencontainers.image.ref.name"), "latest");
}

TEST(ImageManifest, ParsesDocker) {
    auto m = parse_manifest(docker_manifest());
    ASSERT_TRUE(m.ok()) << m.error().what();
    EXPECT_EQ(kind_of(m->config.media_type), Kind::Config);
    EXPECT_EQ(*layer_compression(m->layers[0].media_type), Compression::Gzip);
}

TEST(ImageManifest, RoundTripsCanonically) {
    auto m = parse_manifest(oci_manifest());
    ASSERT_TRUE(m.ok());
    std::string json = manifest_to_json(*m);
    EXPECT_EQ(json.find(' '), std::string::npos);
    auto again = parse_manifest(json);
    ASSERT_TRUE(again.ok()) << again.error().what();
    EXPECT_EQ(manifest_to_json(*again), json);
    EXPECT_LT(json.find("\"config\""), json.find("\"layers\""));  // sorted keys
}

TEST(ImageManifest, MediaTypeMayBeAbsentInOci) {
    std::string text = oci_manifest();
    text.replace(
        text.find("\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","),
        std::string("\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",").size(), "");
    auto m = parse_manifest(text);
    ASSERT_TRUE(m.ok()) << m.error().what();
    EXPECT_TRUE(m->media_type.empty());
}

TEST(ImageManifest, ErrorsNameTheField) {
    std::string digest_bad = oci_manifest();
    digest_bad.replace(digest_bad.find(kC), kC.size(), "sha256:xyz");
    EXPECT_NE(error_of(digest_bad).find("manifest.layers[1].digest"), std::string::npos)
        << error_of(digest_bad);

    std::string unknown_layer = oci_manifest();
    unknown_layer.replace(unknown_layer.find("application/vnd.oci.image.layer.v1.tar\""),
                          std::string("application/vnd.oci.image.layer.v1.tar").size(),
                          "application/x-weird");
    EXPECT_NE(
        error_of(unknown_layer).find("manifest.layers[1].mediaType: unknown layer media type"),
        std::string::npos)
        << error_of(unknown_layer);

    std::string unknown_config = docker_manifest();
    unknown_config.replace(unknown_config.find("application/vnd.docker.container.image.v1+json"),
                           std::string("application/vnd.docker.container.image.v1+json").size(),
                           "application/vnd.cncf.helm.config.v1+json");
    EXPECT_NE(error_of(unknown_config).find("manifest.config.mediaType"), std::string::npos);

    std::string negative = oci_manifest();
    negative.replace(negative.find("1470"), 4, "-1");
    EXPECT_NE(error_of(negative).find("manifest.config.size"), std::string::npos);

    EXPECT_NE(error_of(R"({"schemaVersion":2,"layers":[]})").find("manifest.config: missing"),
              std::string::npos);
    EXPECT_NE(error_of(R"({"schemaVersion":1,"fsLayers":[]})").find("schema 1"), std::string::npos);
    EXPECT_NE(error_of(R"({"schemaVersion":"2"})").find("manifest.schemaVersion"),
              std::string::npos);
    EXPECT_NE(error_of("[1,2]").find("not a JSON object"), std::string::npos);
    EXPECT_NE(error_of("{").find("not valid JSON"), std::string::npos);
    EXPECT_NE(error_of(R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json",
        "manifests":[]})")
                  .find("is an image index"),
              std::string::npos);
    EXPECT_NE(
        error_of(R"({"schemaVersion":2,"mediaType":"text/plain"})").find("unknown media type"),
        std::string::npos);
    std::string layers_obj = R"({"schemaVersion":2,"config":{"mediaType":
        "application/vnd.oci.image.config.v1+json","digest":")" +
                             kA + R"(","size":1},"layers":{}})";
    EXPECT_NE(error_of(layers_obj).find("manifest.layers: not an array"), std::string::npos);
}

std::string docker_list() {
    return R"({"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json",
      "manifests":[
        {"mediaType":"application/vnd.docker.distribution.manifest.v2+json","size":527,"digest":")" +
           kA + R"(","platform":{"architecture":"arm","os":"linux","variant":"v6"}},
        {"mediaType":"application/vnd.docker.distribution.manifest.v2+json","size":527,"digest":")" +
           kB + R"(","platform":{"architecture":"arm","os":"linux","variant":"v7"}},
        {"mediaType":"application/vnd.docker.distribution.manifest.v2+json","size":527,"digest":")" +
           kC + R"(","platform":{"architecture":"arm64","os":"linux","variant":"v8"}},
        {"mediaType":"application/vnd.docker.distribution.manifest.v2+json","size":527,"digest":"sha256:)" +
           std::string(64, 'd') + R"(","platform":{"architecture":"amd64","os":"linux"}},
        {"mediaType":"application/vnd.docker.distribution.manifest.v2+json","size":527,"digest":"sha256:)" +
           std::string(64, 'e') +
           R"(","platform":{"architecture":"amd64","os":"windows","os.version":"10.0"}}
      ]})";
}

TEST(ImageIndex, ParsesDockerList) {
    auto i = parse_index(docker_list());
    ASSERT_TRUE(i.ok()) << i.error().what();
    ASSERT_EQ(i->manifests.size(), 5u);
    EXPECT_EQ(i->manifests[1].platform->variant, "v7");
    auto again = parse_index(index_to_json(*i));
    ASSERT_TRUE(again.ok()) << again.error().what();
    EXPECT_EQ(index_to_json(*again), index_to_json(*i));
}

TEST(ImageIndex, ErrorsNameTheField) {
    EXPECT_NE(error_of(R"({"schemaVersion":2})", true).find("index.manifests: missing"),
              std::string::npos);
    EXPECT_NE(error_of(R"({"schemaVersion":2,"manifests":[{"mediaType":"x","digest":")" + kA +
                           R"(","size":1,"platform":{"os":"linux"}}]})",
                       true)
                  .find("index.manifests[0].platform.architecture: missing"),
              std::string::npos);
    EXPECT_NE(error_of(docker_manifest(), true).find("is an image manifest"), std::string::npos);
}

TEST(ImagePlatform, Selection) {
    auto i = parse_index(docker_list()).value();
    EXPECT_EQ(select_platform(i, {"linux", "amd64", ""})->digest.hex, std::string(64, 'd'));
    EXPECT_EQ(select_platform(i, {"linux", "arm", "v7"})->digest.str(), kB);
    EXPECT_EQ(select_platform(i, {"linux", "arm", ""})->digest.str(), kA);  // first listed
    // arm64 and arm64/v8 are one platform.
    EXPECT_EQ(select_platform(i, {"linux", "arm64", ""})->digest.str(), kC);
    i.manifests[2].platform->variant = "";
    EXPECT_EQ(select_platform(i, {"linux", "arm64", "v8"})->digest.str(), kC);
    EXPECT_EQ(select_platform(i, {"windows", "amd64", ""})->digest.hex, std::string(64, 'e'));

    auto none = select_platform(i, {"linux", "s390x", ""});
    ASSERT_FALSE(none.ok());
    EXPECT_EQ(none.error().errno_value(), ENOENT);
    EXPECT_NE(none.error().what().find("linux/s390x"), std::string::npos);
    EXPECT_NE(none.error().what().find("linux/arm/v7"), std::string::npos) << none.error().what();
}

TEST(ImagePlatform, SingleUnlabelledManifest) {
    Index i;
    Descriptor d;
    d.media_type = std::string(media::kOciManifest);
    d.digest = Digest::parse(kA).value();
    i.manifests.push_back(d);
    EXPECT_EQ(select_platform(i, host_platform())->digest.str(), kA);
    i.manifests.push_back(d);
    EXPECT_FALSE(select_platform(i, host_platform()).ok());
}

TEST(ImagePlatform, Host) {
    Platform p = host_platform();
    EXPECT_EQ(p.os, "linux");
#if defined(__x86_64__)
    EXPECT_EQ(p.architecture, "amd64");
#endif
}

const char* kDockerConfig = R"({
  "architecture": "amd64",
  "config": {
    "Hostname": "", "User": "app:app", "AttachStdin": false,
    "ExposedPorts": {"80/tcp": {}, "53/udp": {}},
    "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "NGINX_VERSION=1.25"],
    "Cmd": ["nginx", "-g", "daemon off;"],
    "Entrypoint": ["/docker-entrypoint.sh"],
    "Volumes": {"/var/cache/nginx": {}},
    "WorkingDir": "/srv",
    "Labels": {"maintainer": "NGINX"},
    "StopSignal": "SIGQUIT",
    "OnBuild": null
  },
  "created": "2023-08-16T08:22:15.013384564Z",
  "history": [{"created_by": "x"}],
  "os": "linux",
  "rootfs": {"type": "layers", "diff_ids": [
    "sha256:4fbec69b941195fd56f8212a5000e304129451d82efca94ff0e0fb2d5355472e",
    "sha256:77ea7eee3d80b1a38f83906dd3048e2689457eb90e18a7d12f839c5ae37106a2"]}
})";

TEST(ImageConfigParse, ReadsWhatTheEngineUses) {
    auto c = parse_image_config(kDockerConfig);
    ASSERT_TRUE(c.ok()) << c.error().what();
    EXPECT_EQ(c->architecture, "amd64");
    EXPECT_EQ(c->os, "linux");
    EXPECT_EQ(c->user, "app:app");
    EXPECT_EQ(c->env.size(), 2u);
    EXPECT_EQ(c->entrypoint, std::vector<std::string>{"/docker-entrypoint.sh"});
    EXPECT_EQ(c->cmd, (std::vector<std::string>{"nginx", "-g", "daemon off;"}));
    EXPECT_EQ(c->working_dir, "/srv");
    EXPECT_EQ(c->exposed_ports, (std::vector<std::string>{"53/udp", "80/tcp"}));
    EXPECT_EQ(c->volumes, std::vector<std::string>{"/var/cache/nginx"});
    EXPECT_EQ(c->stop_signal, "SIGQUIT");
    EXPECT_EQ(c->labels.at("maintainer"), "NGINX");
    ASSERT_EQ(c->diff_ids.size(), 2u);
    EXPECT_EQ(c->diff_ids[1], sha256_of("layer1"));
    EXPECT_EQ(c->created, "2023-08-16T08:22:15.013384564Z");
    EXPECT_TRUE(c->raw.contains("history"));
}

TEST(ImageConfigParse, NullsAreAbsent) {
    auto c = parse_image_config(R"({"architecture":"amd64","os":"linux",
      "config":{"Env":null,"Cmd":null,"Entrypoint":null,"Labels":null,"Volumes":null},
      "rootfs":{"type":"layers","diff_ids":[]}})");
    ASSERT_TRUE(c.ok()) << c.error().what();
    EXPECT_TRUE(c->cmd.empty());
    EXPECT_TRUE(c->labels.empty());
    auto no_config = parse_image_config(R"({"rootfs":{"type":"layers","diff_ids":[]}})");
    EXPECT_TRUE(no_config.ok()) << no_config.error().what();
}

TEST(ImageConfigParse, ErrorsNameTheField) {
    auto err = [](std::string_view text) {
        auto r = parse_image_config(text);
        return r.ok() ? std::string("<ok>") : r.error().what();
    };
    EXPECT_NE(err(R"({"config":{"Cmd":"sh"},"rootfs":{"type":"layers","diff_ids":[]}})")
                  .find("config.config.Cmd: not an array"),
              std::string::npos);
    EXPECT_NE(err(R"({"config":{"Env":["A",1]},"rootfs":{"type":"layers","diff_ids":[]}})")
                  .find("config.config.Env[1]: not a string"),
              std::string::npos);
    EXPECT_NE(err(R"({"config":{"Labels":{"a":1}},"rootfs":{"type":"layers","diff_ids":[]}})")
                  .find("config.config.Labels.a"),
              std::string::npos);
    EXPECT_NE(err(R"({"os":"linux"})").find("config.rootfs: missing"), std::string::npos);
    EXPECT_NE(err(R"({"rootfs":{"type":"zfs","diff_ids":[]}})").find("config.rootfs.type"),
              std::string::npos);
    EXPECT_NE(err(R"({"rootfs":{"type":"layers","diff_ids":["sha256:00"]}})")
                  .find("config.rootfs.diff_ids[0]"),
              std::string::npos);
}

TEST(ImageMediaTypes, Kinds) {
    EXPECT_EQ(kind_of(media::kDockerManifestList), Kind::Index);
    EXPECT_EQ(kind_of(media::kOciIndex), Kind::Index);
    EXPECT_EQ(kind_of(media::kDockerManifest), Kind::Manifest);
    EXPECT_EQ(kind_of(media::kOciConfig), Kind::Config);
    EXPECT_EQ(kind_of(media::kOciLayerZstd), Kind::Layer);
    EXPECT_EQ(kind_of("application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"), Kind::Layer);
    EXPECT_EQ(kind_of("application/octet-stream"), Kind::Unknown);
    auto bad = layer_compression("application/octet-stream");
    ASSERT_FALSE(bad.ok());
    EXPECT_NE(bad.error().what().find("application/octet-stream"), std::string::npos);
}

}  // namespace
}  // namespace berth::image

// docker-archive manifest.json: parsing, errors that name the field, printing.
#include <gtest/gtest.h>

#include <string>

#include "image/archive/docker_manifest.h"

namespace berth::image {
namespace {

TEST(DockerArchiveManifest, ParsesDockerSaveOutput) {
    auto r = parse_docker_manifest(R"([{"Config":"abc.json","RepoTags":["busybox:latest","x/y:1"],)"
                                   R"("Layers":["l1/layer.tar","./l2/../l2/layer.tar"]},)"
                                   R"({"Config":"blobs/sha256/def","RepoTags":null,"Layers":[]}])");
    ASSERT_TRUE(r.ok()) << r.error().what();
    ASSERT_EQ(r->size(), 2u);
    EXPECT_EQ((*r)[0].config, "abc.json");
    EXPECT_EQ((*r)[0].repo_tags, (std::vector<std::string>{"busybox:latest", "x/y:1"}));
    EXPECT_EQ((*r)[0].layers, (std::vector<std::string>{"l1/layer.tar", "l2/layer.tar"}));
    EXPECT_EQ((*r)[1].config, "blobs/sha256/def");
    EXPECT_TRUE((*r)[1].repo_tags.empty());
    EXPECT_TRUE((*r)[1].layers.empty());
}

TEST(DockerArchiveManifest, PathsCannotLeaveTheArchive) {
    auto r = parse_docker_manifest(R"([{"Config":"../../etc/passwd","Layers":["/a.tar"]}])");
    ASSERT_TRUE(r.ok()) << r.error().what();
    EXPECT_EQ((*r)[0].config, "etc/passwd");
    EXPECT_EQ((*r)[0].layers[0], "a.tar");
}

void expect_error(const std::string& text, const std::string& want) {
    auto r = parse_docker_manifest(text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.error().errno_value(), EINVAL);
    EXPECT_NE(r.error().what().find(want), std::string::npos)
        << "error `" << r.error().what() << "` does not name `" << want << "`";
}

TEST(DockerArchiveManifest, ErrorsNameTheField) {
    expect_error("{", "manifest.json: not valid JSON");
    expect_error("{}", "manifest.json: not an array");
    expect_error("[]", "manifest.json: no images");
    expect_error("[1]", "manifest.json[0]: not an object");
    expect_error(R"([{"Layers":[]}])", "manifest.json[0].Config: missing");
    expect_error(R"([{"Config":7,"Layers":[]}])", "manifest.json[0].Config: not a string");
    expect_error(R"([{"Config":"c.json"}])", "manifest.json[0].Layers: missing");
    expect_error(R"([{"Config":"c.json","Layers":"x"}])", "manifest.json[0].Layers: not an array");
    expect_error(R"([{"Config":"c","Layers":[]},{"Config":"c","Layers":["a",3]}])",
                 "manifest.json[1].Layers[1]: not a string");
    expect_error(R"([{"Config":"c","Layers":[""]}])", "manifest.json[0].Layers[0]: empty path");
    expect_error(R"([{"Config":"c","Layers":[],"RepoTags":"x"}])",
                 "manifest.json[0].RepoTags: not an array");
    expect_error(R"([{"Config":"c","Layers":[],"RepoTags":["a",""]}])",
                 "manifest.json[0].RepoTags[1]");
}

TEST(DockerArchiveManifest, PrintsWhatItParses) {
    std::vector<DockerArchiveEntry> entries = {
        {"c1.json", {"docker.io/library/busybox:latest"}, {"a.tar", "b.tar"}},
        {"c2.json", {}, {"a.tar"}},
    };
    auto back = parse_docker_manifest(docker_manifest_to_json(entries));
    ASSERT_TRUE(back.ok()) << back.error().what();
    ASSERT_EQ(back->size(), 2u);
    for (size_t i = 0; i < entries.size(); ++i) {
        EXPECT_EQ((*back)[i].config, entries[i].config);
        EXPECT_EQ((*back)[i].repo_tags, entries[i].repo_tags);
        EXPECT_EQ((*back)[i].layers, entries[i].layers);
    }
}

}  // namespace
}  // namespace berth::image

// Image references (image/reference.h) normalized as docker's distribution/reference does.
#include "image/reference.h"

#include <gtest/gtest.h>

namespace berth::image {
namespace {

const std::string kHex(64, 'a');

TEST(ImageReference, NormalizesLikeDocker) {
    struct Case {
        std::string in, out, registry, repository, tag;
    };
    const Case cases[] = {
        {"busybox", "docker.io/library/busybox:latest", "docker.io", "library/busybox", "latest"},
        {"busybox:1.36", "docker.io/library/busybox:1.36", "docker.io", "library/busybox", "1.36"},
        {"library/busybox", "docker.io/library/busybox:latest", "docker.io", "library/busybox",
         "latest"},
        {"docker.io/busybox", "docker.io/library/busybox:latest", "docker.io", "library/busybox",
         "latest"},
        {"index.docker.io/library/busybox", "docker.io/library/busybox:latest", "docker.io",
         "library/busybox", "latest"},
        {"dmcgowan/myapp", "docker.io/dmcgowan/myapp:latest", "docker.io", "dmcgowan/myapp",
         "latest"},
        {"dmcgowan/myapp/sub:v1", "docker.io/dmcgowan/myapp/sub:v1", "docker.io",
         "dmcgowan/myapp/sub", "v1"},
        {"localhost/foo", "localhost/foo:latest", "localhost", "foo", "latest"},
        {"localhost:5000/a:b", "localhost:5000/a:b", "localhost:5000", "a", "b"},
        {"localhost:5000/a/b/c", "localhost:5000/a/b/c:latest", "localhost:5000", "a/b/c",
         "latest"},
        {"quay.io/coreos/etcd:v3.5.9", "quay.io/coreos/etcd:v3.5.9", "quay.io", "coreos/etcd",
         "v3.5.9"},
        {"127.0.0.1:5000/x_y.z-w__v", "127.0.0.1:5000/x_y.z-w__v:latest", "127.0.0.1:5000",
         "x_y.z-w__v", "latest"},
        {"[2001:db8::1]:5000/foo", "[2001:db8::1]:5000/foo:latest", "[2001:db8::1]:5000", "foo",
         "latest"},
        {"Foo/bar", "Foo/bar:latest", "Foo", "bar", "latest"},  // uppercase: a registry name
        {"a---b", "docker.io/library/a---b:latest", "docker.io", "library/a---b", "latest"},
        {"busybox:_Tag.9-x", "docker.io/library/busybox:_Tag.9-x", "docker.io", "library/busybox",
         "_Tag.9-x"},
    };
    for (const auto& c : cases) {
        auto r = Reference::parse(c.in);
        ASSERT_TRUE(r.ok()) << c.in << ": " << r.error().what();
        EXPECT_EQ(r->str(), c.out) << c.in;
        EXPECT_EQ(r->registry, c.registry) << c.in;
        EXPECT_EQ(r->repository, c.repository) << c.in;
        EXPECT_EQ(r->tag, c.tag) << c.in;
        EXPECT_TRUE(r->digest.empty());
        // Normalizing is idempotent.
        EXPECT_EQ(Reference::parse(r->str())->str(), c.out);
    }
}

TEST(ImageReference, Digests) {
    auto r = Reference::parse("busybox@sha256:" + kHex);
    ASSERT_TRUE(r.ok()) << r.error().what();
    EXPECT_EQ(r->tag, "");
    EXPECT_EQ(r->digest, "sha256:" + kHex);
    EXPECT_EQ(r->str(), "docker.io/library/busybox@sha256:" + kHex);

    auto both = Reference::parse("localhost:5000/a:v1@sha256:" + kHex);
    ASSERT_TRUE(both.ok()) << both.error().what();
    EXPECT_EQ(both->tag, "v1");
    EXPECT_EQ(both->str(), "localhost:5000/a:v1@sha256:" + kHex);
}

TEST(ImageReference, RefusesInvalid) {
    const std::string bad[] = {
        "",
        "Busybox",  // repository names are lowercase
        "docker.io/Library/busybox",
        "busybox:",  // empty tag
        ":latest",
        "/busybox",
        "busybox/",
        "a//b",
        "-foo",
        "foo-",
        "foo..bar",
        "foo___bar",
        "busybox:tag with space",
        "busybox:-tag",
        "busybox:" + std::string(129, 't'),
        "busybox@sha256:123",
        "busybox@md5:" + kHex,
        kHex,                 // an image ID, not a name
        "localhost:abc/foo",  // port not a number
        "-host.io/foo",
        "a:b:c",
        "docker.io/" + std::string(250, 'a'),
    };
    for (const auto& text : bad) {
        auto r = Reference::parse(text);
        EXPECT_FALSE(r.ok()) << "`" << text << "` parsed as " << (r.ok() ? r->str() : "");
        if (!r.ok()) {
            EXPECT_EQ(r.error().errno_value(), EINVAL);
            EXPECT_NE(r.error().what().find("invalid reference"), std::string::npos);
        }
    }
}

}  // namespace
}  // namespace berth::image

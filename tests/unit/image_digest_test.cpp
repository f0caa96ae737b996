// Digests (image/digest.h): parsing, SHA-256 against FIPS 180-2 vectors, and chain IDs checked
// against values computed by hand with sha256sum.
#include "image/digest.h"

#include <gtest/gtest.h>

#include "image/oci_image.h"

namespace berth::image {
namespace {

constexpr const char* kEmpty =
    "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

TEST(ImageDigest, ParsesSha256) {
    auto d = Digest::parse(kEmpty);
    ASSERT_TRUE(d.ok()) << d.error().what();
    EXPECT_EQ(d->algorithm, "sha256");
    EXPECT_EQ(d->hex.size(), 64u);
    EXPECT_EQ(d->str(), kEmpty);
}

TEST(ImageDigest, RefusesMalformed) {
    const char* bad[] = {
        "",
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",  // no algorithm
        "sha512:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",   // uppercase
        "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85",    // 63
        "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b8555",  // 65
        "sha256:g3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "sha256:",
    };
    for (const char* text : bad) {
        auto d = Digest::parse(text);
        ASSERT_FALSE(d.ok()) << text;
        EXPECT_EQ(d.error().errno_value(), EINVAL);
        EXPECT_NE(d.error().message().find("digest"), std::string::npos) << d.error().what();
    }
}

TEST(ImageDigest, KnownVectors) {
    EXPECT_EQ(sha256_of("").str(), kEmpty);
    EXPECT_EQ(sha256_of("abc").hex,
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(sha256_of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq").hex,
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(ImageDigest, IncrementalMatchesOneShot) {
    Sha256 h;
    std::string chunk(1000, 'a');
    for (int i = 0; i < 1000; ++i) h.update(chunk);
    EXPECT_EQ(h.finish().hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");

    Sha256 moved_from;
    moved_from.update("ab");
    Sha256 moved = std::move(moved_from);
    moved.update("c");
    EXPECT_EQ(moved.finish(), sha256_of("abc"));
}

TEST(ImageDigest, Ordering) {
    auto a = sha256_of("a"), b = sha256_of("b");
    EXPECT_NE(a, b);
    EXPECT_TRUE(a < b || b < a);
}

TEST(ImageChainIds, HandComputed) {
    // diffID(Ln) = sha256("layerN"); chain IDs computed with
    //   printf '%s %s' $chain_prev $diff | sha256sum
    std::vector<Digest> diffs = {sha256_of("layer0"), sha256_of("layer1"), sha256_of("layer2")};
    EXPECT_EQ(diffs[0].str(),
              "sha256:4fbec69b941195fd56f8212a5000e304129451d82efca94ff0e0fb2d5355472e");
    auto chains = chain_ids(diffs);
    ASSERT_EQ(chains.size(), 3u);
    EXPECT_EQ(chains[0], diffs[0]);
    EXPECT_EQ(chains[1].str(),
              "sha256:ef232af0eb422cdfd7917631657cd8ed2bfd5b9461b37c427aa0d3e0a19adf79");
    EXPECT_EQ(chains[2].str(),
              "sha256:7ad3896338947cc04ee0b35b50d400ff32538d63f42f85ec87feac78bf71a54d");
    EXPECT_TRUE(chain_ids({}).empty());
}

}  // namespace
}  // namespace berth::image

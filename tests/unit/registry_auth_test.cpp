// Registry client pieces that need no network (image/registry/auth.h, media.h, http.h's error
// text, parallel.h): WWW-Authenticate parsing, config.json credentials, base64, token answers.
#include "image/registry/auth.h"

#include <gtest/gtest.h>

#include <atomic>

#include "image/registry/http.h"
#include "image/registry/media.h"
#include "image/registry/parallel.h"

namespace berth::image::registry {
namespace {

TEST(RegistryChallenge, BearerWithQuotedCommas) {
    auto ch = parse_challenge(
        R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",)"
        R"(scope="repository:samalba/my-app:pull,push")");
    ASSERT_TRUE(ch.ok()) << ch.error().what();
    EXPECT_EQ(ch->scheme, "bearer");
    EXPECT_EQ(ch->params["realm"], "https://auth.docker.io/token");
    EXPECT_EQ(ch->params["service"], "registry.docker.io");
    EXPECT_EQ(ch->params["scope"], "repository:samalba/my-app:pull,push");
}

TEST(RegistryChallenge, BasicAndOddSpacing) {
    auto ch = parse_challenge(R"(  basic   Realm = "basic-realm" , charset="UTF-8")");
    ASSERT_TRUE(ch.ok()) << ch.error().what();
    EXPECT_EQ(ch->scheme, "basic");
    EXPECT_EQ(ch->params["realm"], "basic-realm");
    EXPECT_EQ(ch->params["charset"], "UTF-8");
}

TEST(RegistryChallenge, EscapesUnquotedValuesAndErrors) {
    auto ch = parse_challenge(R"(Bearer realm="a\"b",error=insufficient_scope)");
    ASSERT_TRUE(ch.ok());
    EXPECT_EQ(ch->params["realm"], "a\"b");
    EXPECT_EQ(ch->params["error"], "insufficient_scope");
    EXPECT_FALSE(parse_challenge("").ok());
    EXPECT_FALSE(parse_challenge(R"(Bearer realm="open)").ok());
    auto two = parse_challenge(R"(Bearer realm="r", Basic realm="x")");
    ASSERT_TRUE(two.ok());
    EXPECT_EQ(two->params.size(), 1u);
}

TEST(RegistryCredentials, Base64RoundTrip) {
    for (std::string s : {"", "a", "ab", "abc", "user:pa:ss", "\xff\x00\x01"}) {
        auto d = base64_decode(base64_encode(s));
        ASSERT_TRUE(d.ok());
        EXPECT_EQ(*d, s);
    }
    EXPECT_EQ(base64_encode("user:pass"), "dXNlcjpwYXNz");
    EXPECT_EQ(*base64_decode("dXNlcjpwYXNz"), "user:pass");
    EXPECT_EQ(*base64_decode("YQ"), "a");  // unpadded
    EXPECT_FALSE(base64_decode("@@@@").ok());
}

TEST(RegistryCredentials, HostKeysInEveryForm) {
    std::string json = R"({"auths": {
        "127.0.0.1:5000": {"auth": "dXNlcjpwYXNz"},
        "https://index.docker.io/v1/": {"auth": "aHViOmh1YnB3"},
        "http://quay.io": {"username": "q", "password": "qpw"},
        "quay.io/team/private": {"auth": "dGVhbTp0ZWFtcHc="}
    }})";
    auto c = credentials_from_json(json, "127.0.0.1:5000", "x");
    ASSERT_TRUE(c.ok()) << c.error().what();
    ASSERT_TRUE(c->has_value());
    EXPECT_EQ((*c)->username, "user");
    EXPECT_EQ((*c)->password, "pass");
    auto hub = credentials_from_json(json, "docker.io", "library/busybox");
    ASSERT_TRUE(hub.ok() && hub->has_value());
    EXPECT_EQ((*hub)->username, "hub");
    auto quay = credentials_from_json(json, "quay.io", "other/repo");
    ASSERT_TRUE(quay.ok() && quay->has_value());
    EXPECT_EQ((*quay)->username, "q");
    auto team = credentials_from_json(json, "quay.io", "team/private/sub");
    ASSERT_TRUE(team.ok() && team->has_value());
    EXPECT_EQ((*team)->username, "team");
    auto none = credentials_from_json(json, "127.0.0.1:5001", "x");
    ASSERT_TRUE(none.ok());
    EXPECT_FALSE(none->has_value());
}

TEST(RegistryCredentials, MalformedEntriesNameTheKey) {
    auto bad = credentials_from_json(R"({"auths":{"h":{"auth":"bm9jb2xvbg=="}}})", "h", "r");
    ASSERT_FALSE(bad.ok());
    EXPECT_NE(bad.error().what().find("auths[\"h\"].auth"), std::string::npos);
    EXPECT_FALSE(credentials_from_json("not json", "h", "r").ok());
    auto empty = credentials_from_json(R"({"credsStore":"desktop"})", "h", "r");
    ASSERT_TRUE(empty.ok());
    EXPECT_FALSE(empty->has_value());
}

TEST(RegistryCredentials, ExplicitMissingFileIsAnError) {
    auto r = find_credentials("/nonexistent/auth.json", "h", "r");
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().what().find("/nonexistent/auth.json"), std::string::npos);
}

TEST(RegistryToken, TokenOrAccessToken) {
    EXPECT_EQ(*token_from_json(R"({"token":"abc","expires_in":300})"), "abc");
    EXPECT_EQ(*token_from_json(R"({"access_token":"xyz"})"), "xyz");
    EXPECT_FALSE(token_from_json(R"({"token":""})").ok());
    EXPECT_FALSE(token_from_json("<html>").ok());
}

TEST(RegistryMedia, FromHeaderOrBody) {
    EXPECT_EQ(*manifest_media_type(
                  "application/vnd.docker.distribution.manifest.v2+json; charset=utf-8", "{}"),
              "application/vnd.docker.distribution.manifest.v2+json");
    EXPECT_EQ(*manifest_media_type("application/json", R"({"schemaVersion":2,"config":{}})"),
              "application/vnd.oci.image.manifest.v1+json");
    EXPECT_EQ(*manifest_media_type("", R"({"schemaVersion":2,"manifests":[]})"),
              "application/vnd.oci.image.index.v1+json");
    auto v1 =
        manifest_media_type("application/vnd.docker.distribution.manifest.v1+prettyjws", "{}");
    ASSERT_FALSE(v1.ok());
    EXPECT_NE(v1.error().what().find("manifest.v1+prettyjws"), std::string::npos);
    EXPECT_FALSE(manifest_media_type("text/plain", "hello").ok());
}

TEST(RegistryErrors, StatusErrorCarriesTheRegistryMessage) {
    Response r;
    r.status = 404;
    r.reason = "Not Found";
    r.body = R"({"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown to registry",)"
             R"("detail":"sha256:ab"}]})";
    Error e = status_error(r, "blob sha256:ab");
    EXPECT_EQ(e.errno_value(), ENOENT);
    EXPECT_NE(
        e.what().find("blob sha256:ab: 404 Not Found: BLOB_UNKNOWN: blob unknown to registry"),
        std::string::npos)
        << e.what();
    r.status = 401;
    r.reason = "Unauthorized";
    r.body = "<html>login</html>";
    r.note = "credentials for `u` at h were refused";
    e = status_error(r, "x");
    EXPECT_EQ(e.errno_value(), EACCES);
    EXPECT_EQ(e.message(), "x: 401 Unauthorized (credentials for `u` at h were refused)");
    EXPECT_TRUE(is_transient_status(503));
    EXPECT_TRUE(is_transient_status(429));
    EXPECT_FALSE(is_transient_status(501));
    EXPECT_FALSE(is_transient_status(404));
    EXPECT_TRUE(is_transient(Error(ECONNRESET)));
    EXPECT_FALSE(is_transient(Error(EPROTO)));
}

TEST(RegistryParallel, RunsEveryJobAndReportsTheFirstFailure) {
    std::atomic<int> ran{0};
    auto ok = run_parallel(20, 3, [&](size_t) -> Result<void> {
        ++ran;
        return {};
    });
    EXPECT_TRUE(ok.ok());
    EXPECT_EQ(ran.load(), 20);
    auto bad = run_parallel(5, 1, [&](size_t i) -> Result<void> {
        if (i >= 2) return Error(EIO) << "job " << static_cast<int>(i);
        return {};
    });
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().message(), "job 2");
    EXPECT_TRUE(run_parallel(0, 3, [](size_t) -> Result<void> { return Error(EIO); }).ok());
}

}  // namespace
}  // namespace berth::image::registry

// Registry authentication pieces that need no network: WWW-Authenticate challenges, credentials
// from docker config.json-style files, base64, and the token server's answer.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace berth::image::registry {

// One challenge of a WWW-Authenticate header: `Bearer realm="https://a/token",service="s"`.
// The scheme is lowercased, parameter names too; values are unquoted.
struct Challenge {
    std::string scheme;  // "bearer", "basic"
    std::map<std::string, std::string> params;
};
// The first challenge in the header; EINVAL naming the header when it cannot be read.
Result<Challenge> parse_challenge(std::string_view header);

struct Credentials {
    std::string username, password;
    std::string identity_token;  // "identitytoken": an OAuth2 refresh token (docker login)
};

// The file lookup podman does when no --authfile is given: $REGISTRY_AUTH_FILE,
// $XDG_RUNTIME_DIR/containers/auth.json, $XDG_CONFIG_HOME (~/.config)/containers/auth.json,
// $DOCKER_CONFIG/config.json, ~/.docker/config.json (only existing files).
std::vector<std::string> default_auth_files();

// Credentials for `registry` ("host[:port]") in a config.json-format document: "auths" keys may
// be "host", "https://host", "http://host/v1/"...; docker.io also matches
// "https://index.docker.io/v1/". A key naming a repository ("host/ns/repo") wins for that
// repository. std::nullopt when nothing matches; EINVAL naming the key for a malformed entry.
Result<std::optional<Credentials>> credentials_from_json(std::string_view json,
                                                         const std::string& registry,
                                                         const std::string& repository);
// `auth_file` given: that file only (ENOENT naming it when missing); empty: the default files,
// the first with an entry for the registry.
Result<std::optional<Credentials>> find_credentials(const std::string& auth_file,
                                                    const std::string& registry,
                                                    const std::string& repository);

std::string base64_encode(std::string_view data);
Result<std::string> base64_decode(std::string_view text);

// The token in a token server's JSON answer ("token" or "access_token").
Result<std::string> token_from_json(std::string_view json);

}  // namespace berth::image::registry

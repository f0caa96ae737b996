#include "image/registry/auth.h"

#include <openssl/evp.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "base/file.h"

namespace berth::image::registry {
namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

bool is_token_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

void skip_space(std::string_view s, size_t& i) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
}

std::string token_at(std::string_view s, size_t& i) {
    size_t start = i;
    while (i < s.size() && is_token_char(s[i])) ++i;
    return std::string(s.substr(start, i - start));
}

// "host", "https://host/v1/", "host/ns/repo" -> "host" or "host/ns/repo" (no scheme, no
// trailing slash, docker.io's legacy index names mapped to docker.io).
std::string normalize_key(std::string_view key) {
    for (std::string_view scheme : {"https://", "http://"}) {
        if (key.substr(0, scheme.size()) == scheme) key.remove_prefix(scheme.size());
    }
    while (!key.empty() && key.back() == '/') key.remove_suffix(1);
    std::string k(key);
    if (k == "index.docker.io/v1" || k == "index.docker.io" || k == "registry-1.docker.io") {
        return "docker.io";
    }
    // "host/v1" and "host/v2" name the host, not a repository.
    for (std::string_view suffix : {"/v1", "/v2"}) {
        if (k.size() > suffix.size() && k.ends_with(suffix)) {
            k.resize(k.size() - suffix.size());
        }
    }
    return k;
}

Result<Credentials> parse_entry(const nlohmann::json& entry, const std::string& key) {
    Credentials c;
    if (!entry.is_object()) return Error(EINVAL) << "auths[\"" << key << "\"]: not an object";
    if (auto it = entry.find("auth");
        it != entry.end() && it->is_string() && !it->get<std::string>().empty()) {
        auto decoded = base64_decode(it->get<std::string>());
        if (!decoded) return Error(EINVAL) << "auths[\"" << key << "\"].auth: not base64";
        size_t colon = decoded->find(':');
        if (colon == std::string::npos) {
            return Error(EINVAL) << "auths[\"" << key << "\"].auth: not base64(user:password)";
        }
        c.username = decoded->substr(0, colon);
        c.password = decoded->substr(colon + 1);
    } else {
        if (auto u = entry.find("username"); u != entry.end() && u->is_string()) {
            c.username = u->get<std::string>();
        }
        if (auto p = entry.find("password"); p != entry.end() && p->is_string()) {
            c.password = p->get<std::string>();
        }
    }
    if (auto t = entry.find("identitytoken"); t != entry.end() && t->is_string()) {
        c.identity_token = t->get<std::string>();
    }
    return c;
}

}  // namespace

Result<Challenge> parse_challenge(std::string_view header) {
    Challenge ch;
    size_t i = 0;
    skip_space(header, i);
    ch.scheme = lower(token_at(header, i));
    if (ch.scheme.empty()) return Error(EINVAL) << "WWW-Authenticate `" << header << "`: no scheme";
    while (true) {
        skip_space(header, i);
        while (i < header.size() && header[i] == ',') {
            ++i;
            skip_space(header, i);
        }
        if (i >= header.size()) break;
        size_t name_start = i;
        std::string name = lower(token_at(header, i));
        skip_space(header, i);
        if (name.empty() || i >= header.size() || header[i] != '=') {
            // The next challenge's scheme (or token68 data we have no use for): stop here.
            if (name.empty() && name_start == i) {
                return Error(EINVAL)
                       << "WWW-Authenticate `" << header << "`: unexpected `" << header[i] << "`";
            }
            break;
        }
        ++i;
        skip_space(header, i);
        std::string value;
        if (i < header.size() && header[i] == '"') {
            ++i;
            bool closed = false;
            while (i < header.size()) {
                char c = header[i++];
                if (c == '\\' && i < header.size()) {
                    value.push_back(header[i++]);
                } else if (c == '"') {
                    closed = true;
                    break;
                } else {
                    value.push_back(c);
                }
            }
            if (!closed) {
                return Error(EINVAL) << "WWW-Authenticate `" << header << "`: unterminated quote";
            }
        } else {
            value = token_at(header, i);
            // Unquoted values with '/' or ':' (token68 is stricter; servers are not).
            while (i < header.size() && header[i] != ',' && header[i] != ' ') value += header[i++];
        }
        ch.params[name] = value;
    }
    return ch;
}

std::vector<std::string> default_auth_files() {
    std::vector<std::string> candidates;
    auto env = [](const char* name) -> std::string {
        const char* v = getenv(name);
        return v ? v : "";
    };
    if (!env("REGISTRY_AUTH_FILE").empty()) candidates.push_back(env("REGISTRY_AUTH_FILE"));
    if (!env("XDG_RUNTIME_DIR").empty()) {
        candidates.push_back(env("XDG_RUNTIME_DIR") + "/containers/auth.json");
    }
    std::string home = env("HOME");
    if (!env("XDG_CONFIG_HOME").empty()) {
        candidates.push_back(env("XDG_CONFIG_HOME") + "/containers/auth.json");
    } else if (!home.empty()) {
        candidates.push_back(home + "/.config/containers/auth.json");
    }
    if (!env("DOCKER_CONFIG").empty()) candidates.push_back(env("DOCKER_CONFIG") + "/config.json");
    if (!home.empty()) candidates.push_back(home + "/.docker/config.json");
    std::vector<std::string> existing;
    for (auto& c : candidates) {
        if (access(c.c_str(), R_OK) == 0) existing.push_back(c);
    }
    return existing;
}

Result<std::optional<Credentials>> credentials_from_json(std::string_view json,
                                                         const std::string& registry,
                                                         const std::string& repository) {
    auto doc = nlohmann::json::parse(json, nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) return Error(EINVAL) << "not a JSON object";
    auto auths = doc.find("auths");
    if (auths == doc.end()) return std::optional<Credentials>();
    if (!auths->is_object()) return Error(EINVAL) << "auths: not an object";
    std::string host = normalize_key(registry);
    // The longest key that is the host itself or a repository prefix of host/repository.
    std::string full = host + "/" + repository;
    const nlohmann::json* best = nullptr;
    std::string best_key;
    size_t best_len = 0;
    for (auto it = auths->begin(); it != auths->end(); ++it) {
        std::string k = normalize_key(it.key());
        bool match =
            k == host || (k.starts_with(host + "/") && (full == k || full.starts_with(k + "/")));
        if (match && k.size() > best_len) {
            best = &it.value();
            best_key = it.key();
            best_len = k.size();
        }
    }
    if (!best) return std::optional<Credentials>();
    auto c = BERTH_TRY(parse_entry(*best, best_key));
    if (c.username.empty() && c.password.empty() && c.identity_token.empty()) {
        return std::optional<Credentials>();
    }
    return std::optional<Credentials>(std::move(c));
}

Result<std::optional<Credentials>> find_credentials(const std::string& auth_file,
                                                    const std::string& registry,
                                                    const std::string& repository) {
    std::vector<std::string> files;
    if (!auth_file.empty()) {
        if (access(auth_file.c_str(), R_OK) != 0) {
            return ErrnoError() << "credentials file `" << auth_file << "`";
        }
        files.push_back(auth_file);
    } else {
        files = default_auth_files();
    }
    for (const auto& f : files) {
        auto text = read_file(f);
        if (!text) return std::move(text).error().wrap("credentials file `" + f + "`");
        auto creds = credentials_from_json(*text, registry, repository);
        if (!creds) return std::move(creds).error().wrap("credentials file `" + f + "`");
        if (*creds) return creds;
    }
    return std::optional<Credentials>();
}

std::string base64_encode(std::string_view data) {
    std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
    int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(data.data()),
                            static_cast<int>(data.size()));
    out.resize(n);
    return out;
}

Result<std::string> base64_decode(std::string_view text) {
    std::string in;
    for (char c : text) {
        if (!std::isspace(static_cast<unsigned char>(c))) in.push_back(c);
    }
    // Unpadded input is accepted (some tools write it).
    while (in.size() % 4) in.push_back('=');
    if (in.empty()) return std::string();
    std::string out(in.size() / 4 * 3, '\0');
    int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(in.data()),
                            static_cast<int>(in.size()));
    if (n < 0) return Error(EINVAL) << "invalid base64";
    // EVP_DecodeBlock counts padding as zero bytes.
    size_t pad = 0;
    for (size_t i = in.size(); i > 0 && in[i - 1] == '='; --i) ++pad;
    out.resize(static_cast<size_t>(n) - std::min<size_t>(pad, 2));
    return out;
}

Result<std::string> token_from_json(std::string_view json) {
    auto doc = nlohmann::json::parse(json, nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) {
        return Error(EPROTO) << "token server answer is not a JSON object";
    }
    for (const char* key : {"token", "access_token"}) {
        auto it = doc.find(key);
        if (it != doc.end() && it->is_string() && !it->get<std::string>().empty()) {
            return it->get<std::string>();
        }
    }
    return Error(EPROTO) << "token server answer has no token";
}

}  // namespace berth::image::registry

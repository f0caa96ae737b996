// The HTTP side of a registry: one Client per registry host, wrapping libcurl easy handles (a
// pool, so parallel transfers each use their own and reuse connections), choosing https or
// http, verifying TLS, and answering Basic and Bearer challenges (tokens cached per scope).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "image/registry/auth.h"
#include "image/registry/registry.h"

namespace berth::image::registry {

struct Response {
    long status = 0;
    std::string reason;                               // "Not Found"
    std::string url;                                  // the last one, after redirects
    std::multimap<std::string, std::string> headers;  // names lowercased; final response only
    std::string body;  // error bodies, and 2xx bodies when the request has no sink
    std::string note;  // what we know about a 401: whose credentials were refused, or none
    std::string header(std::string_view name) const;  // first value or ""
};

struct Request {
    std::string method = "GET";
    std::string target;                // "/v2/..." (relative to the registry) or an absolute URL
    std::vector<std::string> headers;  // "Name: value"
    std::string scope;                 // Bearer scope, "repository:<repo>:pull" or ":pull,push"
    // Upload body: `body`, or `upload_size` bytes read from `upload_fd` at offset 0.
    std::optional<std::string> body;
    int upload_fd = -1;
    uint64_t upload_size = 0;
    // When set, 2xx response bodies stream here instead of into Response::body; returning an
    // Error aborts the transfer with that error.
    std::function<Result<void>(std::string_view)> sink;
    // Called once, before the first sink call, with the 2xx response's status and headers
    // (a resumed download checks 206 and Content-Range here).
    std::function<Result<void>(const Response&)> on_start;
    // Called with byte counts as the body moves (either direction).
    std::function<void(uint64_t)> on_bytes;
};

// Transport failures carry these errnos so callers can tell what is worth retrying.
bool is_transient(const Error& e);
bool is_transient_status(long status);  // 5xx (but 501), 408, 429
// "GET <url>: 404 Not Found: BLOB_UNKNOWN: blob unknown to registry" with errno ENOENT for 404,
// EACCES for 401/403, EAGAIN for 429, EIO for 5xx, EPROTO otherwise.
Error status_error(const Response& r, std::string_view what);

class Client {
  public:
    // Resolves credentials, picks the scheme and learns the registry's challenge (GET /v2/).
    static Result<std::shared_ptr<Client>> connect(const std::string& registry,
                                                   const std::string& repository,
                                                   const RegistryOptions& options);
    ~Client();

    // One exchange (answering one 401 with credentials or a fresh token). Any HTTP status is a
    // Response; transport failures are Errors (see is_transient).
    Result<Response> send(const Request& req);
    // send() repeated on transient failures and statuses with backoff; for requests without a
    // sink (their body can be replayed).
    Result<Response> send_with_retries(const Request& req);
    // Sleeps before retry number `attempt` (1-based): 0.5 s doubling to 8 s, or Retry-After.
    void backoff(int attempt, const Response* last) const;

    const std::string& registry() const { return registry_; }
    const std::string& base_url() const { return base_url_; }
    const RegistryOptions& options() const { return options_; }
    std::string url_of(const std::string& target) const;

  private:
    Client() = default;
    struct Handle;
    std::unique_ptr<Handle> acquire();
    void release(std::unique_ptr<Handle> h);
    Result<Response> perform(Handle& h, const Request& req, const std::string& url,
                             const std::vector<std::string>& extra_headers);
    Result<void> setup_tls();
    // The Authorization header for `scope` from what the challenge asked for; empty when none.
    // `token_scope` is the scope to ask the token server for (a 401 may name a wider one).
    Result<std::string> authorization(const std::string& scope, const std::string& token_scope,
                                      bool refresh);
    Result<std::string> fetch_token(const Challenge& ch, const std::string& scope);
    void learn_challenge(const Response& r);

    std::string registry_;  // as in the reference: "127.0.0.1:5000", "docker.io"
    std::string base_url_;  // "https://registry-1.docker.io"
    RegistryOptions options_;
    std::optional<Credentials> credentials_;
    std::string ca_blob_;  // system CAs plus cert_dir's *.crt; empty: curl's default
    std::string client_cert_, client_key_;

    std::mutex pool_mu_;
    std::vector<std::unique_ptr<Handle>> pool_;
    std::mutex auth_mu_;  // held across a token fetch: one fetch per scope, not one per thread
    std::optional<Challenge> challenge_;
    std::map<std::string, std::string> tokens_;  // scope -> token
};

}  // namespace berth::image::registry

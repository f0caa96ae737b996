#include "image/registry/http.h"

#include <curl/curl.h>
#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <thread>

#include <nlohmann/json.hpp>

#include "base/file.h"
#include "base/log.h"
#include "base/strings.h"
#include "base/version.h"
#include "image/registry/curl_library.h"

namespace berth::image::registry {
namespace {

constexpr size_t kMaxBufferedBody = 64 << 20;  // manifests and error bodies, not blobs

// Set by Client::connect before any Client exists; every use below is through a Client.
const CurlLibrary* loaded_curl = nullptr;

const CurlLibrary& curl_api() {
    return *loaded_curl;
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

int errno_of(CURLcode code) {
    switch (code) {
        case CURLE_COULDNT_CONNECT:
            return ECONNREFUSED;
        case CURLE_OPERATION_TIMEDOUT:
            return ETIMEDOUT;
        case CURLE_RECV_ERROR:
        case CURLE_SEND_ERROR:
        case CURLE_GOT_NOTHING:
        case CURLE_PARTIAL_FILE:
        case CURLE_HTTP2:
        case CURLE_HTTP2_STREAM:
            return ECONNRESET;
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_RESOLVE_PROXY:
            return EHOSTUNREACH;
        case CURLE_OUT_OF_MEMORY:
            return ENOMEM;
        default:
            return EPROTO;  // TLS failures among them
    }
}

struct Transfer {
    const Request* req;
    Response* resp;
    CURL* curl;
    std::optional<Error> sink_error;
    uint64_t read_offset = 0;
    bool started = false;
};

size_t on_header(char* data, size_t size, size_t n, void* p) {
    auto* t = static_cast<Transfer*>(p);
    std::string_view line(data, size * n);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
    if (line.starts_with("HTTP/")) {  // a new response (after a redirect or 100-continue)
        t->resp->headers.clear();
        auto parts = line.find(' ');
        auto reason =
            parts == std::string_view::npos ? std::string_view::npos : line.find(' ', parts + 1);
        t->resp->reason =
            reason == std::string_view::npos ? "" : std::string(line.substr(reason + 1));
        return size * n;
    }
    auto colon = line.find(':');
    if (colon != std::string_view::npos) {
        t->resp->headers.emplace(lower(trim(line.substr(0, colon))),
                                 std::string(trim(line.substr(colon + 1))));
    }
    return size * n;
}

size_t on_write(char* data, size_t size, size_t n, void* p) {
    auto* t = static_cast<Transfer*>(p);
    std::string_view chunk(data, size * n);
    long status = 0;
    curl_api().easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
    if (status >= 200 && status < 300 && t->req->sink) {
        if (!t->started) {
            t->started = true;
            t->resp->status = status;
            if (t->req->on_start) {
                auto r = t->req->on_start(*t->resp);
                if (!r) {
                    t->sink_error = std::move(r).error();
                    return 0;
                }
            }
        }
        auto r = t->req->sink(chunk);
        if (!r) {
            t->sink_error = std::move(r).error();
            return 0;
        }
    } else {
        if (t->resp->body.size() + chunk.size() > kMaxBufferedBody) {
            t->sink_error = Error(EFBIG)
                            << "response body larger than " << (kMaxBufferedBody >> 20) << " MiB";
            return 0;
        }
        t->resp->body.append(chunk);
    }
    if (t->req->on_bytes) t->req->on_bytes(chunk.size());
    return chunk.size();
}

size_t on_read(char* buf, size_t size, size_t n, void* p) {
    auto* t = static_cast<Transfer*>(p);
    size_t want = size * n;
    const Request& req = *t->req;
    size_t got = 0;
    if (req.body) {
        if (t->read_offset < req.body->size()) {
            got = std::min<size_t>(want, req.body->size() - t->read_offset);
            memcpy(buf, req.body->data() + t->read_offset, got);
        }
    } else if (req.upload_fd >= 0 && t->read_offset < req.upload_size) {
        size_t left = std::min<uint64_t>(want, req.upload_size - t->read_offset);
        ssize_t r;
        do {
            r = pread(req.upload_fd, buf, left, static_cast<off_t>(t->read_offset));
        } while (r < 0 && errno == EINTR);
        if (r < 0) {
            t->sink_error = ErrnoError() << "reading the upload";
            return CURL_READFUNC_ABORT;
        }
        if (r == 0) {
            t->sink_error = Error(EIO) << "upload source ended early";
            return CURL_READFUNC_ABORT;
        }
        got = static_cast<size_t>(r);
    }
    t->read_offset += got;
    if (req.on_bytes && got) req.on_bytes(got);
    return got;
}

int on_seek(void* p, curl_off_t offset, int origin) {
    auto* t = static_cast<Transfer*>(p);
    if (origin != SEEK_SET || offset < 0) return CURL_SEEKFUNC_CANTSEEK;
    t->read_offset = static_cast<uint64_t>(offset);
    return CURL_SEEKFUNC_OK;
}

std::string curl_escape(CURL* c, const std::string& s) {
    char* e = curl_api().easy_escape(c, s.data(), static_cast<int>(s.size()));
    std::string out = e ? e : "";
    curl_api().free(e);
    return out;
}

}  // namespace

struct Client::Handle {
    CURL* curl = nullptr;
    ~Handle() {
        if (curl) curl_api().easy_cleanup(curl);
    }
};

std::string Response::header(std::string_view name) const {
    auto it = headers.find(lower(name));
    return it == headers.end() ? "" : it->second;
}

bool is_transient(const Error& e) {
    switch (e.errno_value()) {
        case ECONNREFUSED:
        case ETIMEDOUT:
        case ECONNRESET:
        case EAGAIN:
            return true;
        default:
            return false;
    }
}

bool is_transient_status(long status) {
    return status == 408 || status == 429 || (status >= 500 && status != 501);
}

Error status_error(const Response& r, std::string_view what) {
    int err = r.status == 404                      ? ENOENT
              : r.status == 401 || r.status == 403 ? EACCES
              : r.status == 429                    ? EAGAIN
              : r.status >= 500                    ? EIO
                                                   : EPROTO;
    Error e(err);
    e << what << ": " << static_cast<int64_t>(r.status);
    if (!r.reason.empty()) e << " " << r.reason;
    // The distribution spec's error body: {"errors":[{"code","message","detail"}]}.
    auto doc = nlohmann::json::parse(r.body, nullptr, false);
    bool described = false;
    if (doc.is_object() && doc.contains("errors") && doc["errors"].is_array()) {
        for (const auto& item : doc["errors"]) {
            if (!item.is_object()) continue;
            e << (described ? "; " : ": ");
            described = true;
            if (item.contains("code") && item["code"].is_string()) {
                e << item["code"].get<std::string>();
            }
            if (item.contains("message") && item["message"].is_string()) {
                e << ": " << item["message"].get<std::string>();
            }
        }
    }
    if (!described) {
        auto text = trim(std::string_view(r.body).substr(0, 200));
        bool printable = std::all_of(text.begin(), text.end(), [](char c) {
            return std::isprint(static_cast<unsigned char>(c)) || c == '\n';
        });
        if (!text.empty() && printable && text.find('<') == std::string_view::npos) {
            e << ": " << text;
        }
    }
    if (!r.note.empty()) e << " (" << r.note << ")";
    return e;
}

Client::~Client() = default;

std::string Client::url_of(const std::string& target) const {
    if (target.starts_with("http://") || target.starts_with("https://")) return target;
    if (target.starts_with("/")) return base_url_ + target;
    return base_url_ + "/" + target;
}

std::unique_ptr<Client::Handle> Client::acquire() {
    {
        std::lock_guard lock(pool_mu_);
        if (!pool_.empty()) {
            auto h = std::move(pool_.back());
            pool_.pop_back();
            return h;
        }
    }
    auto h = std::make_unique<Handle>();
    h->curl = curl_api().easy_init();
    return h;
}

void Client::release(std::unique_ptr<Handle> h) {
    std::lock_guard lock(pool_mu_);
    pool_.push_back(std::move(h));
}

Result<void> Client::setup_tls() {
    std::vector<std::string> dirs;
    if (!options_.cert_dir.empty()) {
        if (!is_directory(options_.cert_dir)) {
            return Error(ENOENT) << "certificate directory `" << options_.cert_dir
                                 << "` does not exist";
        }
        dirs.push_back(options_.cert_dir);
    } else {
        for (const char* base : {"/etc/containers/certs.d/", "/etc/docker/certs.d/"}) {
            if (is_directory(base + registry_)) dirs.push_back(base + registry_);
        }
    }
    std::string extra_cas;
    for (const auto& dir : dirs) {
        DIR* d = opendir(dir.c_str());
        if (!d) return ErrnoError() << "certificate directory `" << dir << "`";
        std::vector<std::string> names;
        while (auto* ent = readdir(d)) names.emplace_back(ent->d_name);
        closedir(d);
        std::sort(names.begin(), names.end());
        for (const auto& name : names) {
            std::string path = path_join(dir, name);
            if (name.ends_with(".crt")) {
                auto pem = read_file(path);
                if (!pem) return std::move(pem).error().wrap("CA certificate");
                extra_cas += *pem;
                extra_cas += "\n";
            } else if (name.ends_with(".cert")) {
                std::string key = path.substr(0, path.size() - 5) + ".key";
                if (!path_exists(key)) {
                    return Error(ENOENT)
                           << "client certificate `" << path << "` has no key `" << key << "`";
                }
                client_cert_ = path;
                client_key_ = key;
            }
        }
    }
    if (extra_cas.empty()) return {};
    // CAINFO_BLOB replaces the default bundle: keep the system CAs alongside cert_dir's.
    std::string system_bundle = "/etc/ssl/certs/ca-certificates.crt";
    if (CURL* c = curl_api().easy_init()) {
        char* path = nullptr;
        if (curl_api().easy_getinfo(c, CURLINFO_CAINFO, &path) == CURLE_OK && path)
            system_bundle = path;
        curl_api().easy_cleanup(c);
    }
    if (auto sys = read_file(system_bundle)) ca_blob_ = *sys + "\n";
    ca_blob_ += extra_cas;
    return {};
}

Result<Response> Client::perform(Handle& h, const Request& req, const std::string& url,
                                 const std::vector<std::string>& extra_headers) {
    CURL* c = h.curl;
    curl_api().easy_reset(c);
    Response resp;
    Transfer t{&req, &resp, c, std::nullopt};
    char errbuf[CURL_ERROR_SIZE] = {};
    static const std::string agent = std::string("berth/") + berth::version();
    curl_api().easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_api().easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_api().easy_setopt(c, CURLOPT_USERAGENT, agent.c_str());
    curl_api().easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_api().easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_api().easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_api().easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
    // A transfer stalled for a minute is a failure (retried), not a hang.
    curl_api().easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_api().easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
    curl_api().easy_setopt(c, CURLOPT_SSL_VERIFYPEER, options_.tls_verify ? 1L : 0L);
    curl_api().easy_setopt(c, CURLOPT_SSL_VERIFYHOST, options_.tls_verify ? 2L : 0L);
    curl_blob ca{};
    if (!ca_blob_.empty()) {
        ca.data = ca_blob_.data();
        ca.len = ca_blob_.size();
        ca.flags = CURL_BLOB_NOCOPY;
        curl_api().easy_setopt(c, CURLOPT_CAINFO_BLOB, &ca);
    }
    if (!client_cert_.empty()) {
        curl_api().easy_setopt(c, CURLOPT_SSLCERT, client_cert_.c_str());
        curl_api().easy_setopt(c, CURLOPT_SSLKEY, client_key_.c_str());
    }
    curl_api().easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_api().easy_setopt(c, CURLOPT_HEADERDATA, &t);
    curl_api().easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
    curl_api().easy_setopt(c, CURLOPT_WRITEDATA, &t);
    bool uploads = req.body || req.upload_fd >= 0;
    uint64_t upload_size = req.body ? req.body->size() : req.upload_size;
    if (req.method == "GET" || req.method == "HEAD") {
        // Blob GETs are redirected to storage (S3...); curl drops our Authorization header
        // when the redirect leaves the host.
        curl_api().easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
        curl_api().easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
        if (req.method == "HEAD") curl_api().easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else if (req.method == "PUT") {
        curl_api().easy_setopt(c, CURLOPT_UPLOAD, 1L);
        curl_api().easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(upload_size));
    } else if (req.method == "POST") {
        curl_api().easy_setopt(c, CURLOPT_POST, 1L);
        curl_api().easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
                               static_cast<curl_off_t>(uploads ? upload_size : 0));
    } else {
        curl_api().easy_setopt(c, CURLOPT_CUSTOMREQUEST, req.method.c_str());
        if (uploads) {
            curl_api().easy_setopt(c, CURLOPT_UPLOAD, 1L);
            curl_api().easy_setopt(c, CURLOPT_INFILESIZE_LARGE,
                                   static_cast<curl_off_t>(upload_size));
        }
    }
    if (uploads) {
        curl_api().easy_setopt(c, CURLOPT_READFUNCTION, on_read);
        curl_api().easy_setopt(c, CURLOPT_READDATA, &t);
        curl_api().easy_setopt(c, CURLOPT_SEEKFUNCTION, on_seek);
        curl_api().easy_setopt(c, CURLOPT_SEEKDATA, &t);
    }
    curl_slist* headers = nullptr;
    for (const auto& hd : req.headers) headers = curl_api().slist_append(headers, hd.c_str());
    for (const auto& hd : extra_headers) headers = curl_api().slist_append(headers, hd.c_str());
    headers = curl_api().slist_append(headers, "Expect:");  // no 100-continue round trip
    curl_api().easy_setopt(c, CURLOPT_HTTPHEADER, headers);

    CURLcode code = curl_api().easy_perform(c);
    curl_api().slist_free_all(headers);
    curl_api().easy_setopt(c, CURLOPT_HTTPHEADER, nullptr);
    curl_api().easy_setopt(c, CURLOPT_CAINFO_BLOB, nullptr);
    curl_api().easy_setopt(c, CURLOPT_ERRORBUFFER, nullptr);
    if (t.sink_error) return std::move(*t.sink_error);
    if (code != CURLE_OK) {
        return Error(errno_of(code)) << req.method << " " << url << ": "
                                     << (errbuf[0] ? errbuf : curl_api().easy_strerror(code));
    }
    curl_api().easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp.status);
    char* effective = nullptr;
    curl_api().easy_getinfo(c, CURLINFO_EFFECTIVE_URL, &effective);
    resp.url = effective ? effective : url;
    return resp;
}

void Client::learn_challenge(const Response& r) {
    std::optional<Challenge> best;
    auto [begin, end] = r.headers.equal_range("www-authenticate");
    for (auto it = begin; it != end; ++it) {
        auto ch = parse_challenge(it->second);
        if (!ch) {
            log::debug(ch.error().what());
            continue;
        }
        if (ch->scheme == "bearer" || (ch->scheme == "basic" && !best)) best = *ch;
    }
    if (best) {
        std::lock_guard lock(auth_mu_);
        challenge_ = std::move(best);
    }
}

Result<std::string> Client::fetch_token(const Challenge& ch, const std::string& scope) {
    auto realm = ch.params.find("realm");
    if (realm == ch.params.end() || realm->second.empty()) {
        return Error(EPROTO) << registry_ << " asked for a Bearer token without a realm";
    }
    auto h = acquire();
    std::string url = realm->second;
    char sep = url.find('?') == std::string::npos ? '?' : '&';
    if (auto service = ch.params.find("service"); service != ch.params.end()) {
        url += sep;
        url += "service=" + curl_escape(h->curl, service->second);
        sep = '&';
    }
    if (!scope.empty()) url += sep + std::string("scope=") + curl_escape(h->curl, scope);
    Request req;
    std::vector<std::string> extra;
    if (credentials_ && !credentials_->username.empty()) {
        extra.push_back("Authorization: Basic " +
                        base64_encode(credentials_->username + ":" + credentials_->password));
    }
    Result<Response> r = Error(EIO);
    for (int attempt = 0;; ++attempt) {
        r = perform(*h, req, url, extra);
        bool again = r ? is_transient_status(r->status) : is_transient(r.error());
        if (!again || attempt >= options_.retries) break;
        backoff(attempt + 1, r ? &*r : nullptr);
    }
    release(std::move(h));
    std::string who = credentials_ && !credentials_->username.empty()
                          ? "as `" + credentials_->username + "`"
                          : "anonymously";
    if (!r) return std::move(r).error().wrap("getting a token for " + registry_ + " " + who);
    if (r->status != 200) {
        return status_error(*r, "getting a token for " + registry_ + " " + who + " (" + scope +
                                    ") from " + realm->second);
    }
    return token_from_json(r->body);
}

Result<std::string> Client::authorization(const std::string& scope, const std::string& token_scope,
                                          bool refresh) {
    std::lock_guard lock(auth_mu_);
    if (!challenge_) return std::string();
    if (challenge_->scheme == "basic") {
        if (!credentials_ || credentials_->username.empty()) return std::string();
        return "Authorization: Basic " +
               base64_encode(credentials_->username + ":" + credentials_->password);
    }
    if (challenge_->scheme != "bearer") return std::string();
    if (!refresh) {
        if (auto it = tokens_.find(scope); it != tokens_.end()) {
            return "Authorization: Bearer " + it->second;
        }
    }
    std::string token = BERTH_TRY(fetch_token(*challenge_, token_scope));
    tokens_[scope] = token;
    return "Authorization: Bearer " + token;
}

Result<Response> Client::send(const Request& req) {
    std::string url = url_of(req.target);
    std::vector<std::string> extra;
    std::string auth = BERTH_TRY(authorization(req.scope, req.scope, false));
    if (!auth.empty()) extra.push_back(auth);
    auto h = acquire();
    auto r = perform(*h, req, url, extra);
    if (r && r->status == 401) {
        learn_challenge(*r);
        // A 401 may name the scope it wants (error="insufficient_scope"); ask for that one.
        std::string token_scope = req.scope;
        auto ch = parse_challenge(r->header("www-authenticate"));
        if (ch) {
            if (auto s = ch->params.find("scope"); s != ch->params.end() && !s->second.empty()) {
                token_scope = s->second;
            }
        }
        auto again = authorization(req.scope, token_scope, true);
        if (!again) {
            release(std::move(h));
            return std::move(again).error();
        }
        if (!again->empty() && (*again != auth || (ch && ch->scheme == "bearer"))) {
            extra.assign(1, *again);
            r = perform(*h, req, url, extra);
        }
        if (r && r->status == 401) {
            r->note = credentials_ && !credentials_->username.empty()
                          ? "credentials for `" + credentials_->username + "` at " + registry_ +
                                " were refused"
                          : "no credentials for " + registry_ +
                                (options_.auth_file.empty() ? std::string()
                                                            : " in `" + options_.auth_file + "`");
        }
    }
    release(std::move(h));
    return r;
}

Result<Response> Client::send_with_retries(const Request& req) {
    for (int attempt = 0;; ++attempt) {
        auto r = send(req);
        bool again = r ? is_transient_status(r->status) : is_transient(r.error());
        if (!again || attempt >= options_.retries) return r;
        log::debug(std::string("retrying ") + req.method + " " + url_of(req.target) + ": " +
                   (r ? std::to_string(r->status) : r.error().what()));
        backoff(attempt + 1, r ? &*r : nullptr);
    }
}

void Client::backoff(int attempt, const Response* last) const {
    auto delay = std::chrono::milliseconds(500) * (1 << std::min(attempt - 1, 4));
    if (last && last->status == 429) {
        if (auto secs = parse_number<int>(last->header("retry-after")); secs && *secs >= 0) {
            delay = std::chrono::seconds(std::min(*secs, 30));
        }
    }
    std::this_thread::sleep_for(delay);
}

Result<std::shared_ptr<Client>> Client::connect(const std::string& registry,
                                                const std::string& repository,
                                                const RegistryOptions& options) {
    loaded_curl = BERTH_TRY(curl_library());
    std::shared_ptr<Client> c(new Client());
    c->registry_ = registry;
    c->options_ = options;
    c->credentials_ = BERTH_TRY(find_credentials(options.auth_file, registry, repository));
    BERTH_TRY(c->setup_tls());
    std::string host = registry == "docker.io" ? "registry-1.docker.io" : registry;
    std::vector<std::string> schemes;
    if (options.plain_http) {
        schemes = {"http"};
    } else {
        schemes = {"https"};
        // As podman: --tls-verify=false also allows a registry that speaks plain HTTP.
        if (!options.tls_verify) schemes.push_back("http");
    }
    Error last_error(EIO);
    for (const auto& scheme : schemes) {
        c->base_url_ = scheme + "://" + host;
        Request ping;
        ping.target = "/v2/";
        auto r = c->send_with_retries(ping);
        if (!r) {
            last_error = std::move(r).error();
            if (last_error.errno_value() == EPROTO && scheme != schemes.back()) {
                continue;  // TLS to a plain HTTP server
            }
            if (scheme == "https" && options.tls_verify &&
                last_error.message().find("wrong version number") != std::string::npos) {
                last_error << " (the registry seems to speak plain HTTP: use --tls-verify=false)";
            }
            break;
        }
        if (r->status == 200 || r->status == 401) return c;
        if (r->status == 404) {
            return Error(EPROTO) << registry << " is not a registry (GET " << c->base_url_
                                 << "/v2/ answered 404)";
        }
        return status_error(*r, "GET " + c->base_url_ + "/v2/");
    }
    return last_error.wrap("connecting to registry " + registry);
}

}  // namespace berth::image::registry

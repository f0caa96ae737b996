#include "image/content_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/file.h"
#include "base/scope_guard.h"

namespace berth::image {

namespace {

constexpr size_t kReadChunk = 1 << 20;

std::string random_name() {
    unsigned char bytes[12];
    size_t got = 0;
    while (got < sizeof(bytes)) {
        ssize_t n = ::getrandom(bytes + got, sizeof(bytes) - got, 0);
        if (n > 0) got += size_t(n);
    }
    static constexpr char kHex[] = "0123456789abcdef";
    std::string s;
    for (unsigned char b : bytes) {
        s.push_back(kHex[b >> 4]);
        s.push_back(kHex[b & 0xf]);
    }
    return s;
}

Result<void> fsync_dir(const std::string& dir) {
    auto fd = BERTH_TRY(open_fd(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (::fsync(fd.get()) != 0) return ErrnoError() << "fsync `" << dir << "`";
    return {};
}

// Removes ingest files no writer holds: a writer keeps an exclusive flock for its lifetime, so
// a file we can lock belongs to a dead (or finished) process.
Result<void> clean_ingest(const std::string& dir) {
    DIR* d = ::opendir(dir.c_str());
    if (!d) return ErrnoError() << "opendir `" << dir << "`";
    std::vector<std::string> names;
    while (auto* e = ::readdir(d)) {
        std::string name = e->d_name;
        if (name != "." && name != "..") names.push_back(std::move(name));
    }
    ::closedir(d);
    for (const auto& name : names) {
        std::string path = path_join(dir, name);
        int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
        if (fd < 0) {
            if (errno == ENOENT) continue;
            ::unlink(path.c_str());  // not a regular file we can open: nothing of ours
            continue;
        }
        UniqueFd owned(fd);
        if (::flock(fd, LOCK_EX | LOCK_NB) == 0) ::unlink(path.c_str());
    }
    return {};
}

}  // namespace

Result<ContentStore> ContentStore::open(const std::string& root) {
    BERTH_TRY(mkdir_p(path_join(root, "blobs/sha256"), 0755));
    BERTH_TRY(mkdir_p(path_join(root, "ingest"), 0700));
    BERTH_TRY_CTX(clean_ingest(path_join(root, "ingest")), "cleaning stale ingest files");
    ContentStore s;
    s.root_ = root;
    return s;
}

std::string ContentStore::blob_path(const Digest& d) const {
    return root_ + "/blobs/" + d.algorithm + "/" + d.hex;
}

bool ContentStore::has(const Digest& d) const {
    struct stat st;
    return ::stat(blob_path(d).c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

Result<uint64_t> ContentStore::size(const Digest& d) const {
    struct stat st;
    if (::stat(blob_path(d).c_str(), &st) != 0) return ErrnoError() << "blob " << d.str();
    return uint64_t(st.st_size);
}

Result<UniqueFd> ContentStore::open_blob(const Digest& d) const {
    int fd = ::open(blob_path(d).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ErrnoError() << "blob " << d.str();
    return UniqueFd(fd);
}

Result<std::string> ContentStore::read(const Digest& d) const {
    auto fd = BERTH_TRY(open_blob(d));
    std::string data = BERTH_TRY_CTX(read_fd(fd), "blob " + d.str());
    Digest actual = sha256_of(data);
    if (actual != d)
        return Error(EIO) << "blob " << d.str() << " is corrupt: its content is " << actual.str();
    return data;
}

Result<std::vector<Digest>> ContentStore::list() const {
    std::string dir = root_ + "/blobs/sha256";
    DIR* d = ::opendir(dir.c_str());
    if (!d) return ErrnoError() << "opendir `" << dir << "`";
    std::vector<Digest> out;
    while (auto* e = ::readdir(d)) {
        auto digest = Digest::parse(std::string("sha256:") + e->d_name);
        if (digest.ok()) out.push_back(std::move(digest).value());
    }
    ::closedir(d);
    return out;
}

Result<void> ContentStore::remove(const Digest& d) {
    if (::unlink(blob_path(d).c_str()) != 0) return ErrnoError() << "removing blob " << d.str();
    return {};
}

struct ContentStore::Writer::State {
    std::string root;
    std::string path;  // the ingest file
    UniqueFd fd;
    Sha256 hash;
    uint64_t written = 0;
    bool finished = false;

    void discard() {
        if (finished) return;
        finished = true;
        ::unlink(path.c_str());
        fd.reset();
    }
    ~State() { discard(); }
};

ContentStore::Writer::Writer(Writer&&) noexcept = default;
ContentStore::Writer& ContentStore::Writer::operator=(Writer&&) noexcept = default;
ContentStore::Writer::~Writer() = default;

uint64_t ContentStore::Writer::written() const {
    return s_ ? s_->written : 0;
}

Result<void> ContentStore::Writer::write(std::string_view data) {
    if (!s_ || s_->finished) return Error(EINVAL) << "content writer already finished";
    auto r = write_all(s_->fd, data);
    if (!r.ok()) {
        auto err = std::move(r).error().wrap("writing ingest file `" + s_->path + "`");
        s_->discard();
        return err;
    }
    s_->hash.update(data);
    s_->written += data.size();
    return {};
}

Result<Digest> ContentStore::Writer::commit(const std::optional<Digest>& expected,
                                            std::optional<uint64_t> expected_size) {
    if (!s_ || s_->finished) return Error(EINVAL) << "content writer already finished";
    // Whatever happens below, the ingest file does not outlive this call.
    auto guard = make_scope_guard([&] { s_->discard(); });
    Digest actual = s_->hash.finish();
    if (expected_size && *expected_size != s_->written)
        return Error(EINVAL) << "blob " << (expected ? expected->str() : actual.str()) << ": size "
                             << s_->written << ", expected " << *expected_size
                             << " (truncated or oversized content)";
    if (expected && *expected != actual)
        return Error(EINVAL) << "blob digest mismatch: expected " << expected->str()
                             << ", content is " << actual.str();
    std::string dest = s_->root + "/blobs/" + actual.algorithm + "/" + actual.hex;
    struct stat st;
    if (::stat(dest.c_str(), &st) == 0 && S_ISREG(st.st_mode)) return actual;  // already there
    if (::fchmod(s_->fd.get(), 0444) != 0) return ErrnoError() << "chmod `" << s_->path << "`";
    if (::fsync(s_->fd.get()) != 0) return ErrnoError() << "fsync `" << s_->path << "`";
    if (::rename(s_->path.c_str(), dest.c_str()) != 0)
        return ErrnoError() << "publishing blob " << actual.str();
    s_->finished = true;
    s_->fd.reset();
    guard.dismiss();
    BERTH_TRY(fsync_dir(s_->root + "/blobs/" + actual.algorithm));
    return actual;
}

Result<ContentStore::Writer> ContentStore::writer() const {
    std::string dir = root_ + "/ingest";
    for (int attempt = 0; attempt < 16; ++attempt) {
        auto state = std::make_unique<Writer::State>();
        state->root = root_;
        state->path = path_join(dir, random_name());
        int fd = ::open(state->path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0) {
            if (errno == EEXIST) continue;
            return ErrnoError() << "creating ingest file `" << state->path << "`";
        }
        state->fd = UniqueFd(fd);
        if (::flock(fd, LOCK_EX) != 0) return ErrnoError() << "flock `" << state->path << "`";
        // A cleaner may have taken the file between our open and flock and unlinked it: then
        // the path no longer names our file, and we start over.
        struct stat ours, named;
        if (::fstat(fd, &ours) != 0 || ::stat(state->path.c_str(), &named) != 0 ||
            ours.st_ino != named.st_ino || ours.st_dev != named.st_dev) {
            state->finished = true;
            continue;
        }
        Writer w;
        w.s_ = std::move(state);
        return w;
    }
    return Error(EAGAIN) << "could not create an ingest file in `" << dir << "`";
}

Result<Digest> ContentStore::write_blob(std::string_view data,
                                        const std::optional<Digest>& expected) const {
    auto w = BERTH_TRY(writer());
    for (size_t off = 0; off < data.size(); off += kReadChunk)
        BERTH_TRY(w.write(data.substr(off, kReadChunk)));
    return w.commit(expected, data.size());
}

}  // namespace berth::image

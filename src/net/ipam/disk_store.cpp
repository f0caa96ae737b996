#include "net/ipam/disk_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include "base/file.h"
#include "base/strings.h"

namespace berth::net::ipam {

namespace {

constexpr std::string_view kLastReservedPrefix = "last_reserved_ip.";
constexpr std::string_view kTempPrefix = ".tmp.";

Result<std::string> read_at(int dir_fd, const std::string& name) {
    UniqueFd fd(::openat(dir_fd, name.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd) return ErrnoError() << "open `" << name << "`";
    return read_fd(fd);
}

// Every entry name in the directory, without "." and "..".
Result<std::vector<std::string>> list_names(int dir_fd, const std::string& dir) {
    int dup = ::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dup < 0) return ErrnoError() << "open `" << dir << "`";
    DIR* d = ::fdopendir(dup);
    if (!d) {
        Error e = ErrnoError() << "fdopendir `" << dir << "`";
        ::close(dup);
        return e;
    }
    std::vector<std::string> names;
    while (dirent* e = ::readdir(d)) {
        std::string_view n = e->d_name;
        if (n != "." && n != "..") names.emplace_back(n);
    }
    ::closedir(d);
    return names;
}

// The reference trims surrounding space from the id and writes CRLF between id and ifname.
Reservation parse_record(const IpAddr& ip, std::string_view content) {
    Reservation r{ip, {}, {}};
    content = trim(content);
    size_t crlf = content.find("\r\n");
    if (crlf == std::string_view::npos) {
        r.id = std::string(content);
    } else {
        r.id = std::string(content.substr(0, crlf));
        r.ifname = std::string(trim(content.substr(crlf + 2)));
    }
    return r;
}

}  // namespace

std::string reservation_record(const std::string& id, const std::string& ifname) {
    return std::string(trim(id)) + "\r\n" + ifname;
}

Result<DiskStore> DiskStore::open(const std::string& data_dir, const std::string& network) {
    if (network.empty() || network == "." || network == ".." ||
        network.find('/') != std::string::npos)
        return Error(EINVAL) << "invalid network name `" << network << "`";
    std::string dir = path_join(data_dir, network);
    BERTH_TRY(mkdir_p(dir, 0755));
    UniqueFd fd = BERTH_TRY(open_fd(dir, O_RDONLY | O_DIRECTORY));
    UniqueFd lock(::openat(fd.get(), "lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644));
    if (!lock) return ErrnoError() << "open `" << path_join(dir, "lock") << "`";
    return DiskStore(dir, std::move(fd), std::move(lock));
}

Result<void> DiskStore::lock() {
    while (::flock(lock_fd_.get(), LOCK_EX) < 0) {
        if (errno != EINTR) return ErrnoError() << "flock `" << path_join(dir_, "lock") << "`";
    }
    return {};
}

void DiskStore::unlock() {
    ::flock(lock_fd_.get(), LOCK_UN);
}

// Rewritten in place, never replaced: a temporary file renamed over the old one costs an inode
// allocation and, on ext4, a flush of the new file (auto_da_alloc): 2.4-2.8 ms wall and 0.5-0.8 ms
// CPU per ADD here, against 0.01 ms. Truncating to a non-zero length does not trigger ext4's
// flush-on-close. The writer holds the lock; a torn hint (a crash midway) reads as no hint
// (last_reserved_ip), which only moves where the next search starts.
Result<void> DiskStore::write_hint(const std::string& file, const std::string& text) {
    UniqueFd fd(
        ::openat(dir_fd_.get(), file.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644));
    if (!fd) return ErrnoError() << "open `" << path_join(dir_, file) << "`";
    const ssize_t n = ::pwrite(fd.get(), text.data(), text.size(), 0);
    if (n < 0) return ErrnoError() << "write `" << path_join(dir_, file) << "`";
    if (static_cast<size_t>(n) != text.size())
        return Error(EIO) << "write `" << path_join(dir_, file) << "`: short write";
    if (::ftruncate(fd.get(), static_cast<off_t>(text.size())) < 0)
        return ErrnoError() << "truncate `" << path_join(dir_, file) << "`";
    return {};
}

Result<bool> DiskStore::reserve(const std::string& id, const std::string& ifname, const IpAddr& ip,
                                const std::string& range_id) {
    const std::string name = ip.str();
    const std::string tmp = std::string(kTempPrefix) + name;
    // Written whole under a temporary name, then linked: link() fails with EEXIST like O_EXCL,
    // and the name only ever appears with its full content.
    ::unlinkat(dir_fd_.get(), tmp.c_str(), 0);
    {
        UniqueFd fd(::openat(dir_fd_.get(), tmp.c_str(),
                             O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644));
        if (!fd) return ErrnoError() << "create `" << path_join(dir_, tmp) << "`";
        if (auto w = write_all(fd, reservation_record(id, ifname)); !w) {
            ::unlinkat(dir_fd_.get(), tmp.c_str(), 0);
            return std::move(w).error().wrap("write `" + path_join(dir_, tmp) + "`");
        }
    }
    int linked = ::linkat(dir_fd_.get(), tmp.c_str(), dir_fd_.get(), name.c_str(), 0);
    int link_errno = errno;
    ::unlinkat(dir_fd_.get(), tmp.c_str(), 0);
    if (linked < 0) {
        if (link_errno == EEXIST) return false;
        return Error::from_errno(link_errno) << "link `" << path_join(dir_, name) << "`";
    }
    // The round-robin hint; without it the reservation must not stand either.
    const std::string last = std::string(kLastReservedPrefix) + range_id;
    if (auto w = write_hint(last, name); !w) {
        ::unlinkat(dir_fd_.get(), name.c_str(), 0);
        return std::move(w).error();
    }
    return true;
}

Result<std::optional<IpAddr>> DiskStore::last_reserved_ip(const std::string& range_id) {
    auto content = read_at(dir_fd_.get(), std::string(kLastReservedPrefix) + range_id);
    if (!content) {
        if (content.error().errno_value() == ENOENT) return std::optional<IpAddr>();
        return std::move(content).error();
    }
    return IpAddr::parse(trim(*content));
}

Result<void> DiskStore::release(const IpAddr& ip) {
    if (::unlinkat(dir_fd_.get(), ip.str().c_str(), 0) < 0 && errno != ENOENT)
        return ErrnoError() << "remove `" << path_join(dir_, ip.str()) << "`";
    return {};
}

Result<std::vector<Reservation>> DiskStore::list() {
    std::vector<Reservation> out;
    for (const std::string& name : BERTH_TRY(list_names(dir_fd_.get(), dir_))) {
        auto ip = IpAddr::parse(name);
        if (!ip) continue;  // lock, last_reserved_ip.*, temporaries
        auto content = read_at(dir_fd_.get(), name);
        if (!content) {
            if (content.error().errno_value() == ENOENT) continue;
            return std::move(content).error().wrap("read reservation in `" + dir_ + "`");
        }
        out.push_back(parse_record(*ip, *content));
    }
    return out;
}

Result<std::vector<IpAddr>> DiskStore::get_by_id(const std::string& id, const std::string& ifname) {
    std::vector<IpAddr> out;
    std::string want_id(trim(id));
    for (const Reservation& r : BERTH_TRY(list()))
        if (r.id == want_id && r.ifname == ifname) out.push_back(r.ip);
    return out;
}

Result<void> DiskStore::release_by_id(const std::string& id, const std::string& ifname) {
    for (const IpAddr& ip : BERTH_TRY(get_by_id(id, ifname))) BERTH_TRY(release(ip));
    return {};
}

Result<void> DiskStore::gc_temporaries() {
    for (const std::string& name : BERTH_TRY(list_names(dir_fd_.get(), dir_))) {
        if (starts_with(name, kTempPrefix) ||
            (starts_with(name, kLastReservedPrefix) && name.size() > 4 &&
             name.compare(name.size() - 4, 4, ".tmp") == 0))
            ::unlinkat(dir_fd_.get(), name.c_str(), 0);
    }
    return {};
}

}  // namespace berth::net::ipam

#include "cgroup/cgfile.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <thread>

#include "base/file.h"
#include "base/strings.h"
#include "base/unique_fd.h"

namespace berth::cgroup {
namespace {

std::vector<std::string> subdirs(const std::string& dir) {
    std::vector<std::string> out;
    DIR* d = ::opendir(dir.c_str());
    if (!d) return out;
    while (auto* e = ::readdir(d)) {
        std::string_view name(e->d_name);
        if (name == "." || name == "..") continue;
        if (e->d_type == DT_DIR || (e->d_type == DT_UNKNOWN && is_directory(path_join(dir, name))))
            out.push_back(path_join(dir, name));
    }
    ::closedir(d);
    return out;
}

// Post-order: children before their parent.
void collect_tree(const std::string& dir, std::vector<std::string>& out) {
    for (auto& sub : subdirs(dir)) collect_tree(sub, out);
    out.push_back(dir);
}

bool on_cgroupfs(const std::string& path) {
    struct statfs st;
    if (::statfs(path.c_str(), &st) < 0) return false;
    return st.f_type == CGROUP_SUPER_MAGIC || st.f_type == CGROUP2_SUPER_MAGIC;
}

}  // namespace

Result<void> Writer::write(const std::string& dir, std::string_view file, std::string_view value,
                           std::string_view field) const {
    std::string path = path_join(dir, file);
    if (hook_) {
        if (int err = hook_(path, value); err != 0)
            return Error::from_errno(err) << field << ": write " << file;
    }
    int fd;
    do fd = ::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
    while (fd < 0 && errno == EINTR);
    if (fd < 0) return ErrnoError() << field << ": write " << file;
    UniqueFd owned(fd);
    ssize_t n;
    do n = ::write(fd, value.data(), value.size());
    while (n < 0 && errno == EINTR);
    if (n < 0) return ErrnoError() << field << ": write " << file;
    // Control files take a value in one write; a short one means the kernel took part of it.
    if (static_cast<size_t>(n) != value.size())
        return Error(EIO) << field << ": write " << file << ": short write";
    return {};
}

bool cg_exists(const std::string& dir, std::string_view file) {
    return path_exists(path_join(dir, file));
}

Result<std::string> cg_read(const std::string& dir, std::string_view file) {
    return read_file(path_join(dir, file));
}

std::optional<std::string> cg_read_opt(const std::string& dir, std::string_view file) {
    auto r = read_file(path_join(dir, file));
    if (!r) return std::nullopt;
    return std::string(trim(*r));
}

std::optional<uint64_t> cg_read_u64(const std::string& dir, std::string_view file,
                                    uint64_t max_value) {
    auto s = cg_read_opt(dir, file);
    if (!s) return std::nullopt;
    if (*s == "max") return max_value;
    return parse_number<uint64_t>(*s);
}

Result<std::vector<pid_t>> read_pids_recursive(const std::string& dir) {
    std::vector<std::string> dirs;
    collect_tree(dir, dirs);
    std::vector<pid_t> pids;
    for (const auto& d : dirs) {
        auto text = read_file(path_join(d, "cgroup.procs"));
        if (!text) {
            // A child removed while we walked is not an error; the leaf itself missing is.
            if (text.error().errno_value() == ENOENT && d != dir) continue;
            return std::move(text).error();
        }
        for (auto& line : split(*text, '\n')) {
            if (auto pid = parse_number<pid_t>(trim(line))) pids.push_back(*pid);
        }
    }
    std::sort(pids.begin(), pids.end());
    pids.erase(std::unique(pids.begin(), pids.end()), pids.end());
    return pids;
}

bool poll_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    auto delay = std::chrono::milliseconds(1);
    for (;;) {
        if (pred()) return true;
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(delay);
        delay = std::min(delay * 2, std::chrono::milliseconds(50));
    }
}

Result<void> kill_until_empty(const std::function<Result<std::vector<pid_t>>()>& list,
                              std::chrono::milliseconds timeout) {
    const pid_t self = ::getpid();
    Error last;
    std::vector<pid_t> left;
    bool empty = poll_until(
        [&] {
            auto pids = list();
            if (!pids) {
                // The cgroup vanished under us: nothing is left to kill.
                if (pids.error().errno_value() == ENOENT) {
                    left.clear();
                    return true;
                }
                last = std::move(pids).error();
                return false;
            }
            left = *pids;
            for (pid_t pid : left) {
                // Never ourselves, whatever a misconfigured path put us next to.
                if (pid != self) ::kill(pid, SIGKILL);
            }
            return left.empty();
        },
        timeout);
    if (empty) return {};
    if (!last.message().empty()) return last;
    Error e(EBUSY);
    e << "processes still in the cgroup after SIGKILL:";
    for (size_t i = 0; i < left.size() && i < 8; ++i) e << ' ' << left[i];
    return e;
}

bool remove_empty_leaves(const std::vector<std::string>& dirs) {
    bool all_gone = true;
    for (const auto& d : dirs)
        if (::rmdir(d.c_str()) < 0 && errno != ENOENT) all_gone = false;
    return all_gone;
}

Result<void> remove_cgroup_tree(const std::string& dir) {
    if (!path_exists(dir)) return {};
    Error last;
    bool fatal = false;
    bool done = poll_until(
        [&] {
            std::vector<std::string> dirs;
            collect_tree(dir, dirs);
            for (const auto& d : dirs) {
                if (::rmdir(d.c_str()) == 0 || errno == ENOENT) continue;
                int err = errno;
                if (err == ENOTEMPTY && !on_cgroupfs(d)) {
                    // A test tree on an ordinary filesystem: its control files are real files.
                    auto r = remove_all(d);
                    if (r) continue;
                    last = std::move(r).error();
                    return false;
                }
                last = Error::from_errno(err) << "rmdir `" << d << "`";
                // EBUSY: tasks not yet gone; ENOTEMPTY: a child appeared. Both pass.
                fatal = err != EBUSY && err != ENOTEMPTY;
                return fatal;
            }
            return true;
        },
        std::chrono::milliseconds(2000));
    if (done && !fatal) return {};
    return last;
}

}  // namespace berth::cgroup

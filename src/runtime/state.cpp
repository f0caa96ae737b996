#include "runtime/state.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#include <nlohmann/json.hpp>

#include "base/file.h"
#include "base/strings.h"

namespace berth::runtime {

using nlohmann::json;

Result<void> StateDir::check_id(const std::string& id) {
    if (id.empty()) return Error(EINVAL) << "container id must not be empty";
    if (id == "." || id == "..") return Error(EINVAL) << "invalid container id format: " << id;
    for (char c : id) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '+' || c == '-' || c == '.';
        if (!ok) return Error(EINVAL) << "invalid container id format: " << id;
    }
    if (id.size() > 1024) return Error(EINVAL) << "container id is too long";
    return {};
}

static Result<UniqueFd> lock_dir(const std::string& path, int how) {
    UniqueFd fd = BERTH_TRY(open_fd(path, O_RDONLY | O_DIRECTORY));
    while (::flock(fd.get(), how) < 0) {
        if (errno != EINTR) return ErrnoError() << "lock `" << path << "`";
    }
    return fd;
}

Result<StateDir> StateDir::create(const std::string& root, const std::string& id) {
    BERTH_TRY(check_id(id));
    BERTH_TRY(mkdir_p(root, 0711));
    StateDir d;
    d.path_ = path_join(root, id);
    if (::mkdir(d.path_.c_str(), 0711) < 0) {
        if (errno == EEXIST)
            return Error(EEXIST) << "container with id " << id << " already exists";
        return ErrnoError() << "mkdir `" << d.path_ << "`";
    }
    auto lock = lock_dir(d.path_, LOCK_EX);
    if (!lock) {
        ::rmdir(d.path_.c_str());
        return std::move(lock).error();
    }
    d.lock_ = std::move(*lock);
    return d;
}

Result<StateDir> StateDir::open(const std::string& root, const std::string& id) {
    BERTH_TRY(check_id(id));
    StateDir d;
    d.path_ = path_join(root, id);
    auto lock = lock_dir(d.path_, LOCK_EX);
    if (!lock) {
        if (lock.error().errno_value() == ENOENT)
            return Error(ENOENT) << "container " << id << " does not exist";
        return std::move(lock).error();
    }
    d.lock_ = std::move(*lock);
    if (!path_exists(d.file("state.json"))) {
        // Either being created right now (the creator holds no lock across its whole run) or
        // left half-made by a crash; both read as "does not exist" to callers.
        return Error(ENOENT) << "container " << id << " does not exist";
    }
    return d;
}

Result<std::vector<std::string>> StateDir::list_ids(const std::string& root) {
    std::vector<std::string> ids;
    DIR* d = ::opendir(root.c_str());
    if (!d) {
        if (errno == ENOENT) return ids;
        return ErrnoError() << "open `" << root << "`";
    }
    while (auto* e = ::readdir(d)) {
        std::string n = e->d_name;
        if (n == "." || n == "..") continue;
        if (path_exists(path_join(path_join(root, n), "state.json"))) ids.push_back(n);
    }
    ::closedir(d);
    std::sort(ids.begin(), ids.end());
    return ids;
}

std::string StateDir::file(const char* name) const {
    return path_join(path_, name);
}

bool StateDir::exists() const {
    return path_exists(file("state.json"));
}

Result<void> StateDir::save(const Record& r) const {
    json j = {{"id", r.id},
              {"bundle", r.bundle},
              {"rootfs", r.rootfs},
              {"pid", r.pid},
              {"pid_start", r.pid_start},
              {"created", r.created},
              {"owner_uid", r.owner_uid},
              {"annotations", r.annotations},
              {"cgroups_path", r.cgroups_path},
              {"systemd_cgroup", r.systemd_cgroup},
              {"oci_version", r.oci_version}};
    return write_file_atomic(file("state.json"), j.dump(), 0600);
}

Result<Record> StateDir::load() const {
    std::string text = BERTH_TRY(read_file(file("state.json")));
    json j = json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object())
        return Error(EINVAL) << "`" << file("state.json") << "` is corrupt";
    Record r;
    try {
        r.id = j.at("id").get<std::string>();
        r.bundle = j.at("bundle").get<std::string>();
        r.rootfs = j.at("rootfs").get<std::string>();
        r.pid = j.at("pid").get<pid_t>();
        r.pid_start = j.at("pid_start").get<uint64_t>();
        r.created = j.at("created").get<std::string>();
        r.owner_uid = j.at("owner_uid").get<uint32_t>();
        r.annotations = j.at("annotations").get<std::map<std::string, std::string>>();
        r.cgroups_path = j.at("cgroups_path").get<std::string>();
        r.systemd_cgroup = j.at("systemd_cgroup").get<bool>();
        r.oci_version = j.at("oci_version").get<std::string>();
    } catch (const json::exception& e) {
        return Error(EINVAL) << "`" << file("state.json") << "` is corrupt: " << e.what();
    }
    return r;
}

Result<void> StateDir::save_config(std::string_view config_json) const {
    return write_file_atomic(file("config.json"), config_json, 0600);
}

Result<oci::Spec> StateDir::load_config() const {
    std::string text = BERTH_TRY(read_file(file("config.json")));
    return oci::parse_spec(text);
}

Result<void> StateDir::remove() const {
    return remove_all(path_);
}

Result<uint64_t> process_start_time(pid_t pid) {
    std::string stat = BERTH_TRY(read_file("/proc/" + std::to_string(pid) + "/stat"));
    // Field 2 (comm) may hold spaces and parentheses; fields restart after the last ')'.
    auto close = stat.rfind(')');
    if (close == std::string::npos) return Error(EINVAL) << "malformed /proc/" << pid << "/stat";
    auto fields = split(std::string_view(stat).substr(close + 2), ' ');
    // fields[0] is field 3 (state); starttime is field 22.
    if (fields.size() < 20) return Error(EINVAL) << "malformed /proc/" << pid << "/stat";
    if (fields[0] == "Z" || fields[0] == "X")
        return Error(ESRCH) << "process " << pid << " is a zombie";
    auto v = parse_number<uint64_t>(fields[19]);
    if (!v) return Error(EINVAL) << "malformed /proc/" << pid << "/stat";
    return *v;
}

bool init_alive(pid_t pid, uint64_t start_time) {
    if (pid <= 0) return false;
    auto st = process_start_time(pid);
    return st.ok() && *st == start_time;
}

}  // namespace berth::runtime

#include "engine/exit_record.h"

#include <dirent.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <vector>

#include <nlohmann/json.hpp>

#include "base/file.h"

namespace berth::engine {
namespace {

using Json = nlohmann::json;

std::string exits_dir(const Paths& paths) {
    return path_join(paths.ns_dir(), "exits");
}

// The records' file names, removing those older than kExitRecordSeconds on the way.
std::vector<std::string> live_records(const std::string& dir) {
    std::vector<std::string> out;
    DIR* d = ::opendir(dir.c_str());
    if (!d) return out;
    const time_t now = ::time(nullptr);
    while (struct dirent* e = ::readdir(d)) {
        std::string name = e->d_name;
        if (!name.ends_with(".json")) continue;
        struct stat st;
        if (::fstatat(::dirfd(d), name.c_str(), &st, 0) != 0) continue;
        if (now - st.st_mtime > kExitRecordSeconds) {
            ::unlinkat(::dirfd(d), name.c_str(), 0);
            continue;
        }
        out.push_back(std::move(name));
    }
    ::closedir(d);
    return out;
}

}  // namespace

void keep_exit_record(const Paths& paths, const std::string& id, const std::string& name) {
    auto text = read_file(path_join(paths.task_dir(id), "task.json"));
    if (!text.ok()) return;
    Json task = Json::parse(*text, nullptr, false);
    if (!task.is_object() || task.value("status", "") != "stopped") return;
    std::string dir = exits_dir(paths);
    (void)live_records(dir);  // prune
    if (!mkdir_p(dir, 0700).ok()) return;
    Json record = {{"id", id}, {"name", name}, {"task", std::move(task)}};
    (void)write_file_atomic(path_join(dir, id + ".json"), record.dump() + "\n", 0600);
}

std::optional<TaskInfo> find_exit_record(const Paths& paths, const std::string& ref) {
    if (ref.empty()) return std::nullopt;
    std::string dir = exits_dir(paths);
    std::optional<TaskInfo> by_prefix;
    int prefix_matches = 0;
    for (const auto& file : live_records(dir)) {
        auto text = read_file(path_join(dir, file));
        if (!text.ok()) continue;
        Json j = Json::parse(*text, nullptr, false);
        if (!j.is_object() || !j.contains("task") || !j["task"].is_object()) continue;
        std::string id = j.value("id", "");
        bool exact = id == ref || j.value("name", "") == ref;
        if (!exact && !id.starts_with(ref)) continue;
        auto task = parse_task(j["task"].dump());
        if (!task.ok()) continue;
        if (exact) return std::move(*task);
        by_prefix = std::move(*task);
        prefix_matches++;
    }
    if (prefix_matches == 1) return by_prefix;
    return std::nullopt;
}

}  // namespace berth::engine

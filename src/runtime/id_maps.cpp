#include "runtime/id_maps.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/file.h"
#include "base/strings.h"
#include "base/unique_fd.h"

extern char** environ;

namespace berth::runtime {

std::string id_map_text(const std::vector<oci::IdMapping>& maps) {
    std::string s;
    for (const auto& e : maps)
        s += std::to_string(e.container_id) + " " + std::to_string(e.host_id) + " " +
             std::to_string(e.size) + "\n";
    return s;
}

bool is_own_id_map(const std::vector<oci::IdMapping>& maps, uint32_t own) {
    return maps.size() == 1 && maps[0].size == 1 && maps[0].host_id == own;
}

std::vector<std::string> id_map_helper_args(pid_t pid, const std::vector<oci::IdMapping>& maps) {
    std::vector<std::string> args{std::to_string(pid)};
    for (const auto& e : maps) {
        args.push_back(std::to_string(e.container_id));
        args.push_back(std::to_string(e.host_id));
        args.push_back(std::to_string(e.size));
    }
    return args;
}

Result<std::string> find_id_map_helper(const std::string& name, const std::string& search_path,
                                       std::string_view field) {
    std::vector<std::string> dirs = split(search_path, ':');
    dirs.push_back("/usr/bin");
    dirs.push_back("/bin");
    for (const auto& d : dirs) {
        if (d.empty() || d[0] != '/') continue;  // a relative PATH entry is not trusted here
        std::string p = path_join(d, name);
        if (::access(p.c_str(), X_OK) == 0 && !is_directory(p)) return p;
    }
    return Error(ENOENT) << field << ": mapping ids other than your own needs " << name
                         << " (Debian package uidmap), not found in PATH";
}

Result<void> run_id_map_helper(const std::string& helper, pid_t pid,
                               const std::vector<oci::IdMapping>& maps, std::string_view field) {
    std::vector<std::string> args = id_map_helper_args(pid, maps);
    args.insert(args.begin(), helper);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);

    auto out = make_pipe();
    if (!out) return std::move(out).error().wrap(std::string(field));
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, out->second.get(), STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, out->second.get(), STDERR_FILENO);
    pid_t child = 0;
    int err = ::posix_spawn(&child, helper.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    out->second.reset();
    std::string command;
    for (const auto& a : args) command += (command.empty() ? "" : " ") + a;
    if (err != 0) return Error(err) << field << ": run `" << command << "`";
    auto text = read_fd(out->first);
    int status = 0;
    while (::waitpid(child, &status, 0) < 0)
        if (errno != EINTR) return ErrnoError() << field << ": wait for " << helper;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {};
    std::string why = text ? std::string(trim(*text)) : std::string();
    Error e(EPERM);
    e << field << ": `" << command << "` failed";
    if (WIFEXITED(status)) e << " (exit status " << WEXITSTATUS(status) << ")";
    if (WIFSIGNALED(status)) e << " (signal " << WTERMSIG(status) << ")";
    if (!why.empty()) e << ": " << why;
    return e;
}

}  // namespace berth::runtime

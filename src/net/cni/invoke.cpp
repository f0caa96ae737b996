#include "net/cni/invoke.h"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <vector>

#include "base/file.h"
#include "base/strings.h"

namespace berth::net::cni {

namespace {

constexpr const char* kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
// What stderr text an error message carries at most: enough for a Go panic's first lines.
constexpr size_t kStderrKept = 4096;

bool is_executable_file(const std::string& path) {
    struct stat st;
    if (::stat(path.c_str(), &st) < 0 || !S_ISREG(st.st_mode)) return false;
    return ::access(path.c_str(), X_OK) == 0;
}

std::vector<std::string> plugin_environment(const PluginEnv& env) {
    const char* path = std::getenv("PATH");
    return {
        "CNI_COMMAND=" + env.command,
        "CNI_CONTAINERID=" + env.container_id,
        "CNI_NETNS=" + env.netns,
        "CNI_IFNAME=" + env.ifname,
        "CNI_ARGS=" + env.args,
        "CNI_PATH=" + env.path,
        std::string("PATH=") + (path && *path ? path : kDefaultPath),
    };
}

struct Captured {
    std::string out, err;
};

// Feeds stdin_data to `in` and drains `out` and `err` until both reach EOF, all at once so
// neither side blocks on a full pipe. `in` is a socket (send with MSG_NOSIGNAL): a plugin that
// exits without reading its input must not kill us with SIGPIPE.
Result<Captured> communicate(UniqueFd in, UniqueFd out, UniqueFd err, std::string_view stdin_data) {
    Captured c;
    size_t written = 0;
    if (stdin_data.empty()) in.reset();
    if (in && ::fcntl(in.get(), F_SETFL, O_NONBLOCK) < 0) return ErrnoError() << "fcntl";
    while (in || out || err) {
        pollfd fds[3];
        int n = 0;
        int in_at = -1, out_at = -1, err_at = -1;
        if (in) in_at = n, fds[n++] = {in.get(), POLLOUT, 0};
        if (out) out_at = n, fds[n++] = {out.get(), POLLIN, 0};
        if (err) err_at = n, fds[n++] = {err.get(), POLLIN, 0};
        if (::poll(fds, n, -1) < 0) {
            if (errno == EINTR) continue;
            return ErrnoError() << "poll";
        }
        if (in_at >= 0 && fds[in_at].revents) {
            ssize_t w = ::send(in.get(), stdin_data.data() + written, stdin_data.size() - written,
                               MSG_NOSIGNAL);
            if (w > 0) written += static_cast<size_t>(w);
            // EPIPE/ECONNRESET: the plugin is gone or closed stdin; its exit status tells why.
            if ((w < 0 && errno != EAGAIN && errno != EINTR) || written == stdin_data.size())
                in.reset();
        }
        auto drain = [](UniqueFd& fd, std::string& into, short revents, size_t cap) {
            if (!revents) return;
            char buf[8192];
            ssize_t r = ::read(fd.get(), buf, sizeof(buf));
            if (r > 0) {
                if (into.size() < cap)
                    into.append(buf, std::min(static_cast<size_t>(r), cap - into.size()));
            } else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
                fd.reset();
            }
        };
        if (out_at >= 0) drain(out, c.out, fds[out_at].revents, SIZE_MAX);
        if (err_at >= 0) drain(err, c.err, fds[err_at].revents, kStderrKept);
    }
    return c;
}

// The error a failed plugin reported: its error JSON on stdout (SPEC.md "Error"), else what it
// wrote to stderr.
CniError failure(const std::string& plugin_path, const Captured& c, const std::string& how) {
    Json j = Json::parse(c.out, nullptr, /*allow_exceptions=*/false);
    if (j.is_object() && j.contains("code") && j["code"].is_number_unsigned()) {
        CniError e;
        e.code = j["code"].get<uint32_t>();
        if (j.contains("msg") && j["msg"].is_string()) e.msg = j["msg"].get<std::string>();
        if (j.contains("details") && j["details"].is_string())
            e.details = j["details"].get<std::string>();
        return e;
    }
    std::string text(trim(c.err.empty() ? c.out : c.err));
    std::string msg = "plugin `" + plugin_path + "` " + how;
    if (!text.empty()) msg += ": " + text;
    return {kInternal, msg, ""};
}

}  // namespace

Result<std::string> find_plugin(std::string_view type, std::string_view search_path) {
    if (type.empty()) return Error(EINVAL) << "plugin type is empty";
    if (type.find('/') != std::string_view::npos || type == "." || type == "..")
        return Error(EINVAL) << "plugin type \"" << type << "\" is not a plain name";
    for (const std::string& dir : split(search_path, ':')) {
        if (dir.empty()) continue;
        std::string candidate = path_join(dir, type);
        if (is_executable_file(candidate)) return candidate;
    }
    return Error(ENOENT) << "failed to find plugin \"" << type << "\" in path ["
                         << std::string(search_path) << "]";
}

Outcome exec_plugin(const std::string& plugin_path, const PluginEnv& env,
                    std::string_view stdin_data) {
    auto io_fail = [&](const Error& e) {
        return Outcome::fail(kIoFailure, Error(e).wrap("running plugin `" + plugin_path + "`"));
    };
    auto in = make_socketpair(SOCK_STREAM);
    if (!in) return io_fail(in.error());
    auto out = make_pipe();
    if (!out) return io_fail(out.error());
    auto err = make_pipe();
    if (!err) return io_fail(err.error());

    // posix_spawn (vfork-like in glibc) is safe from a threaded engine, and reports exec
    // failures as its return value. Every descriptor of ours is O_CLOEXEC; dup2 clears that
    // flag on the three the plugin gets.
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in->second.get(), STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&actions, out->second.get(), STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, err->second.get(), STDERR_FILENO);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    // The plugin starts with default signal handling and an empty mask, whatever ours are.
    sigset_t all, none;
    sigfillset(&all);
    sigemptyset(&none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

    std::vector<std::string> env_strings = plugin_environment(env);
    std::vector<char*> envp;
    for (std::string& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::string arg0 = plugin_path;
    char* argv[] = {arg0.data(), nullptr};

    pid_t pid = -1;
    int rc = posix_spawn(&pid, plugin_path.c_str(), &actions, &attr, argv, envp.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) {
        Error e = Error::from_errno(rc) << "exec `" << plugin_path << "`";
        bool missing = rc == ENOENT || rc == EACCES || rc == ENOEXEC || rc == ENOTDIR;
        return Outcome::fail(missing ? kPluginNotAvailable : kIoFailure, e);
    }
    in->second.reset();
    out->second.reset();
    err->second.reset();

    auto captured =
        communicate(std::move(in->first), std::move(out->first), std::move(err->first), stdin_data);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) return io_fail(ErrnoError() << "waitpid");
    }
    if (!captured) return io_fail(captured.error());

    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return Outcome::ok(std::move(captured->out));
    std::string how = WIFEXITED(status)
                          ? "exited with status " + std::to_string(WEXITSTATUS(status))
                          : "was killed by signal " + std::to_string(WTERMSIG(status));
    return Outcome::fail(failure(plugin_path, *captured, how));
}

Outcome delegate(std::string_view type, const PluginEnv& env, std::string_view stdin_data) {
    auto path = find_plugin(type, env.path);
    if (!path) return Outcome::fail(kPluginNotAvailable, path.error());
    return exec_plugin(*path, env, stdin_data);
}

}  // namespace berth::net::cni

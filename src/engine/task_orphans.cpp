// What a create killed halfway (with its monitor, or by `system gc` racing it) leaves behind
// before any task.json names it: the OCI runtime's state, a cgroup, an init waiting for a
// `start` that never comes (berth-runtime's init leaves by itself; crun's waits on its exec
// fifo for ever). Found from the kernel and removed by every command that looks at the row.
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include "base/file.h"
#include "base/strings.h"
#include "engine/container_lock.h"
#include "engine/engine.h"
#include "engine/lifecycle.h"

namespace berth::engine {
namespace {

// A monitor listens on ctl.sock from before it runs the runtime's create until the task is over
// (and task.json says so). A killed one leaves the socket file with nobody listening.
bool monitor_listening(const std::string& task_dir) {
    auto dir = open_fd(task_dir, O_PATH | O_DIRECTORY);
    if (!dir.ok()) return false;
    std::string path = "/proc/self/fd/" + std::to_string(dir->get()) + "/ctl.sock";
    UniqueFd sock(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!sock) return true;  // cannot tell: leave it alone
    struct sockaddr_un addr;
    std::memset(&addr, 0, sizeof(addr));
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.data(), path.size());
    // Connected and dropped unanswered: the monitor sees an empty request and ignores it.
    // EAGAIN: a full backlog, so somebody listens (a monitor busy in the runtime's create).
    return ::connect(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 ||
           errno == EAGAIN;
}

}  // namespace

void Engine::reap_unowned_task(const ContainerRecord& r) {
    if (r.ns != paths_.ns) return;  // its task dir is another namespace's: not ours to judge
    const std::string state = path_join(paths_.runtime_root(r.runtime), r.id);
    // The usual case (never started, or removed cleanly): neither exists. Cheap checks first.
    if (!path_exists(state) && !container_cgroup_exists(r.ns, r.id)) return;
    const std::string task_dir = paths_.task_dir(r.id);
    if (monitor_listening(task_dir)) return;
    // Another command starting it holds the lock until its monitor has written task.json.
    auto lock = lock_container(paths_, r.id, false);
    if (!lock.ok()) return;
    if (path_exists(path_join(task_dir, "task.json")) || monitor_listening(task_dir)) return;
    if (path_exists(state)) (void)runtime_delete(r.runtime, r.id);
    // Kills what the runtime's delete could not (crun's init of a create killed before its
    // state was written), then removes the cgroup.
    (void)remove_container_cgroups(r.ns, r.id);
}

bool Engine::cgroup_made_here(const std::string& ns, const std::string& id) const {
    const std::string runtimes = path_join(paths_.runroot, "runtime") + "/";
    for (pid_t pid : container_cgroup_pids(ns, id)) {
        // An init that has not exec'd yet still has its runtime's command line:
        // `<runtime> --root <runroot>/runtime/<name> ... create ... ID`.
        auto cmdline = read_file("/proc/" + std::to_string(pid) + "/cmdline");
        if (!cmdline.ok()) continue;
        for (const auto& arg : split(*cmdline, '\0')) {
            if (arg.starts_with(runtimes)) return true;
        }
    }
    return false;
}

}  // namespace berth::engine

// Work on a running container's task through its OCI runtime: `exec` (a new process with the
// container's process defaults), `pause`/`unpause`, and `top` (the processes of its cgroup).
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "engine/engine.h"
#include "engine/user_lookup.h"

namespace berth::engine {

struct ExecOptions {
    std::vector<std::string> command;
    std::vector<std::string> env;     // -e K=V (K alone: from berth's own environment)
    std::optional<std::string> user;  // -u user[:group], names from the container's passwd
    std::string workdir;              // -w; empty: the container's cwd
    bool tty = false;                 // -t: the runtime proxies a pty in the foreground
    bool interactive = false;         // -i: our stdin is the process's (else /dev/null)
    bool detach = false;              // -d: start it and return
};

// How an exec ended: the process's shell status, or the runtime's own failure (then
// runtime_error has its message and exit_code is docker's 126/127/125 for it).
struct ExecOutcome {
    int exit_code = 0;
    std::string runtime_error;
};

// The process.json for `<runtime> exec -p`: the container's config.json process (caps,
// rlimits, apparmor, noNewPrivileges...) with the command, env (later keys replace earlier),
// user (HOME follows it when given), cwd and terminal replaced.
Result<std::string> exec_process_json(const std::string& spec_json, const ExecOptions& options,
                                      const std::optional<ResolvedUser>& user);

// Runs the command in the container with berth's stdio (stdin only with -i or -t), SIGINT,
// SIGTERM, SIGHUP and SIGQUIT passed on to the runtime, and waits (unless -d). EINVAL when
// the container is not running.
Result<ExecOutcome> exec_in_container(const Paths& paths, const ContainerView& c,
                                      const ExecOptions& options);

// `<runtime> pause|resume ID`; EINVAL when the container is not running.
Result<void> pause_container(const Paths& paths, const ContainerView& c);
Result<void> resume_container(const Paths& paths, const ContainerView& c);

// The cgroup freezer's view: true when the container's cgroup is frozen.
std::optional<bool> container_frozen(const ContainerView& c);

struct ProcessRow {
    pid_t pid = 0;
    std::string user;     // the name in the container's /etc/passwd, else the uid
    std::string time;     // CPU time as [DD-]HH:MM:SS, like ps
    std::string command;  // the cmdline, or [comm] for kernel-ish processes
};

// The processes of the container's cgroup (host pids), lowest pid first.
Result<std::vector<ProcessRow>> container_processes(const Paths& paths, const ContainerView& c);

}  // namespace berth::engine

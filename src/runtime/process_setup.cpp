#include "runtime/process_setup.h"

#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "base/file.h"
#include "base/strings.h"
#include "base/syscalls.h"

namespace berth::runtime {

Result<ProcessPlan> plan_process(const oci::Process& p, const std::optional<oci::Seccomp>& seccomp,
                                 const std::optional<oci::Personality>& personality) {
    ProcessPlan plan;
    plan.process = p;
    if (!p.apparmor_profile.empty())
        return Error(ENOTSUP) << "process.apparmorProfile: AppArmor is not available on this host";
    if (!p.selinux_label.empty())
        return Error(ENOTSUP) << "process.selinuxLabel: SELinux is not available on this host";
    if (p.capabilities) plan.caps = BERTH_TRY(resolve_caps(*p.capabilities));
    if (seccomp) plan.seccomp = BERTH_TRY(compile_seccomp(*seccomp));
    plan.rlimits = BERTH_TRY(resolve_rlimits(p.rlimits));
    if (p.scheduler) plan.sched = BERTH_TRY(resolve_scheduler(*p.scheduler));
    if (p.io_priority) plan.ioprio = BERTH_TRY(resolve_ioprio(*p.io_priority));
    if (personality) plan.personality = BERTH_TRY(resolve_personality(*personality));
    if (p.exec_cpu_affinity_initial)
        plan.affinity_initial = BERTH_TRY(
            parse_cpu_list(*p.exec_cpu_affinity_initial, "process.execCPUAffinity.initial"));
    if (p.exec_cpu_affinity_final)
        plan.affinity_final =
            BERTH_TRY(parse_cpu_list(*p.exec_cpu_affinity_final, "process.execCPUAffinity.final"));
    plan.env = p.env;
    bool has_home = false;
    for (auto& e : plan.env)
        if (starts_with(e, "HOME=")) has_home = true;
    if (!has_home) plan.env.push_back(p.user.uid == 0 ? "HOME=/root" : "HOME=/");
    return plan;
}

Result<cpu_set_t> parse_cpu_list(const std::string& list, const std::string& field) {
    cpu_set_t set;
    CPU_ZERO(&set);
    for (auto& part : split(list, ',')) {
        auto range = split(trim(part), '-');
        auto lo = parse_number<unsigned>(trim(range[0]));
        auto hi = range.size() == 2 ? parse_number<unsigned>(trim(range[1])) : lo;
        if (range.size() > 2 || !lo || !hi || *hi < *lo || *hi >= CPU_SETSIZE)
            return Error(EINVAL) << field << ": invalid CPU list \"" << list << "\"";
        for (unsigned c = *lo; c <= *hi; ++c) CPU_SET(c, &set);
    }
    return set;
}

static Result<void> set_affinity(const cpu_set_t& set, const char* field) {
    if (::sched_setaffinity(0, sizeof(set), &set) < 0)
        return ErrnoError() << field << ": sched_setaffinity";
    return {};
}

Result<void> apply_initial_affinity(const ProcessPlan& plan) {
    if (plan.affinity_initial)
        return set_affinity(*plan.affinity_initial, "process.execCPUAffinity.initial");
    return {};
}

Result<void> apply_process_attrs(const ProcessPlan& plan) {
    const auto& p = plan.process;
    if (plan.affinity_final)
        BERTH_TRY(set_affinity(*plan.affinity_final, "process.execCPUAffinity.final"));
    if (p.oom_score_adj) {
        auto r = write_file("/proc/self/oom_score_adj", std::to_string(*p.oom_score_adj));
        if (!r) return std::move(r).error().wrap("process.oomScoreAdj");
    }
    for (size_t i = 0; i < plan.rlimits.size(); ++i)
        if (int e = apply_rlimits(&plan.rlimits[i], 1); e < 0)
            return Error::from_errno(-e) << "process.rlimits[" << i << "]: setrlimit "
                                         << rlimit_name(plan.rlimits[i].resource);
    if (plan.sched)
        if (int e = apply_scheduler(*plan.sched); e < 0)
            return Error::from_errno(-e) << "process.scheduler: sched_setattr";
    if (plan.ioprio)
        if (int e = apply_ioprio(plan.ioprio->io_class, plan.ioprio->priority); e < 0)
            return Error::from_errno(-e) << "process.ioPriority: ioprio_set";
    if (plan.personality)
        if (int e = apply_personality(*plan.personality); e < 0)
            return Error::from_errno(-e) << "linux.personality";
    return {};
}

static std::string env_value(const std::vector<std::string>& env, std::string_view key) {
    for (auto& e : env)
        if (e.size() > key.size() && e.compare(0, key.size(), key) == 0 && e[key.size()] == '=')
            return e.substr(key.size() + 1);
    return {};
}

Result<std::string> find_executable(const ProcessPlan& plan) {
    const std::string& name = plan.process.args.at(0);
    auto executable = [](const std::string& path) -> int {
        struct stat st;
        if (::stat(path.c_str(), &st) < 0) return errno;
        if (S_ISDIR(st.st_mode)) return EACCES;
        if (!(st.st_mode & 0111)) return EACCES;
        return 0;
    };
    if (name.find('/') != std::string::npos) {
        std::string path = name;
        if (path[0] != '/') path = path_join(plan.process.cwd, path);
        // Go's wording, lower case: podman maps "no such file or directory" to exit code 127
        // and "permission denied" to 126 by matching the runtime's error text.
        if (int e = executable(path)) {
            if (e == ENOENT)
                return Error(e) << "exec: \"" << name << "\": stat " << path
                                << ": no such file or directory";
            if (e == EACCES) return Error(e) << "exec: \"" << name << "\": permission denied";
            return Error::from_errno(e) << "exec: \"" << name << "\"";
        }
        return name;
    }
    std::string path_env = env_value(plan.env, "PATH");
    if (path_env.empty()) path_env = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    for (auto& dir : split(path_env, ':')) {
        std::string candidate = path_join(dir.empty() ? "." : dir, name);
        if (executable(candidate) == 0) return candidate;
    }
    return Error(ENOENT) << "exec: \"" << name << "\": executable file not found in $PATH";
}

static bool seccomp_needs_privilege(const ProcessPlan& plan) {
    return plan.seccomp && !plan.process.no_new_privileges;
}

Result<void> apply_identity(const ProcessPlan& plan) {
    const auto& p = plan.process;
    int listener = -1;
    // Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: load it before caps drop.
    if (seccomp_needs_privilege(plan))
        if (int e = install_seccomp(*plan.seccomp, &listener); e < 0)
            return Error::from_errno(-e) << "linux.seccomp: load filter";
    if (plan.caps) {
        if (int e = drop_bounding(*plan.caps); e < 0)
            return Error::from_errno(-e) << "process.capabilities.bounding: drop";
        if (int e = set_keepcaps(true); e < 0)
            return Error::from_errno(-e) << "prctl PR_SET_KEEPCAPS";
    }
    std::vector<gid_t> groups(p.user.additional_gids.begin(), p.user.additional_gids.end());
    // setgroups is denied in a user namespace whose gid map was written with setgroups=deny.
    if (::setgroups(groups.size(), groups.data()) < 0 && !(errno == EPERM && groups.empty()))
        return ErrnoError() << "process.user.additionalGids: setgroups";
    if (::setresgid(p.user.gid, p.user.gid, p.user.gid) < 0)
        return ErrnoError() << "process.user.gid: setgid " << p.user.gid;
    if (::setresuid(p.user.uid, p.user.uid, p.user.uid) < 0)
        return ErrnoError() << "process.user.uid: setuid " << p.user.uid;
    if (plan.caps) {
        if (int e = apply_caps(*plan.caps); e < 0)
            return Error::from_errno(-e) << "process.capabilities: capset";
        if (int e = set_keepcaps(false); e < 0)
            return Error::from_errno(-e) << "prctl PR_SET_KEEPCAPS";
    }
    if (p.no_new_privileges && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return ErrnoError() << "process.noNewPrivileges";
    if (p.user.umask) ::umask(*p.user.umask);
    if (::chdir(p.cwd.c_str()) < 0) return ErrnoError() << "process.cwd: chdir `" << p.cwd << "`";
        // A cwd reached through a descriptor of the host (/proc/self/fd/N) lies outside our root:
        // the kernel then answers getcwd with ENOENT or a path not starting with '/'
        // (CVE-2024-21626).
#ifndef BERTH_WEAKEN_HOST_FDS
    char cwd[PATH_MAX];
    if (!::getcwd(cwd, sizeof(cwd)) || cwd[0] != '/')
        return Error(EPERM) << "process.cwd: `" << p.cwd << "` is outside the container's root";
#endif
    if (plan.seccomp && !seccomp_needs_privilege(plan))
        if (int e = install_seccomp(*plan.seccomp, &listener); e < 0)
            return Error::from_errno(-e) << "linux.seccomp: load filter";
    if (listener >= 0) ::close(listener);
    return {};
}

Result<void> close_other_fds(unsigned preserve_fds, std::vector<int> keep) {
    std::sort(keep.begin(), keep.end());
    unsigned lo = 3 + preserve_fds;
    for (int fd : keep) {
        if (fd < 0 || static_cast<unsigned>(fd) < lo) continue;
        if (static_cast<unsigned>(fd) > lo && sys::close_range(lo, fd - 1, 0) < 0)
            return ErrnoError() << "close_range";
        lo = static_cast<unsigned>(fd) + 1;
    }
    if (sys::close_range(lo, ~0U, 0) < 0) return ErrnoError() << "close_range";
    return {};
}

Error exec_process(const ProcessPlan& plan, const std::string& path) {
    std::vector<char*> argv, envp;
    for (auto& a : plan.process.args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    for (auto& e : plan.env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execve(path.c_str(), argv.data(), envp.data());
    return ErrnoError() << "exec `" << path << "`";
}

}  // namespace berth::runtime

// berth-checker: a static probe run inside containers by the conformance suite.
//
// Usage: /berth-checker <command> [args...]
// Every command prints one JSON document (a single line) on stdout and exits 0,
// except `exit CODE` (exits with CODE), `sleep` (exits 0 after sleeping, or
// 128+N when terminated by a caught signal N) and seccomp probes whose filter
// kills the process.
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/ioprio.h>
#include <linux/keyctl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "oci/caps.h"

#include "json.hpp"

extern char** environ;

namespace checker {
namespace {

// ---------------------------------------------------------------- helpers

std::optional<std::string> read_file(const std::string& path, size_t limit = 1 << 20,
                                     int* err = nullptr) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (err) *err = errno;
        return std::nullopt;
    }
    std::string out;
    char buf[8192];
    while (out.size() < limit) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (err) *err = errno;
            ::close(fd);
            return std::nullopt;
        }
        if (n == 0) break;
        out.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    if (err) *err = 0;
    if (out.size() > limit) out.resize(limit);
    return out;
}

std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\t')) s.pop_back();
    size_t i = 0;
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    return s.substr(i);
}

std::vector<std::string> split(const std::string& s, char sep) {
    std::vector<std::string> out;
    std::string cur;
    for (char c : s) {
        if (c == sep) {
            out.push_back(cur);
            cur.clear();
        } else {
            cur.push_back(c);
        }
    }
    out.push_back(cur);
    return out;
}

std::vector<std::string> lines(const std::string& s) {
    std::vector<std::string> out = split(s, '\n');
    if (!out.empty() && out.back().empty()) out.pop_back();
    return out;
}

std::optional<std::string> readlink_str(const std::string& path) {
    char buf[4096];
    ssize_t n = ::readlink(path.c_str(), buf, sizeof buf - 1);
    if (n < 0) return std::nullopt;
    return std::string(buf, static_cast<size_t>(n));
}

Json errno_obj(int e) {
    Json j = Json::object();
    j.set("errno", e);
    j.set("error", std::strerror(e));
    return j;
}

std::map<std::string, std::string> proc_status() {
    std::map<std::string, std::string> out;
    auto s = read_file("/proc/self/status");
    if (!s) return out;
    for (const auto& l : lines(*s)) {
        auto pos = l.find(':');
        if (pos == std::string::npos) continue;
        out[l.substr(0, pos)] = trim(l.substr(pos + 1));
    }
    return out;
}

std::optional<unsigned long long> parse_ull(const std::string& s, int base = 0) {
    if (s.empty()) return std::nullopt;
    errno = 0;
    char* end = nullptr;
    unsigned long long v = std::strtoull(s.c_str(), &end, base);
    if (errno != 0 || end == s.c_str() || *end != '\0') return std::nullopt;
    return v;
}

std::optional<long long> parse_ll(const std::string& s, int base = 0) {
    if (s.empty()) return std::nullopt;
    errno = 0;
    char* end = nullptr;
    long long v = std::strtoll(s.c_str(), &end, base);
    if (errno != 0 || end == s.c_str() || *end != '\0') return std::nullopt;
    return v;
}

std::string octal(unsigned v) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04o", v);
    return buf;
}

// ---------------------------------------------------------------- hostname

Json cmd_hostname() {
    struct utsname u {};
    Json j = Json::object();
    if (::uname(&u) != 0) return errno_obj(errno);
    j.set("hostname", u.nodename);
    j.set("domainname", u.domainname);
    return j;
}

// ---------------------------------------------------------------- mounts

std::string unescape_mount(const std::string& s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '3') {
            int v = (s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0');
            out.push_back(static_cast<char>(v));
            i += 3;
        } else {
            out.push_back(s[i]);
        }
    }
    return out;
}

Json string_array(const std::vector<std::string>& v) {
    Json a = Json::array();
    for (const auto& s : v) a.push(s);
    return a;
}

Json cmd_mounts() {
    Json arr = Json::array();
    auto content = read_file("/proc/self/mountinfo");
    if (!content) return errno_obj(errno);
    for (const auto& l : lines(*content)) {
        auto f = split(l, ' ');
        if (f.size() < 10) continue;
        size_t dash = 6;
        while (dash < f.size() && f[dash] != "-") ++dash;
        if (dash >= f.size()) continue;
        Json m = Json::object();
        m.set("id", std::atoi(f[0].c_str()));
        m.set("parent", std::atoi(f[1].c_str()));
        m.set("dev", f[2]);
        m.set("root", unescape_mount(f[3]));
        m.set("mountpoint", unescape_mount(f[4]));
        m.set("options", string_array(split(f[5], ',')));
        std::vector<std::string> optional(f.begin() + 6, f.begin() + static_cast<long>(dash));
        m.set("optional", string_array(optional));
        bool shared = false, slave = false, unbindable = false;
        for (const auto& o : optional) {
            if (o.rfind("shared:", 0) == 0) shared = true;
            if (o.rfind("master:", 0) == 0) slave = true;
            if (o == "unbindable") unbindable = true;
        }
        std::string prop = "private";
        if (unbindable)
            prop = "unbindable";
        else if (shared && slave)
            prop = "shared+slave";
        else if (shared)
            prop = "shared";
        else if (slave)
            prop = "slave";
        m.set("propagation", prop);
        m.set("fstype", dash + 1 < f.size() ? f[dash + 1] : "");
        m.set("source", dash + 2 < f.size() ? unescape_mount(f[dash + 2]) : "");
        m.set("super_options",
              dash + 3 < f.size() ? string_array(split(f[dash + 3], ',')) : Json::array());
        arr.push(std::move(m));
    }
    Json j = Json::object();
    j.set("mounts", std::move(arr));
    return j;
}

// ---------------------------------------------------------------- caps

Json cap_names(unsigned long long mask) {
    Json a = Json::array();
    for (unsigned i = 0; i < 64; ++i) {
        if (!(mask & (1ULL << i))) continue;
        if (const char* name = berth::oci::cap_name(static_cast<int>(i)))
            a.push(name);
        else
            a.push("CAP_" + std::to_string(i));
    }
    return a;
}

Json cmd_caps() {
    auto st = proc_status();
    Json j = Json::object();
    Json names = Json::object();
    const std::pair<const char*, const char*> sets[] = {
        {"CapInh", "inheritable"}, {"CapPrm", "permitted"}, {"CapEff", "effective"},
        {"CapBnd", "bounding"},    {"CapAmb", "ambient"},
    };
    for (const auto& [key, name] : sets) {
        std::string hex = st.count(key) ? st[key] : "";
        j.set(key, hex);
        auto v = parse_ull(hex, 16);
        names.set(name, v ? cap_names(*v) : Json::array());
    }
    j.set("names", std::move(names));
    j.set("NoNewPrivs", st.count("NoNewPrivs") ? std::atoi(st["NoNewPrivs"].c_str()) : -1);
    j.set("prctl_no_new_privs", ::prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
    return j;
}

// ---------------------------------------------------------------- ids

Json cmd_ids() {
    Json j = Json::object();
    uid_t ruid, euid, suid;
    gid_t rgid, egid, sgid;
    ::getresuid(&ruid, &euid, &suid);
    ::getresgid(&rgid, &egid, &sgid);
    j.set("uid", ruid);
    j.set("euid", euid);
    j.set("suid", suid);
    j.set("gid", rgid);
    j.set("egid", egid);
    j.set("sgid", sgid);
    std::vector<gid_t> groups(static_cast<size_t>(std::max(::getgroups(0, nullptr), 0)) + 1);
    int n = ::getgroups(static_cast<int>(groups.size()), groups.data());
    Json g = Json::array();
    for (int i = 0; i < n; ++i) g.push(groups[static_cast<size_t>(i)]);
    j.set("groups", std::move(g));
    auto st = proc_status();
    unsigned um;
    if (st.count("Umask")) {
        um = static_cast<unsigned>(std::strtoul(st["Umask"].c_str(), nullptr, 8));
    } else {
        mode_t old = ::umask(0);
        ::umask(old);
        um = old;
    }
    j.set("umask", um);
    j.set("umask_octal", octal(um));
    for (const char* f : {"uid_map", "gid_map", "setgroups"}) {
        auto c = read_file(std::string("/proc/self/") + f);
        j.set(f, c ? *c : Json());
    }
    return j;
}

// ---------------------------------------------------------------- rlimits

Json cmd_rlimits() {
    const std::pair<const char*, int> limits[] = {
        {"RLIMIT_CPU", RLIMIT_CPU},           {"RLIMIT_FSIZE", RLIMIT_FSIZE},
        {"RLIMIT_DATA", RLIMIT_DATA},         {"RLIMIT_STACK", RLIMIT_STACK},
        {"RLIMIT_CORE", RLIMIT_CORE},         {"RLIMIT_RSS", RLIMIT_RSS},
        {"RLIMIT_NPROC", RLIMIT_NPROC},       {"RLIMIT_NOFILE", RLIMIT_NOFILE},
        {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},   {"RLIMIT_AS", RLIMIT_AS},
        {"RLIMIT_LOCKS", RLIMIT_LOCKS},       {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
        {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE}, {"RLIMIT_NICE", RLIMIT_NICE},
        {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},     {"RLIMIT_RTTIME", RLIMIT_RTTIME},
    };
    Json j = Json::object();
    for (const auto& [name, res] : limits) {
        struct rlimit rl {};
        if (::getrlimit(static_cast<__rlimit_resource>(res), &rl) != 0) {
            j.set(name, errno_obj(errno));
            continue;
        }
        Json l = Json::object();
        l.set("soft", static_cast<unsigned long long>(rl.rlim_cur));
        l.set("hard", static_cast<unsigned long long>(rl.rlim_max));
        j.set(name, std::move(l));
    }
    return j;
}

// ---------------------------------------------------------------- ns

Json cmd_ns() {
    Json j = Json::object();
    Json raw = Json::object();
    DIR* d = ::opendir("/proc/self/ns");
    if (!d) return errno_obj(errno);
    std::vector<std::string> names;
    while (auto* e = ::readdir(d)) {
        if (e->d_name[0] == '.') continue;
        names.emplace_back(e->d_name);
    }
    ::closedir(d);
    std::sort(names.begin(), names.end());
    for (const auto& n : names) {
        struct stat st {};
        std::string p = "/proc/self/ns/" + n;
        if (::stat(p.c_str(), &st) == 0)
            j.set(n, static_cast<unsigned long long>(st.st_ino));
        else
            j.set(n, Json());
        auto l = readlink_str(p);
        raw.set(n, l ? *l : Json());
    }
    j.set("links", std::move(raw));
    return j;
}

// ---------------------------------------------------------------- seccomp

struct SyscallDef {
    const char* name;
    long nr;
};

const SyscallDef kSyscalls[] = {
    {"getcwd", SYS_getcwd},
    {"mkdir", SYS_mkdir},
    {"mkdirat", SYS_mkdirat},
    {"rmdir", SYS_rmdir},
    {"chmod", SYS_chmod},
    {"fchmod", SYS_fchmod},
    {"fchmodat", SYS_fchmodat},
    {"chown", SYS_chown},
    {"unshare", SYS_unshare},
    {"kill", SYS_kill},
    {"tgkill", SYS_tgkill},
    {"getpid", SYS_getpid},
    {"getppid", SYS_getppid},
    {"getuid", SYS_getuid},
    {"getgid", SYS_getgid},
    {"gettid", SYS_gettid},
    {"uname", SYS_uname},
    {"personality", SYS_personality},
    {"chdir", SYS_chdir},
    {"socket", SYS_socket},
    {"setns", SYS_setns},
    {"sethostname", SYS_sethostname},
    {"setdomainname", SYS_setdomainname},
    {"getpriority", SYS_getpriority},
    {"setpriority", SYS_setpriority},
    {"umask", SYS_umask},
    {"dup", SYS_dup},
    {"close", SYS_close},
    {"sync", SYS_sync},
    {"getrandom", SYS_getrandom},
    {"mknod", SYS_mknod},
    {"acct", SYS_acct},
    {"setuid", SYS_setuid},
    {"setgid", SYS_setgid},
    {"sched_yield", SYS_sched_yield},
    {"getpgrp", SYS_getpgrp},
    {"getsid", SYS_getsid},
    {"ptrace", SYS_ptrace},
    {"keyctl", SYS_keyctl},
    {"syslog", SYS_syslog},
    {"reboot", SYS_reboot},
    {"swapoff", SYS_swapoff},
    {"umount2", SYS_umount2},
    {"pivot_root", SYS_pivot_root},
    {"getdents64", SYS_getdents64},
    {"madvise", SYS_madvise},
    {"prctl", SYS_prctl},
};

struct Probe {
    std::string spec;
    std::string name;
    long nr = -1;
    std::vector<unsigned long> args;
    long ret = 0;
    int err = 0;
};

volatile sig_atomic_t g_trapped = 0;
volatile sig_atomic_t g_trap_syscall = -1;
volatile sig_atomic_t g_trap_errno = 0;

void sigsys_handler(int, siginfo_t* si, void*) {
    g_trapped = 1;
    g_trap_syscall = si->si_syscall;
    g_trap_errno = si->si_errno;
}

char g_path_buf[4096];

void run_probe(Probe& p) {
    auto arg = [&](size_t i, unsigned long dflt) { return i < p.args.size() ? p.args[i] : dflt; };
    errno = 0;
    long r;
    if (p.name == "getcwd") {
        r = ::syscall(SYS_getcwd, g_path_buf, sizeof g_path_buf);
    } else if (p.name == "mkdir") {
        r = ::syscall(SYS_mkdir, "/tmp/.berth-seccomp-mkdir", arg(0, 0755));
        if (r == 0) ::rmdir("/tmp/.berth-seccomp-mkdir");
    } else if (p.name == "mkdirat") {
        r = ::syscall(SYS_mkdirat, AT_FDCWD, "/tmp/.berth-seccomp-mkdir", arg(0, 0755));
        if (r == 0) ::rmdir("/tmp/.berth-seccomp-mkdir");
    } else if (p.name == "chmod" || p.name == "fchmodat") {
        // Re-applies the current mode of /tmp unless a mode argument is given.
        struct stat st {};
        ::stat("/tmp", &st);
        unsigned long mode = arg(0, st.st_mode & 07777);
        if (p.name == "chmod")
            r = ::syscall(SYS_chmod, "/tmp", mode);
        else
            r = ::syscall(SYS_fchmodat, AT_FDCWD, "/tmp", mode, 0);
    } else if (p.name == "chdir") {
        r = ::syscall(SYS_chdir, ".");
    } else if (p.name == "uname") {
        static struct utsname u;
        r = ::syscall(SYS_uname, &u);
    } else if (p.name == "kill") {
        r = ::syscall(SYS_kill, arg(0, static_cast<unsigned long>(::getpid())), arg(1, 0));
    } else if (p.name == "sethostname" || p.name == "setdomainname") {
        struct utsname u {};
        ::uname(&u);
        const char* v = p.name == "sethostname" ? u.nodename : u.domainname;
        r = ::syscall(p.nr, v, std::strlen(v));
    } else if (p.name == "getrandom") {
        r = ::syscall(SYS_getrandom, g_path_buf, 8, 0);
    } else {
        r = ::syscall(p.nr, arg(0, 0), arg(1, 0), arg(2, 0), arg(3, 0), arg(4, 0), arg(5, 0));
    }
    p.ret = r;
    p.err = r < 0 ? errno : 0;
}

void* probe_thread(void* arg) {
    auto* p = static_cast<Probe*>(arg);
    run_probe(*p);
    return reinterpret_cast<void*>(1);
}

Json seccomp_status() {
    auto st = proc_status();
    Json j = Json::object();
    j.set("mode", st.count("Seccomp") ? std::atoi(st["Seccomp"].c_str()) : -1);
    j.set("filters", st.count("Seccomp_filters") ? std::atoi(st["Seccomp_filters"].c_str()) : -1);
    j.set("NoNewPrivs", st.count("NoNewPrivs") ? std::atoi(st["NoNewPrivs"].c_str()) : -1);
    return j;
}

// seccomp [--thread] NAME[:ARG[:ARG...]]...
// Each probe calls the raw syscall; numeric args are parsed with base 0.
// With --thread each probe runs on its own thread so SCMP_ACT_KILL_THREAD can
// be told apart from SCMP_ACT_KILL_PROCESS (the first only kills that thread).
Json cmd_seccomp(const std::vector<std::string>& args) {
    bool threaded = false;
    std::vector<Probe> probes;
    for (const auto& a : args) {
        if (a == "--thread") {
            threaded = true;
            continue;
        }
        Probe p;
        p.spec = a;
        auto parts = split(a, ':');
        p.name = parts[0];
        for (const auto& s : kSyscalls) {
            if (p.name == s.name) p.nr = s.nr;
        }
        if (p.nr < 0) {
            auto n = parse_ll(p.name);
            if (n) p.nr = static_cast<long>(*n);
        }
        for (size_t i = 1; i < parts.size(); ++i) {
            auto v = parse_ll(parts[i]);
            p.args.push_back(v ? static_cast<unsigned long>(*v) : 0);
        }
        probes.push_back(std::move(p));
    }

    struct sigaction sa {};
    sa.sa_sigaction = sigsys_handler;
    sa.sa_flags = SA_SIGINFO;
    ::sigaction(SIGSYS, &sa, nullptr);

    Json results = Json::object();
    for (auto& p : probes) {
        Json r = Json::object();
        if (p.nr < 0) {
            r.set("unknown", true);
            results.set(p.spec, std::move(r));
            continue;
        }
        std::fflush(stdout);
        g_trapped = 0;
        g_trap_syscall = -1;
        bool completed = true;
        if (threaded) {
            pthread_t t;
            void* res = nullptr;
            if (::pthread_create(&t, nullptr, probe_thread, &p) != 0) {
                r.set("thread_error", true);
            } else {
                ::pthread_join(t, &res);
                completed = res == reinterpret_cast<void*>(1);
            }
        } else {
            run_probe(p);
        }
        r.set("completed", completed);
        r.set("ret", p.ret);
        r.set("errno", p.err);
        r.set("error", p.err ? std::strerror(p.err) : "");
        r.set("trapped", g_trapped != 0);
        if (g_trapped) {
            r.set("trap_syscall", static_cast<int>(g_trap_syscall));
            r.set("trap_data", static_cast<int>(g_trap_errno));
        }
        results.set(p.spec, std::move(r));
    }
    Json j = Json::object();
    j.set("status", seccomp_status());
    j.set("results", std::move(results));
    return j;
}

// ---------------------------------------------------------------- devices / stat

std::string file_type(mode_t m) {
    if (S_ISCHR(m)) return "c";
    if (S_ISBLK(m)) return "b";
    if (S_ISDIR(m)) return "d";
    if (S_ISLNK(m)) return "l";
    if (S_ISFIFO(m)) return "p";
    if (S_ISSOCK(m)) return "s";
    return "f";
}

Json stat_obj(const std::string& path, bool follow) {
    struct stat st {};
    int r = follow ? ::stat(path.c_str(), &st) : ::lstat(path.c_str(), &st);
    if (r != 0) return errno_obj(errno);
    Json j = Json::object();
    j.set("type", file_type(st.st_mode));
    j.set("mode", static_cast<unsigned>(st.st_mode & 07777));
    j.set("mode_octal", octal(st.st_mode & 07777));
    j.set("uid", st.st_uid);
    j.set("gid", st.st_gid);
    j.set("size", static_cast<long long>(st.st_size));
    j.set("ino", static_cast<unsigned long long>(st.st_ino));
    j.set("dev_major", major(st.st_dev));
    j.set("dev_minor", minor(st.st_dev));
    if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
        j.set("major", major(st.st_rdev));
        j.set("minor", minor(st.st_rdev));
    }
    if (S_ISLNK(st.st_mode)) {
        auto t = readlink_str(path);
        j.set("target", t ? *t : Json());
    }
    return j;
}

void walk_dev(const std::string& dir, int depth, Json& out) {
    DIR* d = ::opendir(dir.c_str());
    if (!d) return;
    std::vector<std::string> names;
    while (auto* e = ::readdir(d)) {
        std::string n = e->d_name;
        if (n == "." || n == "..") continue;
        names.push_back(n);
    }
    ::closedir(d);
    std::sort(names.begin(), names.end());
    for (const auto& n : names) {
        std::string p = dir + "/" + n;
        Json s = stat_obj(p, false);
        out.set(p, s);
        struct stat st {};
        if (depth > 0 && ::lstat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
            walk_dev(p, depth - 1, out);
    }
}

Json cmd_devices(const std::vector<std::string>& args) {
    Json j = Json::object();
    walk_dev(args.empty() ? "/dev" : args[0], 2, j);
    return j;
}

Json cmd_stat(const std::vector<std::string>& args) {
    Json j = Json::object();
    for (const auto& p : args) {
        Json s = stat_obj(p, false);
        struct statvfs vfs {};
        if (::statvfs(p.c_str(), &vfs) == 0) {
            Json flags = Json::array();
            if (vfs.f_flag & ST_RDONLY) flags.push("ro");
            if (vfs.f_flag & ST_NOSUID) flags.push("nosuid");
            if (vfs.f_flag & ST_NODEV) flags.push("nodev");
            if (vfs.f_flag & ST_NOEXEC) flags.push("noexec");
            if (vfs.f_flag & ST_SYNCHRONOUS) flags.push("sync");
            if (vfs.f_flag & ST_NOATIME) flags.push("noatime");
            if (vfs.f_flag & ST_NODIRATIME) flags.push("nodiratime");
            if (vfs.f_flag & ST_RELATIME) flags.push("relatime");
            if (s.is_object()) {
                s.set("fs_flags", std::move(flags));
                s.set("fs_blocks", static_cast<unsigned long long>(vfs.f_blocks));
                s.set("fs_bsize", static_cast<unsigned long long>(vfs.f_frsize));
            }
        }
        j.set(p, std::move(s));
    }
    return j;
}

Json cmd_ls(const std::vector<std::string>& args) {
    Json j = Json::object();
    for (const auto& p : args) {
        DIR* d = ::opendir(p.c_str());
        if (!d) {
            j.set(p, errno_obj(errno));
            continue;
        }
        std::vector<std::string> names;
        while (auto* e = ::readdir(d)) {
            std::string n = e->d_name;
            if (n != "." && n != "..") names.push_back(n);
        }
        ::closedir(d);
        std::sort(names.begin(), names.end());
        j.set(p, string_array(names));
    }
    return j;
}

// ---------------------------------------------------------------- cgroup

Json cmd_cgroup(const std::vector<std::string>& args) {
    Json j = Json::object();
    Json entries = Json::array();
    auto c = read_file("/proc/self/cgroup");
    if (c) {
        for (const auto& l : lines(*c)) {
            auto first = l.find(':');
            auto second = l.find(':', first + 1);
            if (first == std::string::npos || second == std::string::npos) continue;
            Json e = Json::object();
            e.set("hierarchy", std::atoi(l.substr(0, first).c_str()));
            e.set("controllers", l.substr(first + 1, second - first - 1));
            e.set("path", l.substr(second + 1));
            entries.push(std::move(e));
        }
    }
    j.set("cgroup", std::move(entries));
    const char* known[] = {
        "memory/memory.limit_in_bytes",
        "memory/memory.soft_limit_in_bytes",
        "memory/memory.memsw.limit_in_bytes",
        "memory/memory.swappiness",
        "memory/memory.kmem.limit_in_bytes",
        "memory/memory.oom_control",
        "cpu/cpu.shares",
        "cpu/cpu.cfs_quota_us",
        "cpu/cpu.cfs_period_us",
        "cpu/cpu.rt_runtime_us",
        "cpu/cpu.rt_period_us",
        "cpuset/cpuset.cpus",
        "cpuset/cpuset.mems",
        "pids/pids.max",
        "blkio/blkio.weight",
        "freezer/freezer.state",
        "devices/devices.list",
        "memory.max",
        "memory.high",
        "memory.swap.max",
        "cpu.max",
        "cpu.weight",
        "cpuset.cpus",
        "cpuset.mems",
        "pids.max",
        "cgroup.procs",
    };
    Json files = Json::object();
    for (const char* k : known) {
        auto v = read_file(std::string("/sys/fs/cgroup/") + k);
        if (v) files.set(k, trim(*v));
    }
    for (const auto& p : args) {
        int err = 0;
        auto v = read_file(p, 1 << 20, &err);
        if (v)
            files.set(p, trim(*v));
        else
            files.set(p, errno_obj(err));
    }
    j.set("files", std::move(files));
    return j;
}

// ---------------------------------------------------------------- fds

Json cmd_fds() {
    Json j = Json::object();
    DIR* d = ::opendir("/proc/self/fd");
    if (!d) return errno_obj(errno);
    int self = ::dirfd(d);
    std::vector<int> fds;
    while (auto* e = ::readdir(d)) {
        if (e->d_name[0] == '.') continue;
        int fd = std::atoi(e->d_name);
        if (fd != self) fds.push_back(fd);
    }
    std::sort(fds.begin(), fds.end());
    for (int fd : fds) {
        auto t = readlink_str("/proc/self/fd/" + std::to_string(fd));
        j.set(std::to_string(fd), t ? *t : Json());
    }
    ::closedir(d);
    return j;
}

// ---------------------------------------------------------------- misc

Json cmd_cwd() {
    char buf[4096];
    Json j = Json::object();
    if (!::getcwd(buf, sizeof buf)) return errno_obj(errno);
    j.set("cwd", buf);
    return j;
}

Json cmd_env() {
    Json obj = Json::object();
    Json list = Json::array();
    for (char** e = environ; e && *e; ++e) {
        std::string s = *e;
        list.push(s);
        auto pos = s.find('=');
        if (pos == std::string::npos)
            obj.set(s, "");
        else
            obj.set(s.substr(0, pos), s.substr(pos + 1));
    }
    Json j = Json::object();
    j.set("env", std::move(obj));
    j.set("list", std::move(list));
    return j;
}

Json cmd_sysctl(const std::vector<std::string>& args) {
    Json j = Json::object();
    for (const auto& k : args) {
        std::string path = "/proc/sys/";
        for (char c : k) path.push_back(c == '.' ? '/' : c);
        int err = 0;
        auto v = read_file(path, 1 << 16, &err);
        if (v)
            j.set(k, trim(*v));
        else
            j.set(k, errno_obj(err));
    }
    return j;
}

Json cmd_oom_score_adj() {
    Json j = Json::object();
    auto v = read_file("/proc/self/oom_score_adj");
    j.set("oom_score_adj", v ? std::atoi(v->c_str()) : Json());
    return j;
}

struct SchedAttr {
    uint32_t size;
    uint32_t sched_policy;
    uint64_t sched_flags;
    int32_t sched_nice;
    uint32_t sched_priority;
    uint64_t sched_runtime;
    uint64_t sched_deadline;
    uint64_t sched_period;
    uint32_t sched_util_min;
    uint32_t sched_util_max;
};

std::string policy_name(int p) {
    switch (p & ~SCHED_RESET_ON_FORK) {
        case SCHED_OTHER:
            return "SCHED_OTHER";
        case SCHED_FIFO:
            return "SCHED_FIFO";
        case SCHED_RR:
            return "SCHED_RR";
        case SCHED_BATCH:
            return "SCHED_BATCH";
        case SCHED_IDLE:
            return "SCHED_IDLE";
        case 6:
            return "SCHED_DEADLINE";
        default:
            return "UNKNOWN";
    }
}

Json cmd_sched() {
    Json j = Json::object();
    int pol = ::sched_getscheduler(0);
    j.set("policy_num", pol);
    j.set("policy", policy_name(pol));
    j.set("reset_on_fork", (pol & SCHED_RESET_ON_FORK) != 0);
    struct sched_param sp {};
    ::sched_getparam(0, &sp);
    j.set("priority", sp.sched_priority);
    errno = 0;
    int nice = ::getpriority(PRIO_PROCESS, 0);
    j.set("nice", nice);
    SchedAttr a{};
    if (::syscall(SYS_sched_getattr, 0, &a, sizeof a, 0) == 0) {
        Json attr = Json::object();
        attr.set("policy", policy_name(static_cast<int>(a.sched_policy)));
        attr.set("flags", static_cast<unsigned long long>(a.sched_flags));
        attr.set("nice", a.sched_nice);
        attr.set("priority", a.sched_priority);
        attr.set("runtime", static_cast<unsigned long long>(a.sched_runtime));
        attr.set("deadline", static_cast<unsigned long long>(a.sched_deadline));
        attr.set("period", static_cast<unsigned long long>(a.sched_period));
        j.set("attr", std::move(attr));
    }
    return j;
}

Json cmd_ioprio() {
    Json j = Json::object();
    long r = ::syscall(SYS_ioprio_get, IOPRIO_WHO_PROCESS, 0);
    if (r < 0) return errno_obj(errno);
    int cls = static_cast<int>(IOPRIO_PRIO_CLASS(r));
    int lvl = static_cast<int>(IOPRIO_PRIO_DATA(r));
    const char* names[] = {"IOPRIO_CLASS_NONE", "IOPRIO_CLASS_RT", "IOPRIO_CLASS_BE",
                           "IOPRIO_CLASS_IDLE"};
    j.set("raw", r);
    j.set("class_num", cls);
    j.set("class", cls >= 0 && cls <= 3 ? names[cls] : "UNKNOWN");
    j.set("priority", lvl);
    return j;
}

Json cmd_write(const std::vector<std::string>& args) {
    Json j = Json::object();
    if (args.empty()) return errno_obj(EINVAL);
    std::string data = args.size() > 1 ? args[1] : "berth\n";
    int fd = ::open(args[0].c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        int e = errno;
        j.set("ok", false);
        j.set("stage", "open");
        j.set("errno", e);
        j.set("error", std::strerror(e));
        return j;
    }
    ssize_t n = ::write(fd, data.data(), data.size());
    int e = n < 0 ? errno : 0;
    ::close(fd);
    j.set("ok", n >= 0);
    j.set("stage", "write");
    j.set("errno", e);
    j.set("error", e ? std::strerror(e) : "");
    return j;
}

// open PATH [r|w|rw]: open and close, reporting errno.
Json cmd_open(const std::vector<std::string>& args) {
    Json j = Json::object();
    if (args.empty()) return errno_obj(EINVAL);
    std::string mode = args.size() > 1 ? args[1] : "r";
    int flags = mode == "w" ? O_WRONLY : mode == "rw" ? O_RDWR : O_RDONLY;
    int fd = ::open(args[0].c_str(), flags | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    int e = fd < 0 ? errno : 0;
    if (fd >= 0) ::close(fd);
    j.set("ok", fd >= 0);
    j.set("errno", e);
    j.set("error", e ? std::strerror(e) : "");
    return j;
}

Json cmd_read(const std::vector<std::string>& args) {
    Json j = Json::object();
    for (const auto& p : args) {
        int err = 0;
        auto v = read_file(p, 1 << 16, &err);
        Json r = Json::object();
        r.set("ok", v.has_value());
        r.set("errno", err);
        r.set("data", v ? *v : "");
        j.set(p, std::move(r));
    }
    return j;
}

Json cmd_execve(const std::vector<std::string>& args) {
    Json j = Json::object();
    if (args.empty()) return errno_obj(EINVAL);
    int pfd[2];
    if (::pipe2(pfd, O_CLOEXEC) != 0) return errno_obj(errno);
    pid_t pid = ::fork();
    if (pid == 0) {
        std::vector<char*> av;
        for (const auto& a : args) av.push_back(const_cast<char*>(a.c_str()));
        av.push_back(nullptr);
        int devnull = ::open("/dev/null", O_WRONLY);
        if (devnull >= 0) ::dup2(devnull, 1);
        ::execve(av[0], av.data(), environ);
        int e = errno;
        ssize_t w = ::write(pfd[1], &e, sizeof e);
        (void)w;
        ::_exit(127);
    }
    ::close(pfd[1]);
    int e = 0;
    ssize_t n = ::read(pfd[0], &e, sizeof e);
    ::close(pfd[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    j.set("executed", n == 0);
    j.set("errno", n == sizeof e ? e : 0);
    j.set("error", n == sizeof e ? std::strerror(e) : "");
    j.set("exit_code", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    return j;
}

Json cmd_pid() {
    Json j = Json::object();
    j.set("pid", ::getpid());
    j.set("ppid", ::getppid());
    j.set("pgid", ::getpgrp());
    j.set("sid", ::getsid(0));
    j.set("tid", static_cast<long>(::syscall(SYS_gettid)));
    return j;
}

Json cmd_tty() {
    Json j = Json::object();
    for (int fd = 0; fd < 3; ++fd) {
        Json t = Json::object();
        bool is = ::isatty(fd) != 0;
        t.set("isatty", is);
        if (is) {
            char* n = ::ttyname(fd);
            t.set("name", n ? n : "");
            struct winsize ws {};
            if (::ioctl(fd, TIOCGWINSZ, &ws) == 0) {
                t.set("rows", ws.ws_row);
                t.set("cols", ws.ws_col);
            }
        }
        j.set(std::to_string(fd), std::move(t));
    }
    // Controlling terminal: tty_nr from /proc/self/stat (field 7).
    auto st = read_file("/proc/self/stat");
    if (st) {
        auto close_paren = st->rfind(')');
        if (close_paren != std::string::npos) {
            auto f = split(st->substr(close_paren + 2), ' ');
            if (f.size() > 4) j.set("tty_nr", std::atoll(f[4].c_str()));
        }
    }
    return j;
}

Json cmd_keyring() {
    Json j = Json::object();
    long id = ::syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0);
    if (id < 0) {
        j.set("id", -1);
        j.set("errno", errno);
        return j;
    }
    j.set("id", id);
    char buf[512] = {};
    long n = ::syscall(SYS_keyctl, KEYCTL_DESCRIBE, id, buf, sizeof buf - 1);
    if (n >= 0) {
        std::string desc(buf);
        j.set("describe", desc);
        auto parts = split(desc, ';');
        j.set("description", parts.size() >= 5 ? parts[4] : "");
    }
    return j;
}

Json cmd_netdevs() {
    Json j = Json::object();
    Json names = Json::array();
    auto c = read_file("/proc/net/dev");
    if (!c) return errno_obj(errno);
    auto ls = lines(*c);
    for (size_t i = 2; i < ls.size(); ++i) {
        auto pos = ls[i].find(':');
        if (pos != std::string::npos) names.push(trim(ls[i].substr(0, pos)));
    }
    j.set("interfaces", std::move(names));
    return j;
}

Json cmd_time() {
    Json j = Json::object();
    struct timespec ts {};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    j.set("monotonic", static_cast<long long>(ts.tv_sec));
    ::clock_gettime(CLOCK_BOOTTIME, &ts);
    j.set("boottime", static_cast<long long>(ts.tv_sec));
    auto o = read_file("/proc/self/timens_offsets");
    j.set("timens_offsets", o ? *o : Json());
    return j;
}

Json cmd_affinity() {
    Json j = Json::object();
    cpu_set_t set;
    CPU_ZERO(&set);
    Json cpus = Json::array();
    if (::sched_getaffinity(0, sizeof set, &set) == 0) {
        for (int i = 0; i < CPU_SETSIZE; ++i)
            if (CPU_ISSET(i, &set)) cpus.push(i);
    }
    j.set("cpus", std::move(cpus));
    auto st = proc_status();
    j.set("Cpus_allowed_list", st["Cpus_allowed_list"]);
    j.set("Mems_allowed_list", st["Mems_allowed_list"]);
    return j;
}

Json cmd_status() {
    Json j = Json::object();
    for (const auto& [k, v] : proc_status()) j.set(k, v);
    return j;
}

// alloc MB: maps MB MiB of anonymous memory and writes every page, so it is
// charged to the memory cgroup (an OOM test gets killed here); prints
// {"allocated_mb":MB} only when it survives.
Json cmd_alloc(const std::vector<std::string>& args) {
    size_t mb = args.empty() ? 64 : std::strtoul(args[0].c_str(), nullptr, 10);
    size_t len = mb << 20;
    void* p = ::mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return errno_obj(errno);
    volatile char* bytes = static_cast<volatile char*>(p);
    long page = ::sysconf(_SC_PAGESIZE);
    for (size_t off = 0; off < len; off += static_cast<size_t>(page)) bytes[off] = 1;
    Json j = Json::object();
    j.set("allocated_mb", static_cast<long>(mb));
    return j;
}

volatile sig_atomic_t g_signal = 0;
void record_signal(int sig) {
    g_signal = sig;
}

// sleep SECONDS [SIGNAL_FILE]: catches the usual termination signals (a
// PID-1 process ignores unhandled ones), records the number in SIGNAL_FILE if
// given, and exits 128+N.
int cmd_sleep(const std::vector<std::string>& args) {
    double secs = args.empty() ? 3600 : std::atof(args[0].c_str());
    std::string file = args.size() > 1 ? args[1] : "";
    struct sigaction sa {};
    sa.sa_handler = record_signal;
    for (int s : {SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2, SIGQUIT, SIGWINCH})
        ::sigaction(s, &sa, nullptr);
    struct timespec end {};
    ::clock_gettime(CLOCK_MONOTONIC, &end);
    end.tv_sec += static_cast<time_t>(secs);
    end.tv_nsec += static_cast<long>((secs - static_cast<double>(static_cast<long>(secs))) * 1e9);
    if (end.tv_nsec >= 1000000000L) {
        end.tv_sec++;
        end.tv_nsec -= 1000000000L;
    }
    while (!g_signal) {
        int r = ::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &end, nullptr);
        if (r == 0) break;
    }
    if (g_signal) {
        int sig = g_signal;
        if (!file.empty()) {
            int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
            if (fd >= 0) {
                std::string s = std::to_string(sig) + "\n";
                ssize_t w = ::write(fd, s.data(), s.size());
                (void)w;
                ::close(fd);
            }
        }
        std::printf("{\"signal\":%d}\n", sig);
        std::fflush(stdout);
        return 128 + sig;
    }
    std::printf("{\"slept\":%g}\n", secs);
    return 0;
}

Json cmd_all() {
    Json j = Json::object();
    j.set("hostname", cmd_hostname());
    j.set("mounts", cmd_mounts());
    j.set("caps", cmd_caps());
    j.set("ids", cmd_ids());
    j.set("rlimits", cmd_rlimits());
    j.set("ns", cmd_ns());
    j.set("seccomp", seccomp_status());
    j.set("devices", cmd_devices({}));
    j.set("cgroup", cmd_cgroup({}));
    j.set("fds", cmd_fds());
    j.set("cwd", cmd_cwd());
    j.set("env", cmd_env());
    j.set("oom_score_adj", cmd_oom_score_adj());
    j.set("sched", cmd_sched());
    j.set("ioprio", cmd_ioprio());
    j.set("pid", cmd_pid());
    j.set("tty", cmd_tty());
    j.set("keyring", cmd_keyring());
    j.set("netdevs", cmd_netdevs());
    j.set("affinity", cmd_affinity());
    return j;
}

void usage() {
    std::fprintf(
        stderr,
        "usage: berth-checker <command> [args]\n"
        "commands: hostname mounts caps ids rlimits ns seccomp devices cgroup fds cwd env\n"
        "          sysctl oom_score_adj sched ioprio stat write read open ls execve exit sleep "
        "pid\n"
        "          tty keyring netdevs time affinity status alloc all\n");
}

}  // namespace
}  // namespace checker

int main(int argc, char** argv) {
    using namespace checker;
    if (argc < 2) {
        usage();
        return 2;
    }
    std::string cmd = argv[1];
    std::vector<std::string> args(argv + 2, argv + argc);

    if (cmd == "exit") {
        std::fflush(stdout);
        return args.empty() ? 0 : std::atoi(args[0].c_str());
    }
    if (cmd == "sleep") return cmd_sleep(args);

    static const std::map<std::string, std::function<Json(const std::vector<std::string>&)>>
        commands = {
            {"hostname", [](auto&) { return cmd_hostname(); }},
            {"mounts", [](auto&) { return cmd_mounts(); }},
            {"caps", [](auto&) { return cmd_caps(); }},
            {"ids", [](auto&) { return cmd_ids(); }},
            {"rlimits", [](auto&) { return cmd_rlimits(); }},
            {"ns", [](auto&) { return cmd_ns(); }},
            {"seccomp", [](auto& a) { return cmd_seccomp(a); }},
            {"devices", [](auto& a) { return cmd_devices(a); }},
            {"cgroup", [](auto& a) { return cmd_cgroup(a); }},
            {"fds", [](auto&) { return cmd_fds(); }},
            {"cwd", [](auto&) { return cmd_cwd(); }},
            {"env", [](auto&) { return cmd_env(); }},
            {"sysctl", [](auto& a) { return cmd_sysctl(a); }},
            {"oom_score_adj", [](auto&) { return cmd_oom_score_adj(); }},
            {"sched", [](auto&) { return cmd_sched(); }},
            {"ioprio", [](auto&) { return cmd_ioprio(); }},
            {"stat", [](auto& a) { return cmd_stat(a); }},
            {"write", [](auto& a) { return cmd_write(a); }},
            {"read", [](auto& a) { return cmd_read(a); }},
            {"open", [](auto& a) { return cmd_open(a); }},
            {"ls", [](auto& a) { return cmd_ls(a); }},
            {"execve", [](auto& a) { return cmd_execve(a); }},
            {"pid", [](auto&) { return cmd_pid(); }},
            {"tty", [](auto&) { return cmd_tty(); }},
            {"keyring", [](auto&) { return cmd_keyring(); }},
            {"netdevs", [](auto&) { return cmd_netdevs(); }},
            {"time", [](auto&) { return cmd_time(); }},
            {"affinity", [](auto&) { return cmd_affinity(); }},
            {"status", [](auto&) { return cmd_status(); }},
            {"alloc", [](auto& a) { return cmd_alloc(a); }},
            {"all", [](auto&) { return cmd_all(); }},
        };
    auto it = commands.find(cmd);
    if (it == commands.end()) {
        usage();
        return 2;
    }
    Json out = it->second(args);
    std::string s = out.dump();
    s.push_back('\n');
    std::fwrite(s.data(), 1, s.size(), stdout);
    std::fflush(stdout);
    return 0;
}

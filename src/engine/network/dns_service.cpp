#include "engine/network/dns_service.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/file.h"
#include "base/strings.h"
#include "base/unique_fd.h"
#include "net/dns/records.h"
#include "net/dns/server.h"

namespace berth::engine::network {
namespace {

namespace dns = net::dns;

constexpr int kReadyTimeoutMs = 5000;

Result<UniqueFd> lock_network(const std::string& dir, const std::string& network) {
    BERTH_TRY(mkdir_p(dir, 0700));
    std::string path = dns::lock_path(dir, network);
    UniqueFd fd = BERTH_TRY(open_fd(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    while (::flock(fd.get(), LOCK_EX) != 0) {
        if (errno != EINTR) return ErrnoError() << "flock `" << path << "`";
    }
    return fd;
}

// The pid of the responder holding the network's pid file, 0 when none does.
pid_t running_responder(const std::string& dir, const std::string& network) {
    std::string path = dns::pid_path(dir, network);
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return 0;
    if (::flock(fd.get(), LOCK_SH | LOCK_NB) == 0) return 0;  // nobody holds it
    auto text = read_fd(fd);
    if (!text.ok()) return 0;
    return parse_number<pid_t>(trim(*text)).value_or(0);
}

Result<dns::Records> load_records(const std::string& path) {
    auto text = read_file(path);
    if (!text.ok()) {
        if (text.error().errno_value() == ENOENT) return dns::Records{};
        return text.error();
    }
    return dns::parse_records(*text);
}

Result<void> store_records(const std::string& path, const dns::Records& r) {
    if (r.entries.empty()) {
        if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
            return ErrnoError() << "removing `" << path << "`";
        }
        return {};
    }
    return write_file_atomic(path, dns::format_records(r), 0644);
}

// Starts berth-dns in its own session, stdio on /dev/null, reparented at once (double fork), and
// waits for its ready byte: 'r' bound, 'a' another one already serves, 'e' + why it failed.
Result<void> launch(const std::string& responder, const std::string& dir, const NetworkInfo& n) {
    std::vector<std::string> args = {responder, "--network", n.name,  "--dir",
                                     dir,       "--bridge",  n.bridge};
    for (const auto& s : n.subnets) {
        if (!s.gateway.empty()) args.insert(args.end(), {"--gateway", s.gateway});
    }
    for (const auto& u : n.dns_servers) args.insert(args.end(), {"--upstream", u});
    args.insert(args.end(), {"--ready-fd", "3"});
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);

    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return ErrnoError() << "pipe2";
    UniqueFd ready(fds[0]), ready_w(fds[1]);
    pid_t child = ::fork();
    if (child < 0) return ErrnoError() << "fork";
    if (child == 0) {
        ::setsid();
        if (::fork() != 0) ::_exit(0);
        if (::chdir("/") != 0) ::_exit(127);  // holds no directory of the caller's
        // The responder: nothing of ours but the ready pipe.
        if (::dup2(ready_w.get(), 3) != 3) ::_exit(127);
        int null = ::open("/dev/null", O_RDWR);
        for (int i = 0; i < 3; ++i) ::dup2(null, i);
        ::close_range(4, ~0U, 0);
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        for (int sig : {SIGHUP, SIGTERM, SIGINT, SIGPIPE}) ::signal(sig, SIG_DFL);
        ::execv(argv[0], argv.data());
        ::_exit(127);
    }
    ready_w.reset();
    int status = 0;
    while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    pollfd p{ready.get(), POLLIN, 0};
    int n_ready = ::poll(&p, 1, kReadyTimeoutMs);
    if (n_ready <= 0) return Error(ETIMEDOUT) << "`" << responder << "` did not get ready";
    char buf[1024];
    ssize_t got = ::read(ready.get(), buf, sizeof(buf));
    if (got > 0 && (buf[0] == 'r' || buf[0] == 'a')) return {};
    std::string why = got > 1 && buf[0] == 'e' ? std::string(buf + 1, size_t(got - 1))
                                               : std::string("exited before it was ready");
    return Error(EIO) << "`" << responder << "` for network " << n.name << ": " << why;
}

void stop_responder(const std::string& dir, const std::string& network) {
    pid_t pid = running_responder(dir, network);
    if (pid <= 0) return;
    ::kill(pid, SIGTERM);
    for (int i = 0; i < 100 && running_responder(dir, network) > 0; ++i) ::usleep(20'000);
}

std::vector<std::string> files_with_suffix(const std::string& dir, std::string_view suffix) {
    std::vector<std::string> out;
    DIR* d = ::opendir(dir.c_str());
    if (!d) return out;
    while (struct dirent* e = ::readdir(d)) {
        std::string name = e->d_name;
        if (name.size() > suffix.size() && name.ends_with(suffix)) {
            out.push_back(name.substr(0, name.size() - suffix.size()));
        }
    }
    ::closedir(d);
    return out;
}

}  // namespace

std::string dns_dir(const std::string& runroot) {
    return path_join(runroot, "dns");
}

Result<void> dns_add(const std::string& runroot, const NetworkInfo& network,
                     const DnsMember& member, const std::string& responder) {
    std::string dir = dns_dir(runroot);
    UniqueFd lock = BERTH_TRY(lock_network(dir, network.name));
    std::string path = dns::records_path(dir, network.name);
    dns::Records records = BERTH_TRY(load_records(path));
    dns::Entry e;
    e.id = member.id;
    e.names = member.names;
    for (const auto& a : member.addresses) {
        auto addr = dns::parse_address(a.substr(0, a.find('/')));
        if (!addr) return Error(EINVAL) << "DNS entry of " << member.id << ": bad address " << a;
        e.addresses.push_back(*addr);
    }
    records.put(std::move(e));
    BERTH_TRY(store_records(path, records));
    if (pid_t pid = running_responder(dir, network.name); pid > 0) {
        ::kill(pid, SIGHUP);
        return {};
    }
    return launch(responder, dir, network);
}

Result<void> dns_remove(const std::string& runroot, const std::string& network,
                        const std::string& id) {
    std::string dir = dns_dir(runroot);
    std::string path = dns::records_path(dir, network);
    if (!path_exists(path)) return {};
    UniqueFd lock = BERTH_TRY(lock_network(dir, network));
    dns::Records records = BERTH_TRY(load_records(path));
    if (!records.remove(id)) return {};
    BERTH_TRY(store_records(path, records));
    // With no entry left it takes the lock (after us), sees nothing, and exits.
    if (pid_t pid = running_responder(dir, network); pid > 0) ::kill(pid, SIGHUP);
    return {};
}

Result<bool> dns_revive(const std::string& runroot, const NetworkInfo& network,
                        const std::string& responder) {
    std::string dir = dns_dir(runroot);
    std::string path = dns::records_path(dir, network.name);
    if (!path_exists(path)) return false;
    UniqueFd lock = BERTH_TRY(lock_network(dir, network.name));
    dns::Records records = BERTH_TRY(load_records(path));
    if (records.entries.empty() || running_responder(dir, network.name) > 0) return false;
    BERTH_TRY(launch(responder, dir, network));
    return true;
}

Result<void> dns_stop(const std::string& runroot, const std::string& network) {
    std::string dir = dns_dir(runroot);
    if (!is_directory(dir)) return {};
    {
        UniqueFd lock = BERTH_TRY(lock_network(dir, network));
        std::string path = dns::records_path(dir, network);
        if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
            return ErrnoError() << "removing `" << path << "`";
        }
    }
    stop_responder(dir, network);
    return {};
}

Result<std::vector<std::string>> dns_gc(const std::string& runroot,
                                        const std::set<std::string>& live) {
    std::vector<std::string> out;
    std::string dir = dns_dir(runroot);
    if (!is_directory(dir)) return out;
    for (const auto& network : files_with_suffix(dir, ".records")) {
        UniqueFd lock = BERTH_TRY(lock_network(dir, network));
        std::string path = dns::records_path(dir, network);
        auto records = load_records(path);
        if (!records.ok()) {
            records = dns::Records{};  // unreadable: nothing in it can be trusted
            out.push_back("dns records " + path + " (unreadable)");
        }
        dns::Records kept;
        for (auto& e : records->entries) {
            if (live.count(e.id)) {
                kept.entries.push_back(e);
            } else {
                out.push_back("dns entry " + network + "/" + e.id);
            }
        }
        if (kept.entries.size() == records->entries.size()) continue;
        BERTH_TRY(store_records(path, kept));
        if (pid_t pid = running_responder(dir, network); pid > 0) ::kill(pid, SIGHUP);
    }
    // Responders with nothing to serve, and the pid files of those killed. (Lock files stay:
    // unlinking one could let two processes lock different files of the same name.)
    for (const auto& network : files_with_suffix(dir, ".pid")) {
        if (path_exists(dns::records_path(dir, network))) continue;
        if (running_responder(dir, network) > 0) {
            stop_responder(dir, network);
            out.push_back("dns responder of " + network);
        }
        UniqueFd lock = BERTH_TRY(lock_network(dir, network));
        if (running_responder(dir, network) == 0) ::unlink(dns::pid_path(dir, network).c_str());
    }
    return out;
}

std::vector<std::string> host_search_domains(const std::string& resolv_text) {
    std::vector<std::string> out;
    for (const auto& raw : split(resolv_text, '\n')) {
        std::vector<std::string> words;
        for (const auto& w : split(raw, ' ')) {
            for (const auto& t : split(w, '\t')) {
                if (!t.empty()) words.push_back(t);
            }
        }
        if (words.size() >= 2 && (words[0] == "search" || words[0] == "domain")) {
            out.assign(words.begin() + 1, words.end());
        }
    }
    if (out.size() == 1 && out[0] == ".") out.clear();
    return out;
}

std::vector<std::string> dns_servers_of(const NetworkInfo& network) {
    std::vector<std::string> v4, v6;
    if (!network.dns_enabled) return {};
    for (const auto& s : network.subnets) {
        if (s.gateway.empty()) continue;
        (s.gateway.find(':') == std::string::npos ? v4 : v6).push_back(s.gateway);
    }
    return v4.empty() ? v6 : v4;
}

}  // namespace berth::engine::network

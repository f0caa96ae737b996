#include "net/dns/server.h"

#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cstring>
#include <map>

#include "base/file.h"
#include "base/log.h"
#include "base/unique_fd.h"
#include "net/dns/message.h"
#include "net/dns/resolver.h"

namespace berth::net::dns {
namespace {

constexpr int kUpstreamTimeoutMs = 2000;
constexpr size_t kMaxPending = 512;
constexpr int kStatIntervalMs = 1000;

uint64_t now_ms() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return uint64_t(ts.tv_sec) * 1000 + uint64_t(ts.tv_nsec) / 1'000'000;
}

uint16_t random_id() {
    uint16_t v = 0;
    if (::getrandom(&v, sizeof(v), 0) != sizeof(v)) v = uint16_t(now_ms() * 2654435761u >> 7);
    return v;
}

// Where a query arrived: the reply leaves from there.
struct Source {
    int family = 0;
    in_pktinfo v4{};
    in6_pktinfo v6{};
    bool known = false;
};

struct Peer {
    sockaddr_storage addr{};
    socklen_t len = 0;
};

struct Pending {
    UniqueFd fd;        // connected to upstreams[upstream]
    int listener = -1;  // the socket the query came in on
    Peer client;
    Source source;
    uint16_t client_id = 0, our_id = 0;
    std::vector<uint8_t> query;  // with our id
    Question question;
    size_t upstream = 0;
    uint64_t deadline = 0;
};

struct FileStamp {
    bool exists = false;
    dev_t dev = 0;
    ino_t ino = 0;
    off_t size = 0;
    timespec mtime{};

    bool operator==(const FileStamp& o) const {
        return exists == o.exists && dev == o.dev && ino == o.ino && size == o.size &&
               mtime.tv_sec == o.mtime.tv_sec && mtime.tv_nsec == o.mtime.tv_nsec;
    }
};

FileStamp stamp_of(const std::string& path) {
    FileStamp s;
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return s;
    s.exists = true;
    s.dev = st.st_dev;
    s.ino = st.st_ino;
    s.size = st.st_size;
    s.mtime = st.st_mtim;
    return s;
}

sockaddr_storage sockaddr_of(const Address& a, uint16_t port, socklen_t& len) {
    sockaddr_storage ss{};
    if (a.family == AF_INET) {
        auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
        sin->sin_family = AF_INET;
        sin->sin_port = htons(port);
        std::memcpy(&sin->sin_addr, a.bytes, 4);
        len = sizeof(sockaddr_in);
    } else {
        auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(port);
        std::memcpy(&sin6->sin6_addr, a.bytes, 16);
        len = sizeof(sockaddr_in6);
    }
    return ss;
}

Result<void> set_int(int fd, int level, int name, int value, const char* what) {
    if (::setsockopt(fd, level, name, &value, sizeof(value)) != 0) {
        return ErrnoError() << "setsockopt " << what;
    }
    return {};
}

// A UDP socket on `bridge` receiving the destination of each datagram, bound to `addr`:53.
Result<UniqueFd> listen_socket(const std::string& bridge, const Address& addr, uint16_t port) {
    UniqueFd fd(::socket(addr.family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd) return ErrnoError() << "socket";
    if (::setsockopt(fd.get(), SOL_SOCKET, SO_BINDTODEVICE, bridge.c_str(),
                     socklen_t(bridge.size() + 1)) != 0) {
        return ErrnoError() << "SO_BINDTODEVICE `" << bridge << "`";
    }
    if (addr.family == AF_INET) {
        BERTH_TRY(set_int(fd.get(), IPPROTO_IP, IP_PKTINFO, 1, "IP_PKTINFO"));
        BERTH_TRY(set_int(fd.get(), IPPROTO_IP, IP_FREEBIND, 1, "IP_FREEBIND"));
    } else {
        BERTH_TRY(set_int(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, 1, "IPV6_V6ONLY"));
        BERTH_TRY(set_int(fd.get(), IPPROTO_IPV6, IPV6_RECVPKTINFO, 1, "IPV6_RECVPKTINFO"));
        // A fresh bridge's IPv6 gateway may still be tentative (DAD).
        BERTH_TRY(set_int(fd.get(), IPPROTO_IPV6, IPV6_FREEBIND, 1, "IPV6_FREEBIND"));
    }
    socklen_t len = 0;
    sockaddr_storage ss = sockaddr_of(addr, port, len);
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0) {
        return ErrnoError() << "bind " << addr.str() << " port " << port;
    }
    return fd;
}

class Server {
  public:
    explicit Server(const ServerOptions& o) : o_(o) {}

    Result<int> run();

  private:
    Result<void> open_listeners();
    Result<void> add_to_epoll(int fd);
    void load_upstreams();
    // Reloads the records when the file changed (or `force`); false when it is time to exit.
    bool reload(bool force);
    bool exit_if_empty();
    void on_query(int listener);
    void on_upstream(int fd);
    void forward(Pending p);
    bool send_to_upstream(Pending& p);
    void finish(Pending& p, std::span<const uint8_t> reply);
    void expire();
    int next_timeout() const;
    void send_reply(int listener, const Peer& to, const Source& src,
                    std::span<const uint8_t> reply);

    const ServerOptions& o_;
    UniqueFd epoll_, signals_, pid_fd_;
    std::vector<UniqueFd> listeners_;
    std::vector<Address> upstreams_, own_;
    std::map<int, Pending> pending_;
    Records records_;
    FileStamp stamp_;
    uint64_t next_stat_ = 0;
};

Result<void> Server::add_to_epoll(int fd) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) != 0) return ErrnoError() << "epoll_ctl";
    return {};
}

Result<void> Server::open_listeners() {
    bool want_v4 = o_.gateways.empty(), want_v6 = false;
    for (const auto& g : o_.gateways) {
        auto a = parse_address(g);
        if (!a) return Error(EINVAL) << "--gateway `" << g << "`: not an IP address";
        own_.push_back(*a);
        (a->family == AF_INET ? want_v4 : want_v6) = true;
    }
    for (int family : {AF_INET, AF_INET6}) {
        if (!(family == AF_INET ? want_v4 : want_v6)) continue;
        Address any;
        any.family = family;
        auto fd = listen_socket(o_.bridge, any, o_.port);
        if (fd.ok()) {
            listeners_.push_back(std::move(*fd));
            continue;
        }
        if (fd.error().errno_value() != EADDRINUSE) return fd.error();
        // Another server has the wildcard port: the gateways only.
        for (const auto& g : own_) {
            if (g.family != family) continue;
            listeners_.push_back(BERTH_TRY(listen_socket(o_.bridge, g, o_.port)));
        }
    }
    for (const auto& l : listeners_) BERTH_TRY(add_to_epoll(l.get()));
    return {};
}

void Server::load_upstreams() {
    upstreams_.clear();
    std::vector<Address> list;
    if (!o_.upstreams.empty()) {
        for (const auto& u : o_.upstreams) {
            if (auto a = parse_address(u)) list.push_back(*a);
        }
    } else if (auto text = read_file(o_.resolv_conf); text.ok()) {
        list = resolv_conf_nameservers(*text);
    }
    for (const auto& a : list) {
        bool ours = false;
        for (const auto& g : own_) ours = ours || g == a;
        if (!ours) upstreams_.push_back(a);  // never to ourselves: that would loop
    }
}

bool Server::reload(bool force) {
    std::string path = records_path(o_.dir, o_.network);
    FileStamp s = stamp_of(path);
    if (!force && s == stamp_) return true;
    stamp_ = s;
    if (o_.upstreams.empty()) load_upstreams();
    auto text = read_file(path);
    if (!text.ok()) {
        records_ = {};
    } else if (auto r = parse_records(*text); r.ok()) {
        records_ = std::move(*r);
    } else {
        log::warn(r.error().what());  // keep what we had
    }
    return records_.entries.empty() ? !exit_if_empty() : true;
}

// Under the engine's lock: a final look, then the pid file goes before the lock is released.
bool Server::exit_if_empty() {
    std::string lock = lock_path(o_.dir, o_.network);
    UniqueFd fd(::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (fd) {
        while (::flock(fd.get(), LOCK_EX) != 0 && errno == EINTR) {
        }
    }
    auto text = read_file(records_path(o_.dir, o_.network));
    if (text.ok()) {
        if (auto r = parse_records(*text); r.ok() && !r->entries.empty()) {
            records_ = std::move(*r);
            return false;
        }
    }
    ::unlink(pid_path(o_.dir, o_.network).c_str());
    pid_fd_.reset();
    return true;
}

void Server::send_reply(int listener, const Peer& to, const Source& src,
                        std::span<const uint8_t> reply) {
    if (reply.empty()) return;
    iovec iov{const_cast<uint8_t*>(reply.data()), reply.size()};
    msghdr mh{};
    mh.msg_name = const_cast<sockaddr_storage*>(&to.addr);
    mh.msg_namelen = to.len;
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(in6_pktinfo))] = {};
    if (src.known) {
        mh.msg_control = control;
        cmsghdr* c = reinterpret_cast<cmsghdr*>(control);
        if (src.family == AF_INET) {
            // From the address the query was sent to (ipi_spec_dst as received: the header's
            // destination for unicast); the device is the socket's.
            in_pktinfo pi{};
            pi.ipi_spec_dst = src.v4.ipi_spec_dst;
            mh.msg_controllen = CMSG_SPACE(sizeof(pi));
            c->cmsg_level = IPPROTO_IP;
            c->cmsg_type = IP_PKTINFO;
            c->cmsg_len = CMSG_LEN(sizeof(pi));
            std::memcpy(CMSG_DATA(c), &pi, sizeof(pi));
        } else {
            in6_pktinfo pi = src.v6;
            mh.msg_controllen = CMSG_SPACE(sizeof(pi));
            c->cmsg_level = IPPROTO_IPV6;
            c->cmsg_type = IPV6_PKTINFO;
            c->cmsg_len = CMSG_LEN(sizeof(pi));
            std::memcpy(CMSG_DATA(c), &pi, sizeof(pi));
        }
    }
    (void)::sendmsg(listener, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
}

void Server::on_query(int listener) {
    uint8_t buf[4096];
    for (int n = 0; n < 64; ++n) {  // a burst at a time, then the others get their turn
        Peer from;
        from.len = sizeof(from.addr);
        iovec iov{buf, sizeof(buf)};
        alignas(cmsghdr) char control[256];
        msghdr mh{};
        mh.msg_name = &from.addr;
        mh.msg_namelen = from.len;
        mh.msg_iov = &iov;
        mh.msg_iovlen = 1;
        mh.msg_control = control;
        mh.msg_controllen = sizeof(control);
        ssize_t got = ::recvmsg(listener, &mh, MSG_DONTWAIT);
        if (got < 0) return;
        if (mh.msg_flags & MSG_TRUNC) continue;  // over 4096 bytes: no honest query
        from.len = mh.msg_namelen;
        Source src;
        for (cmsghdr* c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
            if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
                std::memcpy(&src.v4, CMSG_DATA(c), sizeof(src.v4));
                src.family = AF_INET;
                src.known = true;
            } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
                std::memcpy(&src.v6, CMSG_DATA(c), sizeof(src.v6));
                src.family = AF_INET6;
                src.known = true;
            }
        }
        std::span<const uint8_t> query(buf, size_t(got));
        Decision d = resolve(records_, query);
        if (d.action == Action::reply) {
            send_reply(listener, from, src, d.reply);
        } else if (d.action == Action::forward) {
            Pending p;
            auto msg = parse_message(query, false);
            if (!msg.ok() || msg->questions.size() != 1) continue;
            p.question = msg->questions.front();
            p.listener = listener;
            p.client = from;
            p.source = src;
            p.client_id = msg->header.id;
            p.query.assign(query.begin(), query.end());
            forward(std::move(p));
        }
    }
}

bool Server::send_to_upstream(Pending& p) {
    while (p.upstream < upstreams_.size()) {
        const Address& up = upstreams_[p.upstream];
        UniqueFd fd(::socket(up.family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
        socklen_t len = 0;
        sockaddr_storage to = sockaddr_of(up, 53, len);
        if (fd && ::connect(fd.get(), reinterpret_cast<sockaddr*>(&to), len) == 0 &&
            ::send(fd.get(), p.query.data(), p.query.size(), MSG_NOSIGNAL) ==
                ssize_t(p.query.size()) &&
            add_to_epoll(fd.get()).ok()) {
            p.fd = std::move(fd);
            p.deadline = now_ms() + kUpstreamTimeoutMs;
            return true;
        }
        ++p.upstream;
    }
    return false;
}

void Server::forward(Pending p) {
    if (pending_.size() >= kMaxPending) return;  // the client retries
    p.our_id = random_id();
    p.query[0] = uint8_t(p.our_id >> 8);
    p.query[1] = uint8_t(p.our_id);
    if (!send_to_upstream(p)) {
        auto reply = error_reply(p.query, kServFail);
        finish(p, reply);
        return;
    }
    int fd = p.fd.get();
    pending_.emplace(fd, std::move(p));
}

// The reply to the client, with its own id.
void Server::finish(Pending& p, std::span<const uint8_t> reply) {
    if (reply.size() < kHeaderSize) return;
    std::vector<uint8_t> out(reply.begin(), reply.end());
    out[0] = uint8_t(p.client_id >> 8);
    out[1] = uint8_t(p.client_id);
    send_reply(p.listener, p.client, p.source, out);
}

void Server::on_upstream(int fd) {
    auto it = pending_.find(fd);
    if (it == pending_.end()) return;
    Pending& p = it->second;
    uint8_t buf[65536];
    ssize_t got = ::recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
    if (got < 0) {
        if (errno == EAGAIN || errno == EINTR) return;
        // ECONNREFUSED and the like: the next upstream now.
        (void)::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
        Pending moved = std::move(p);
        pending_.erase(it);
        moved.fd.reset();
        ++moved.upstream;
        if (send_to_upstream(moved)) {
            int nfd = moved.fd.get();
            pending_.emplace(nfd, std::move(moved));
        } else {
            finish(moved, error_reply(moved.query, kServFail));
        }
        return;
    }
    std::span<const uint8_t> reply(buf, size_t(got));
    auto msg = parse_message(reply, false);
    if (!msg.ok() || !msg->header.qr() || msg->header.id != p.our_id) return;
    if (msg->questions.size() != 1) return;
    const Question& q = msg->questions.front();
    if (lower(q.name) != lower(p.question.name) || q.type != p.question.type ||
        q.klass != p.question.klass) {
        return;
    }
    finish(p, reply);
    (void)::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
    pending_.erase(it);
}

void Server::expire() {
    uint64_t now = now_ms();
    std::vector<int> late;
    for (auto& [fd, p] : pending_) {
        if (p.deadline <= now) late.push_back(fd);
    }
    for (int fd : late) {
        auto node = pending_.extract(fd);
        Pending& p = node.mapped();
        (void)::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
        p.fd.reset();
        ++p.upstream;
        if (send_to_upstream(p)) {
            int nfd = p.fd.get();
            pending_.emplace(nfd, std::move(p));
        } else {
            finish(p, error_reply(p.query, kServFail));
        }
    }
}

int Server::next_timeout() const {
    uint64_t now = now_ms();
    uint64_t until = next_stat_;
    for (const auto& [fd, p] : pending_) until = std::min(until, p.deadline);
    return until <= now ? 0 : int(until - now);
}

Result<int> Server::run() {
    BERTH_TRY(mkdir_p(o_.dir, 0700));
    std::string pid = pid_path(o_.dir, o_.network);
    pid_fd_ = BERTH_TRY(open_fd(pid, O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (::flock(pid_fd_.get(), LOCK_EX | LOCK_NB) != 0) {
        if (errno != EWOULDBLOCK) return ErrnoError() << "flock `" << pid << "`";
        if (o_.ready_fd >= 0) (void)!::write(o_.ready_fd, "a", 1);
        return 0;  // another responder serves this network
    }
    std::string text = std::to_string(::getpid()) + "\n";
    if (::ftruncate(pid_fd_.get(), 0) != 0 ||
        ::pwrite(pid_fd_.get(), text.data(), text.size(), 0) != ssize_t(text.size())) {
        return ErrnoError() << "writing `" << pid << "`";
    }

    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGHUP);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    ::sigprocmask(SIG_BLOCK, &mask, nullptr);
    ::signal(SIGPIPE, SIG_IGN);
    signals_.reset(::signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC));
    if (!signals_) return ErrnoError() << "signalfd";
    epoll_.reset(::epoll_create1(EPOLL_CLOEXEC));
    if (!epoll_) return ErrnoError() << "epoll_create1";
    BERTH_TRY(add_to_epoll(signals_.get()));
    BERTH_TRY(open_listeners());
    load_upstreams();
    stamp_ = stamp_of(records_path(o_.dir, o_.network));
    if (auto t = read_file(records_path(o_.dir, o_.network)); t.ok()) {
        if (auto r = parse_records(*t); r.ok()) records_ = std::move(*r);
    }
    if (o_.ready_fd >= 0) {
        (void)!::write(o_.ready_fd, "r", 1);
        ::close(o_.ready_fd);
    }
    next_stat_ = now_ms() + kStatIntervalMs;
    for (;;) {
        epoll_event events[32];
        int n = ::epoll_wait(epoll_.get(), events, 32, next_timeout());
        if (n < 0 && errno != EINTR) return ErrnoError() << "epoll_wait";
        bool hup = false;
        for (int i = 0; i < n; ++i) {
            int fd = events[i].data.fd;
            if (fd == signals_.get()) {
                signalfd_siginfo si{};
                while (::read(fd, &si, sizeof(si)) == ssize_t(sizeof(si))) {
                    if (si.ssi_signo == SIGHUP) {
                        hup = true;
                    } else {
                        ::unlink(pid.c_str());
                        return 0;
                    }
                }
            } else if (pending_.count(fd)) {
                on_upstream(fd);
            } else {
                on_query(fd);
            }
        }
        expire();
        if (hup || now_ms() >= next_stat_) {
            if (!reload(hup)) return 0;
            next_stat_ = now_ms() + kStatIntervalMs;
        }
    }
}

}  // namespace

std::string records_path(const std::string& dir, const std::string& network) {
    return path_join(dir, network + ".records");
}

std::string pid_path(const std::string& dir, const std::string& network) {
    return path_join(dir, network + ".pid");
}

std::string lock_path(const std::string& dir, const std::string& network) {
    return path_join(dir, network + ".lock");
}

Result<int> run_server(const ServerOptions& options) {
    Server s(options);
    return s.run();
}

}  // namespace berth::net::dns

#include "engine/monitor/monitor.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/fd_passing.h"
#include "base/file.h"
#include "base/log.h"
#include "base/signals.h"
#include "base/strings.h"
#include "base/syscalls.h"
#include "engine/monitor/unix_socket.h"

namespace berth::monitor {

namespace {

uint64_t monotonic_ms() {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000 + static_cast<uint64_t>(ts.tv_nsec) / 1000000;
}

Result<void> set_nonblocking(int fd) {
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) return ErrnoError() << "fcntl";
    return {};
}

}  // namespace

Monitor::Monitor(Options options)
    : options_(std::move(options)),
      runtime_(options_.runtime, options_.runtime_root, path_join(options_.task_dir, kRuntimeLog),
               &saved_signals_),
      backoff_(options_.backoff_base_ms, options_.backoff_max_ms, options_.backoff_reset_ms) {}

std::string Monitor::task_path(const char* name) const {
    return path_join(options_.task_dir, name);
}

void Monitor::save_state() {
    auto r = write_task_state(task_path(kTaskFile), state_);
    if (!r) log::error(r.error().what());
}

void Monitor::report_ready(const std::string& json) {
    if (options_.ready_fd < 0) return;
    (void)write_all(options_.ready_fd, json);
    ::close(options_.ready_fd);
    options_.ready_fd = -1;
}

Result<void> Monitor::setup() {
    if (int err = init::become_subreaper(); err != 0)
        return Error::from_errno(err) << "PR_SET_CHILD_SUBREAPER";
    if (int err = init::block_signals(saved_signals_); err != 0)
        return Error::from_errno(err) << "blocking signals";
    signal_fd_.reset(init::open_signalfd());
    if (!signal_fd_) return ErrnoError() << "signalfd";
    timer_fd_.reset(timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK));
    if (!timer_fd_) return ErrnoError() << "timerfd_create";

    BERTH_TRY(mkdir_p(options_.task_dir, 0700));
    state_.id = options_.id;
    state_.monitor_pid = getpid();
    state_.monitor_start_time = process_start_time(state_.monitor_pid);
    state_.restart_policy = restart_policy_string(options_.restart);
    state_.log_path = options_.log_path;
    if (!options_.log_path.empty()) {
        BERTH_TRY(mkdir_p(path_dirname(options_.log_path)));
        log_ = BERTH_TRY(
            CriLog::open(options_.log_path, options_.log_max_size, options_.log_max_files));
    }
    attach_ = BERTH_TRY(AttachServer::listen(task_path(kAttachSocket)));
    if (options_.attach_fd >= 0) {
        UniqueFd client(options_.attach_fd);
        options_.attach_fd = -1;
        BERTH_TRY_CTX(set_nonblocking(client.get()), "--attach-fd");
        attach_->add_reliable_client(std::move(client));
    }
    console_rows_ = options_.console_rows;
    console_cols_ = options_.console_cols;
    control_ = BERTH_TRY(listen_unix(task_path(kControlSocket), SOCK_SEQPACKET));
    return {};
}

// `<runtime> create`: with pipes the container inherits create's stdio; with a terminal the
// runtime connects to console.sock during create and hands over the pty master.
Result<pid_t> Monitor::create_task() {
    out_fd_.reset();
    err_fd_.reset();
    stdin_fd_.reset();
    stdin_pending_.clear();
    stdin_closing_ = false;
    FdPair out, err, in;
    UniqueFd console;
    std::vector<std::string> args = {"create", "--bundle", options_.bundle, "--pid-file",
                                     task_path(kPidFile)};
    UniqueFd task_dir_fd;
    if (options_.terminal) {
        console = BERTH_TRY(listen_unix(task_path(kConsoleSocket), SOCK_STREAM));
        std::string console_path = task_path(kConsoleSocket);
        if (console_path.size() >= sizeof(sockaddr_un::sun_path)) {
            // Too long for the runtime's connect: the task dir through our fd table instead.
            task_dir_fd = BERTH_TRY(open_fd(options_.task_dir, O_PATH | O_DIRECTORY));
            console_path = "/proc/" + std::to_string(getpid()) + "/fd/" +
                           std::to_string(task_dir_fd.get()) + "/" + kConsoleSocket;
        }
        args.push_back("--console-socket");
        args.push_back(console_path);
    } else {
        out = BERTH_TRY(make_pipe());
        err = BERTH_TRY(make_pipe());
        if (options_.stdin_pipe) in = BERTH_TRY(make_pipe());
    }
    args.push_back(options_.id);
    ::unlink(task_path(kPidFile).c_str());

    const size_t log_offset = runtime_.log_offset();
    pid_t pid =
        BERTH_TRY(runtime_.spawn(args, {in.first.get(), out.second.get(), err.second.get()}));
    in.first.reset();
    out.second.reset();
    err.second.reset();

    UniqueFd master;
    if (options_.terminal) {
        // Accept the runtime's connection while it runs; its exit ends the wait.
        UniqueFd pidfd(sys::pidfd_open(pid));
        for (;;) {
            struct pollfd fds[2] = {{console.get(), POLLIN, 0}, {pidfd.get(), POLLIN, 0}};
            int n = ::poll(fds, pidfd ? 2 : 1, pidfd ? -1 : 100);
            if (n < 0 && errno != EINTR) break;
            if (fds[0].revents & POLLIN) {
                auto conn = accept_unix(console);
                if (conn.ok() && conn->valid()) {
                    int fl = fcntl(conn->get(), F_GETFL);
                    fcntl(conn->get(), F_SETFL, fl & ~O_NONBLOCK);
                    char name[256];
                    struct iovec iov = {name, sizeof(name)};
                    auto got = receive_with_fd(*conn, &iov, 1, &master);
                    if (got.ok() && master) break;
                }
            }
            if (pidfd && (fds[1].revents & POLLIN)) break;
            if (!pidfd) {
                int status;
                if (::waitpid(pid, &status, WNOHANG) == pid) {
                    pid = -1;  // reaped here already
                    break;
                }
            }
        }
        console.reset();
        ::unlink(task_path(kConsoleSocket).c_str());
    }
    if (pid > 0) {
        auto waited = runtime_.wait(pid, "create", log_offset);
        if (!waited) {
            // Whatever the runtime printed before its log was open went to the container's stderr.
            Error e = std::move(waited).error();
            if (err.first) {
                (void)set_nonblocking(err.first.get());
                char buf[1024];
                ssize_t n = ::read(err.first.get(), buf, sizeof(buf));
                if (n > 0)
                    e << " (stderr: " << trim(std::string_view(buf, static_cast<size_t>(n))) << ")";
            }
            return e;
        }
    }
    if (options_.terminal) {
        if (!master) return Error(EIO) << "the runtime sent no pty master on the console socket";
        if (options_.stdin_pipe) {
            stdin_fd_.reset(fcntl(master.get(), F_DUPFD_CLOEXEC, 3));
            if (!stdin_fd_) return ErrnoError() << "dup pty master";
        }
        out_fd_ = std::move(master);
        // Before `start`: the container's first look at its size is already right.
        if (console_rows_ > 0) set_console_size(console_rows_, console_cols_);
    } else {
        out_fd_ = std::move(out.first);
        err_fd_ = std::move(err.first);
        stdin_fd_ = std::move(in.second);
    }
    BERTH_TRY(set_nonblocking(out_fd_.get()));
    if (err_fd_) BERTH_TRY(set_nonblocking(err_fd_.get()));
    if (stdin_fd_) BERTH_TRY(set_nonblocking(stdin_fd_.get()));

    std::string pid_text =
        BERTH_TRY_CTX(read_file(task_path(kPidFile)), "reading the runtime's pid file");
    auto init_pid = parse_number<pid_t>(trim(pid_text));
    if (!init_pid || *init_pid <= 0)
        return Error(EIO) << "bad pid file content `" << pid_text << "`";
    return *init_pid;
}

Result<void> Monitor::start_task() {
    state_.has_exit = false;
    state_.exit_reason.clear();
    state_.oom_killed = false;
    state_.error.clear();
    state_.next_restart_delay_ms = 0;
    pid_t pid = BERTH_TRY(create_task());
    state_.pid = pid;
    state_.pid_start_time = process_start_time(pid);
    state_.status = "created";
    cgroup_ = cgroup_of(pid);
    state_.cgroup = cgroup_ ? cgroup_->path : "";
    oom_baseline_ = cgroup_ ? read_oom_kill(*cgroup_).value_or(0) : 0;
    save_state();

    BERTH_TRY(runtime_.run({"start", options_.id}));
    started_mono_ms_ = monotonic_ms();
    state_.status = "running";
    state_.started_at = now_rfc3339();
    save_state();
    return {};
}

int Monitor::run() {
    if (auto r = setup(); !r) {
        std::string msg = r.error().what();
        report_ready("{\"error\":\"" + json_escape(msg) + "\"}\n");
        log::error(msg);
        run_exit_command();
        return 1;
    }
    if (auto r = start_task(); !r) {
        std::string msg = r.error().what();
        state_.status = "stopped";
        state_.pid = 0;
        state_.exit_reason = "start-failed";
        state_.error = msg;
        state_.finished_at = now_rfc3339();
        save_state();
        // Kill and reap what create may have left, and the runtime's state.
        (void)runtime_.run({"delete", "--force", options_.id});
        init::reap_zombies(nullptr, nullptr);
        report_ready("{\"error\":\"" + json_escape(msg) + "\"}\n");
        log::error(msg);
        cleanup_sockets();
        run_exit_command();
        return 1;
    }
    report_ready("{\"pid\":" + std::to_string(state_.pid) + "}\n");
    loop();
    attach_->flush_reliable(5000);
    cleanup_sockets();
    run_exit_command();
    return 0;
}

// After task.json says stopped and the sockets are gone: what the command does (remove the
// container) may remove the task dir. The monitor exits right after and never waits for it: it
// goes to init (or the nearest subreaper above us), in a session of its own.
void Monitor::run_exit_command() {
    if (options_.exit_command.empty()) return;
    std::vector<std::string> args = {options_.exit_command};
    args.insert(args.end(), options_.exit_command_args.begin(), options_.exit_command_args.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    UniqueFd null_fd(::open("/dev/null", O_RDWR | O_CLOEXEC));
    pid_t child = ::fork();
    if (child < 0) {
        log::error("fork for the exit command failed");
        return;
    }
    if (child == 0) {
        // Only async-signal-safe calls from here on.
        ::setsid();
        if (null_fd) {
            ::dup2(null_fd.get(), 0);
            ::dup2(null_fd.get(), 1);
            ::dup2(null_fd.get(), 2);
        }
        sys::close_range(3, ~0U, 0);
        init::restore_signals(saved_signals_);
        ::execv(argv[0], argv.data());
        ::_exit(127);
    }
    log::info("started the exit command " + options_.exit_command);
}

void Monitor::cleanup_sockets() {
    attach_.reset();
    control_.reset();
    ::unlink(task_path(kAttachSocket).c_str());
    ::unlink(task_path(kControlSocket).c_str());
}

void Monitor::arm_timer(Timer kind, uint64_t ms) {
    timer_ = kind;
    struct itimerspec spec {};
    if (kind != Timer::kNone) {
        // A zero it_value disarms: fire "now" as 1 ns instead.
        spec.it_value.tv_sec = static_cast<time_t>(ms / 1000);
        spec.it_value.tv_nsec = static_cast<long>((ms % 1000) * 1000000);
        if (ms == 0) spec.it_value.tv_nsec = 1;
    }
    timerfd_settime(timer_fd_.get(), 0, &spec, nullptr);
}

void Monitor::loop() {
    std::vector<pollfd> fds;
    // The init may have ended before the loop (a quick `echo`): its SIGCHLD is pending anyway.
    while (!done_) {
        fds.clear();
        fds.push_back({signal_fd_.get(), POLLIN, 0});
        fds.push_back({timer_fd_.get(), POLLIN, 0});
        fds.push_back({control_.get(), POLLIN, 0});
        fds.push_back({attach_->listen_fd(), POLLIN, 0});
        // -1 is skipped by poll; output waits while the foreground client is full.
        const bool hold_output = attach_->blocked();
        fds.push_back({hold_output ? -1 : out_fd_.get(), POLLIN, 0});
        fds.push_back({hold_output ? -1 : err_fd_.get(), POLLIN, 0});
        fds.push_back({stdin_pending_.empty() ? -1 : stdin_fd_.get(), POLLOUT, 0});
        attach_->add_poll_fds(fds, stdin_pending_.empty());
        if (::poll(fds.data(), fds.size(), -1) < 0) {
            if (errno == EINTR) continue;
            log::error("poll failed");
            return;
        }
        // Output first, so that what the init wrote before exiting is logged before its exit.
        if (fds[4].revents) {
            if (!read_output(out_fd_, Stream::kStdout)) out_fd_.reset();
        }
        if (fds[5].revents) {
            if (!read_output(err_fd_, Stream::kStderr)) err_fd_.reset();
        }
        if (fds[6].revents) flush_stdin();
        if (fds[3].revents & POLLIN) attach_->accept_clients();
        attach_->handle_poll(
            fds, [this](std::string_view data) { write_stdin(data); }, [this] { close_stdin(); });
        if (fds[2].revents & POLLIN) handle_control();
        if (fds[1].revents & POLLIN) {
            uint64_t ticks;
            if (::read(timer_fd_.get(), &ticks, sizeof(ticks)) == sizeof(ticks)) on_timer();
        }
        if (fds[0].revents & POLLIN) handle_signals();
    }
}

bool Monitor::read_output(UniqueFd& fd, Stream stream) {
    if (!fd) return false;
    char buf[8192];
    ssize_t n = ::read(fd.get(), buf, sizeof(buf));
    if (n < 0) return errno == EAGAIN || errno == EINTR;  // EIO: the pty's last holder closed it
    if (n == 0) return false;
    std::string_view chunk(buf, static_cast<size_t>(n));
    if (log_) {
        auto r = log_->write(stream, chunk);
        if (!r) log::error(r.error().what());
    }
    attach_->broadcast(stream, chunk);
    return true;
}

// After the init's exit: what it wrote is in the pipes already; take it without waiting for
// EOF, which a leftover process (no pid namespace) could hold off for ever.
void Monitor::drain_output() {
    for (int i = 0; i < 64 && out_fd_; i++) {
        if (!read_output(out_fd_, Stream::kStdout)) out_fd_.reset();
        struct pollfd p = {out_fd_.get(), POLLIN, 0};
        if (!out_fd_ || ::poll(&p, 1, 0) <= 0) break;
    }
    for (int i = 0; i < 64 && err_fd_; i++) {
        if (!read_output(err_fd_, Stream::kStderr)) err_fd_.reset();
        struct pollfd p = {err_fd_.get(), POLLIN, 0};
        if (!err_fd_ || ::poll(&p, 1, 0) <= 0) break;
    }
    out_fd_.reset();
    err_fd_.reset();
    stdin_fd_.reset();
    stdin_pending_.clear();
}

void Monitor::write_stdin(std::string_view data) {
    if (!stdin_fd_ || stdin_closing_) return;
    stdin_pending_.append(data);
    flush_stdin();
}

void Monitor::flush_stdin() {
    while (stdin_fd_ && !stdin_pending_.empty()) {
        ssize_t n = ::write(stdin_fd_.get(), stdin_pending_.data(), stdin_pending_.size());
        if (n > 0) {
            stdin_pending_.erase(0, static_cast<size_t>(n));
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && errno == EAGAIN) {
            return;  // polled for POLLOUT; clients are not read meanwhile
        } else {
            stdin_fd_.reset();  // the container closed its stdin
            stdin_pending_.clear();
        }
    }
    if (stdin_closing_ && stdin_pending_.empty()) stdin_fd_.reset();
}

void Monitor::close_stdin() {
    if (options_.terminal) {
        // EOF on a pty is ^D at the start of a line, not a close.
        write_stdin("\x04");
    } else {
        stdin_closing_ = true;
        flush_stdin();
    }
}

void Monitor::set_console_size(unsigned short rows, unsigned short cols) {
    console_rows_ = rows;
    console_cols_ = cols;
    struct winsize ws {};
    ws.ws_row = rows;
    ws.ws_col = cols;
    if (out_fd_ && ioctl(out_fd_.get(), TIOCSWINSZ, &ws) != 0) log::warn("TIOCSWINSZ failed");
}

void Monitor::handle_signals() {
    signalfd_siginfo infos[16];
    int n = init::read_signals(signal_fd_.get(), infos, 16);
    for (int i = 0; i < n; i++) {
        switch (infos[i].ssi_signo) {
            case SIGCHLD:
                break;  // reaped below, whichever child it was
            case SIGTERM:
            case SIGINT:
                request_stop(options_.stop_timeout_s);
                break;
            case SIGHUP:
                if (log_) (void)log_->reopen();
                break;
            default:
                break;
        }
    }
    auto on_exit = [this](const init::ChildExit& exit) {
        if (state_.pid > 0 && exit.pid == state_.pid) handle_exit(exit);
    };
    init::reap_zombies(on_exit);
}

void Monitor::handle_exit(const init::ChildExit& exit) {
    drain_output();
    const uint64_t ran_ms = monotonic_ms() - started_mono_ms_;
    state_.has_exit = true;
    state_.finished_at = now_rfc3339();
    state_.exit_code = init::shell_status(exit);
    state_.exit_signal = exit.code == CLD_EXITED ? 0 : exit.status;
    state_.exit_reason = exit.code == CLD_EXITED ? "exited" : "signaled";
    // Any OOM kill in the cgroup counts (a child's too: `sh -c 'alloc; exit 0'` is OOMKilled with
    // its own exit code); the init's own SIGKILL with a higher count is exit_reason oom.
    if (cgroup_) {
        auto now = read_oom_kill(*cgroup_);
        state_.oom_killed = now && *now > oom_baseline_;
        if (state_.oom_killed && exit.code != CLD_EXITED && exit.status == SIGKILL) {
            state_.exit_reason = "oom";
        }
    }
    state_.pid = 0;
    state_.pid_start_time = 0;
    if (timer_ == Timer::kStopKill) arm_timer(Timer::kNone, 0);
    // Kills what is left (no pid namespace) and frees the runtime's state and cgroup.
    if (auto r = runtime_.run({"delete", "--force", options_.id}); !r) log::warn(r.error().what());
    init::reap_zombies(nullptr, nullptr);

    if (should_restart(options_.restart, state_.exit_code, state_.restart_count,
                       state_.stop_requested)) {
        state_.status = "restarting";
        state_.next_restart_delay_ms = backoff_.next_delay(ran_ms);
        arm_timer(Timer::kRestart, state_.next_restart_delay_ms);
    } else {
        state_.status = "stopped";
        done_ = true;
    }
    save_state();
}

void Monitor::on_timer() {
    Timer what = timer_;
    timer_ = Timer::kNone;
    if (what == Timer::kStopKill && state_.pid > 0) {
        ::kill(state_.pid, SIGKILL);
    } else if (what == Timer::kRestart) {
        restart_now();
    }
}

void Monitor::restart_now() {
    state_.restart_count++;
    if (auto r = start_task(); !r) {
        (void)runtime_.run({"delete", "--force", options_.id});
        init::reap_zombies(nullptr, nullptr);
        state_.status = "stopped";
        state_.pid = 0;
        state_.has_exit = false;  // no process ran: no exit code
        state_.exit_reason = "start-failed";
        state_.error = r.error().what();
        state_.finished_at = now_rfc3339();
        save_state();
        done_ = true;
    }
}

void Monitor::request_stop(unsigned timeout_s) {
    state_.stop_requested = true;
    if (state_.status == "restarting") {
        arm_timer(Timer::kNone, 0);
        state_.status = "stopped";
        state_.next_restart_delay_ms = 0;
        done_ = true;
    } else if (state_.pid > 0) {
        // The init is our child (or zombie): its pid cannot have been reused.
        ::kill(state_.pid, timeout_s == 0 ? SIGKILL : options_.stop_signal);
        if (timeout_s > 0) arm_timer(Timer::kStopKill, uint64_t{timeout_s} * 1000);
    }
    save_state();
}

// ctl.sock (SOCK_SEQPACKET), one request per connection, answered "ok" or "error: <text>":
//   stop [SECONDS] | kill SIGNAL | resize ROWS COLS | close-stdin | reopen-log | state
void Monitor::handle_control() {
    auto accepted = accept_unix(control_);
    if (!accepted.ok() || !accepted->valid()) return;
    UniqueFd conn = std::move(*accepted);
    // Clients send at once after connecting; a silent one costs at most a second.
    struct pollfd p = {conn.get(), POLLIN, 0};
    if (::poll(&p, 1, 1000) <= 0) return;
    char buf[256];
    ssize_t n = ::read(conn.get(), buf, sizeof(buf) - 1);
    if (n <= 0) return;
    auto words = split(trim(std::string_view(buf, static_cast<size_t>(n))), ' ');
    std::string reply = "ok";
    const std::string verb = words.empty() ? "" : words[0];
    if (verb == "stop") {
        unsigned timeout = options_.stop_timeout_s;
        if (words.size() > 1) {
            auto t = parse_number<unsigned>(words[1]);
            if (t)
                timeout = *t;
            else
                reply = "error: bad timeout";
        }
        if (reply == "ok") request_stop(timeout);
    } else if (verb == "kill" && words.size() == 2) {
        auto sig = signal_from_string(words[1]);
        if (!sig)
            reply = "error: unknown signal";
        else if (state_.pid <= 0)
            reply = "error: not running";
        else if (::kill(state_.pid, *sig) != 0)
            reply = "error: kill failed";
    } else if (verb == "resize" && words.size() == 3) {
        auto rows = parse_number<unsigned short>(words[1]);
        auto cols = parse_number<unsigned short>(words[2]);
        struct winsize ws {};
        if (!options_.terminal || !out_fd_ || !rows || !cols) {
            reply = "error: no terminal or bad size";
        } else {
            console_rows_ = ws.ws_row = *rows;
            console_cols_ = ws.ws_col = *cols;
            if (ioctl(out_fd_.get(), TIOCSWINSZ, &ws) != 0) reply = "error: TIOCSWINSZ failed";
        }
    } else if (verb == "close-stdin") {
        close_stdin();
    } else if (verb == "reopen-log") {
        if (log_) {
            if (auto r = log_->reopen(); !r) reply = "error: " + r.error().what();
        }
    } else if (verb == "state") {
        reply = task_state_json(state_);
    } else {
        reply = "error: unknown request";
    }
    ::send(conn.get(), reply.data(), reply.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
}

}  // namespace berth::monitor

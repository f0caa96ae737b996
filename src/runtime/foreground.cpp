#include "runtime/foreground.h"

#include <poll.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <thread>

#include "base/syscalls.h"
#include "runtime/spawn.h"
#include "runtime/tty_proxy.h"

namespace berth::runtime {

static const int kForwarded[] = {SIGHUP,  SIGINT,  SIGQUIT,  SIGTERM,
                                 SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT};

Result<ForegroundSignals> ForegroundSignals::block() {
    ForegroundSignals s;
    sigset_t set;
    sigemptyset(&set);
    for (int sig : kForwarded) sigaddset(&set, sig);
    if (sigprocmask(SIG_BLOCK, &set, &s.old_) < 0) return ErrnoError() << "sigprocmask";
    s.active_ = true;
    s.fd_.reset(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
    if (!s.fd_) return ErrnoError() << "signalfd";
    return s;
}

ForegroundSignals::~ForegroundSignals() {
    if (active_ && fd_) sigprocmask(SIG_SETMASK, &old_, nullptr);
}

Result<int> wait_foreground(pid_t pid, ForegroundSignals& signals, const UniqueFd& master) {
    UniqueFd pidfd(sys::pidfd_open(pid));
    if (!pidfd) return ErrnoError() << "pidfd_open " << pid;
    std::thread proxy;
    if (master) {
        // The pty copy loop runs beside the signal loop; it ends when the process has exited
        // and the master is drained.
        int mfd = master.get(), pfd = pidfd.get();
        proxy = std::thread([mfd, pfd] { (void)proxy_tty(mfd, pfd); });
    }
    for (;;) {
        struct pollfd fds[2] = {{pidfd.get(), POLLIN, 0}, {signals.fd(), POLLIN, 0}};
        int n = ::poll(fds, 2, -1);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return ErrnoError() << "poll";
        if (fds[1].revents & POLLIN) {
            struct signalfd_siginfo si;
            while (::read(signals.fd(), &si, sizeof(si)) == sizeof(si)) {
                int sig = static_cast<int>(si.ssi_signo);
                if (sig == SIGWINCH && master) {
                    struct winsize ws;
                    if (::ioctl(0, TIOCGWINSZ, &ws) == 0) ::ioctl(master.get(), TIOCSWINSZ, &ws);
                    continue;
                }
                sys::pidfd_send_signal(pidfd.get(), sig);
            }
        }
        if (fds[0].revents & POLLIN) break;
    }
    if (proxy.joinable()) proxy.join();
    return wait_exit_code(pid);
}

}  // namespace berth::runtime

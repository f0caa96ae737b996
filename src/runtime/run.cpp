// `run`: create and start in one step; in the foreground, wait and pass the exit code on.
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/file.h"
#include "base/scope_guard.h"
#include "base/syscalls.h"
#include "runtime/container.h"
#include "runtime/foreground.h"
#include "runtime/tty_proxy.h"

namespace berth::runtime {

Result<int> run(const GlobalOptions& g, const CreateOptions& opts, bool detach) {
    CreateOptions o = opts;
    o.proxy_terminal = !detach;  // a foreground terminal without a console socket is ours
    o.in_process_start = true;
    Created c = BERTH_TRY(create_container(g, o));
    auto cleanup = make_scope_guard([&] { (void)remove_created(g, c); });
    UniqueFd master;
    if (c.console) master = BERTH_TRY(c.console->receive_master());
    // Signals arriving from now on go to the container, not to us.
    ForegroundSignals signals = BERTH_TRY(ForegroundSignals::block());
    BERTH_TRY(start_created(c));
    if (detach) {
        cleanup.dismiss();
        return 0;
    }
    int code = BERTH_TRY(wait_foreground(c.pid, signals, master));
    if (o.keep) cleanup.dismiss();
    return code;
}

}  // namespace berth::runtime

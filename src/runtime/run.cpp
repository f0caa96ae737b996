// `run`: create and start in one step; in the foreground, wait and pass the exit code on.
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <poll.h>
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
    std::optional<ConsoleListener> console;
    if (!detach && o.console_socket.empty()) {
        // Peek at process.terminal: a foreground terminal is proxied by us.
        std::string bundle = o.bundle;
        auto text = read_file(o.config_file.empty() ? path_join(bundle, "config.json") : o.config_file);
        if (text) {
            auto spec = oci::parse_spec(*text);
            if (spec && spec->process && spec->process->terminal) {
                BERTH_TRY(mkdir_p(g.root, 0711));
                console.emplace(BERTH_TRY(ConsoleListener::create(
                    path_join(g.root, "." + o.id + "-" + std::to_string(::getpid()) + ".console"))));
                o.console_socket = console->path();
            }
        }
    }
    Created c = BERTH_TRY(create_container(g, o));
    auto cleanup = make_scope_guard([&] { (void)remove(g, o.id, true); });
    UniqueFd master;
    if (console) master = BERTH_TRY(console->receive_master());
    // Signals arriving from now on go to the container, not to us.
    ForegroundSignals signals = BERTH_TRY(ForegroundSignals::block());
    BERTH_TRY(start(g, o.id));
    if (detach) {
        cleanup.dismiss();
        return 0;
    }
    int code = BERTH_TRY(wait_foreground(c.pid, signals, master));
    if (o.keep) cleanup.dismiss();
    return code;
}

}  // namespace berth::runtime

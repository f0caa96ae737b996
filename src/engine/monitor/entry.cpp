// berth-monitor's process setup: stdio, fds, detaching from the caller; then Monitor::run.
#include <fcntl.h>
#include <linux/close_range.h>
#include <unistd.h>

#include "base/file.h"
#include "base/log.h"
#include "base/strings.h"
#include "base/syscalls.h"
#include "engine/monitor/monitor.h"

namespace berth::monitor {

int monitor_main(int argc, char** argv) {
    // fds 0-2 must be taken before we make pipes, or a pipe could become a child's stdio twice.
    for (int fd = 0; fd < 3; fd++) {
        if (fcntl(fd, F_GETFD) < 0) ::open("/dev/null", O_RDWR);
    }
    auto parsed = parse_options(argc, argv);
    if (!parsed.ok()) {
        std::string msg = "berth-monitor: " + parsed.error().what() + "\n";
        (void)write_all(STDERR_FILENO, msg);
        // Still answer a caller that waits on the ready fd.
        for (int i = 1; i + 1 < argc; i++) {
            if (std::string_view(argv[i]) == "--ready-fd") {
                if (auto fd = parse_number<int>(argv[i + 1]); fd && *fd > 2) {
                    (void)write_all(*fd,
                                    "{\"error\":\"" + json_escape(parsed.error().what()) + "\"}\n");
                }
            }
        }
        return 2;
    }
    if (parsed->action == ParseAction::kHelp) {
        (void)write_all(STDOUT_FILENO, kUsage);
        return 0;
    }
    if (parsed->action == ParseAction::kVersion) {
        (void)write_all(STDOUT_FILENO, "berth-monitor\n");
        return 0;
    }
    Options options = std::move(parsed->options);
    // Nothing the caller left open may reach the runtime or the container (a ready fd held by
    // a container would keep the engine waiting for EOF for ever).
    sys::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);

    if (!options.foreground) {
        pid_t pid = ::fork();
        if (pid < 0) {
            (void)write_all(STDERR_FILENO, "berth-monitor: fork failed\n");
            return 1;
        }
        if (pid > 0) _exit(0);  // the caller reaps this one; the monitor is nobody's child now
        ::setsid();
        int null_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
        if (null_fd >= 0) {
            ::dup2(null_fd, 0);
            ::dup2(null_fd, 1);
            ::dup2(null_fd, 2);
            ::close(null_fd);
        }
    }
    // The monitor's own messages go to <task-dir>/monitor.log (stderr in the foreground).
    if (!options.foreground && mkdir_p(options.task_dir, 0700).ok())
        (void)log::configure(path_join(options.task_dir, "monitor.log"), log::Format::Json, false);
    Monitor monitor(std::move(options));
    return monitor.run();
}

}  // namespace berth::monitor

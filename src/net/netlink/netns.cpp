#include "net/netlink/netns.h"

#include <fcntl.h>
#include <sched.h>

#include <system_error>
#include <thread>

namespace berth::net {

Result<UniqueFd> open_netns(const std::string& path) {
    return open_fd(path, O_RDONLY);
}

Result<UniqueFd> current_netns() {
    return open_fd("/proc/thread-self/ns/net", O_RDONLY);
}

namespace detail {

Result<void> run_on_thread_in_netns(BorrowedFd netns, const std::function<void()>& body) {
    int setns_errno = 0;
    try {
        std::thread worker([&] {
            if (::setns(netns.get(), CLONE_NEWNET) < 0) {
                setns_errno = errno;
                return;
            }
            body();
        });
        worker.join();
    } catch (const std::system_error& e) {
        return Error(e.code().value()) << "start a thread for network namespace work: " << e.what();
    }
    if (setns_errno != 0)
        return Error::from_errno(setns_errno) << "setns(fd " << netns.get() << ", CLONE_NEWNET)";
    return {};
}

}  // namespace detail
}  // namespace berth::net

// The detached holder: it runs its work and reports the result, is nobody's child here, sees
// /dev/null as stdio, keeps sockets but no other inherited descriptor, and exits only after the
// process that spawned it is gone.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <string>
#include <thread>

#include "base/detached_holder.h"
#include "base/file.h"
#include "base/unique_fd.h"

namespace berth {
namespace {

std::string read_link(const std::string& path) {
    char buf[256];
    ssize_t n = ::readlink(path.c_str(), buf, sizeof(buf));
    return n < 0 ? "" : std::string(buf, static_cast<size_t>(n));
}

TEST(DetachedHolder, ReportsTheWorkResult) {
    auto ok = spawn_detached_holder([] { return 0; });
    ASSERT_TRUE(ok.ok()) << ok.error().what();
    int result = -1;
    ASSERT_EQ(::recv(ok->get(), &result, sizeof(result), 0), ssize_t(sizeof(result)));
    EXPECT_EQ(result, 0);

    auto failed = spawn_detached_holder([] { return ENODEV; });
    ASSERT_TRUE(failed.ok()) << failed.error().what();
    ASSERT_EQ(::recv(failed->get(), &result, sizeof(result), 0), ssize_t(sizeof(result)));
    EXPECT_EQ(result, ENODEV);
    // Not our child: nothing to reap.
    EXPECT_EQ(::waitpid(-1, nullptr, WNOHANG), -1);
    EXPECT_EQ(errno, ECHILD);
}

// Run in a forked child so that "the spawning process exits" can be observed: the holder
// reports what it sees, then must outlive its spawner and exit after it.
TEST(DetachedHolder, KeepsSocketsDropsFilesOutlivesItsSpawner) {
    auto out = make_socketpair(SOCK_SEQPACKET);
    ASSERT_TRUE(out.ok());
    pid_t spawner = ::fork();
    ASSERT_GE(spawner, 0);
    if (spawner == 0) {
        out->first.reset();
        int report = out->second.release();  // a socket: the holder keeps it
        int file = ::open("/proc/self/status", O_RDONLY | O_CLOEXEC);
        auto h = spawn_detached_holder([report, file]() -> int {
            std::string msg = read_link("/proc/self/fd/1") + "|" +
                              (::fcntl(file, F_GETFD) < 0 ? "closed" : "open") + "|" +
                              std::to_string(::getppid());
            (void)::send(report, msg.data(), msg.size(), MSG_NOSIGNAL);
            return 0;
        });
        ::_exit(h.ok() ? 0 : 1);
    }
    out->second.reset();
    int status = 0;
    ASSERT_EQ(::waitpid(spawner, &status, 0), spawner);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    char buf[512];
    ssize_t n = ::recv(out->first.get(), buf, sizeof(buf), 0);
    ASSERT_GT(n, 0);
    std::string msg(buf, static_cast<size_t>(n));
    EXPECT_EQ(msg.substr(0, msg.find('|')), "/dev/null");
    EXPECT_NE(msg.find("|closed|"), std::string::npos) << msg;
    EXPECT_NE(msg.substr(msg.rfind('|') + 1), std::to_string(spawner)) << msg;
    // The spawner is gone, so the holder exits and closes the report socket: EOF.
    EXPECT_EQ(::recv(out->first.get(), buf, sizeof(buf), 0), 0);
}

}  // namespace
}  // namespace berth

#include "engine/netns.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "base/file.h"

namespace berth::engine {
namespace {

bool is_nsfs(const std::string& path) {
    struct statfs fs;
    return ::statfs(path.c_str(), &fs) == 0 && fs.f_type == NSFS_MAGIC;
}

// In the child: new netns, lo up, bind it at path. Returns 0 or an errno; async-signal-safe.
int child_setup(const char* path) {
    if (::unshare(CLONE_NEWNET) != 0) return errno;
    int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) return errno;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    strcpy(ifr.ifr_name, "lo");
    if (::ioctl(s, SIOCGIFFLAGS, &ifr) != 0) return errno;
    ifr.ifr_flags |= IFF_UP;
    if (::ioctl(s, SIOCSIFFLAGS, &ifr) != 0) return errno;
    ::close(s);
    if (::mount("/proc/self/ns/net", path, nullptr, MS_BIND, nullptr) != 0) return errno;
    return 0;
}

}  // namespace

Result<void> create_netns(const std::string& path) {
    if (is_nsfs(path)) return {};
    BERTH_TRY(mkdir_p(path_dirname(path), 0755));
    {
        int fd = ::open(path.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC, 0444);
        if (fd < 0) return ErrnoError() << "creating `" << path << "`";
        ::close(fd);
    }
    // The error number comes back through a pipe: exit codes are too small for errno.
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) return ErrnoError() << "pipe";
    pid_t pid = ::fork();
    if (pid < 0) {
        int err = errno;
        ::close(p[0]);
        ::close(p[1]);
        return Error::from_errno(err) << "fork";
    }
    if (pid == 0) {
        ::close(p[0]);
        int err = child_setup(path.c_str());
        (void)!::write(p[1], &err, sizeof(err));
        ::_exit(err == 0 ? 0 : 1);
    }
    ::close(p[1]);
    int err = -1;
    ssize_t n = ::read(p[0], &err, sizeof(err));
    ::close(p[0]);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (n != sizeof(err)) return Error(EIO) << "creating a network namespace: the child died";
    if (err != 0) {
        ::unlink(path.c_str());
        return Error::from_errno(err) << "creating a network namespace at `" << path << "`";
    }
    return {};
}

Result<void> remove_netns(const std::string& path) {
    while (::umount2(path.c_str(), MNT_DETACH) == 0) {
    }
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
        return ErrnoError() << "removing `" << path << "`";
    }
    return {};
}

}  // namespace berth::engine

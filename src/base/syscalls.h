// Thin wrappers for syscalls glibc 2.36 lacks or wraps awkwardly.
#pragma once

#include <linux/sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include <cstdint>

namespace berth::sys {

inline long clone3(struct clone_args* args) {
    return ::syscall(SYS_clone3, args, sizeof(*args));
}
inline int pidfd_open(pid_t pid, unsigned flags = 0) {
    return static_cast<int>(::syscall(SYS_pidfd_open, pid, flags));
}
inline int pidfd_send_signal(int pidfd, int sig, siginfo_t* info = nullptr, unsigned flags = 0) {
    return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, sig, info, flags));
}
inline int close_range(unsigned first, unsigned last, unsigned flags = 0) {
    return static_cast<int>(::syscall(SYS_close_range, first, last, flags));
}
inline int pivot_root(const char* new_root, const char* put_old) {
    return static_cast<int>(::syscall(SYS_pivot_root, new_root, put_old));
}
inline int ioprio_set(int which, int who, int ioprio) {
    return static_cast<int>(::syscall(SYS_ioprio_set, which, who, ioprio));
}
inline int mount_setattr(int dfd, const char* path, unsigned flags, void* attr, size_t size) {
    return static_cast<int>(::syscall(SYS_mount_setattr, dfd, path, flags, attr, size));
}
inline int open_tree(int dfd, const char* path, unsigned flags) {
    return static_cast<int>(::syscall(SYS_open_tree, dfd, path, flags));
}

}  // namespace berth::sys

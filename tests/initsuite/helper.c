/* The program berth-init (or tini) runs in the init suite. Static, libc only, so it runs in a
 * busybox rootfs. Modes:
 *   record DIR      block every signal, write DIR/ready, append each signal received to
 *                   DIR/signals.child, one number per line; never exits on its own.
 *   group DIR       like record, plus a second process in the same process group that records
 *                   to DIR/signals.grandchild (ready files: DIR/ready, DIR/ready.grandchild).
 *   storm N         orphan N processes to our parent (PID 1 or a subreaper), let them all exit
 *                   at once, and wait until the parent has reaped every one; exit 0 when none
 *                   is left, 1 when some are after 30 s. Prints "reaped N in MS ms". */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void touch(const char* dir, const char* name) {
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd >= 0) close(fd);
}

static void record_forever(const char* dir, const char* role, const char* ready) {
    sigset_t all;
    sigfillset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL);
    char path[512];
    snprintf(path, sizeof(path), "%s/signals.%s", dir, role);
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) _exit(2);
    touch(dir, ready);
    for (;;) {
        siginfo_t info;
        int sig = sigwaitinfo(&all, &info);
        if (sig < 0) continue;
        char line[16];
        int n = snprintf(line, sizeof(line), "%d\n", sig);
        if (write(fd, line, n) != n) _exit(3);
    }
}

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Processes (other than us) whose parent is `parent`: the orphans not yet reaped. */
static int count_children_of(pid_t parent, pid_t self) {
    DIR* proc = opendir("/proc");
    if (proc == NULL) return -1;
    int count = 0;
    struct dirent* e;
    while ((e = readdir(proc)) != NULL) {
        pid_t pid = (pid_t)atoi(e->d_name);
        if (pid <= 0 || pid == self) continue;
        char path[64], buf[512];
        snprintf(path, sizeof(path), "/proc/%d/stat", pid);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) continue;
        ssize_t n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        if (n <= 0) continue;
        buf[n] = '\0';
        char* paren = strrchr(buf, ')');
        char state;
        int ppid;
        if (paren == NULL || sscanf(paren + 2, "%c %d", &state, &ppid) != 2) continue;
        if (ppid == parent) count++;
    }
    closedir(proc);
    return count;
}

static int storm(int n) {
    int fds[2];
    if (pipe(fds) != 0) return 2;
    pid_t middle = fork();
    if (middle < 0) return 2;
    if (middle == 0) {
        close(fds[1]);
        for (int i = 0; i < n; i++) {
            pid_t pid = fork();
            if (pid < 0) {
                perror("fork");
                _exit(2);
            }
            if (pid == 0) {
                char c;
                while (read(fds[0], &c, 1) > 0) {
                }
                _exit(0);
            }
        }
        _exit(0); /* the n children are now orphans of our parent */
    }
    close(fds[0]);
    int status = 0;
    waitpid(middle, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return 2;
    pid_t parent = getppid(), self = getpid();
    int orphans = count_children_of(parent, self);
    double start = now_ms();
    close(fds[1]); /* all n exit at once */
    int left = orphans;
    while (now_ms() - start < 30000) {
        left = count_children_of(parent, self);
        if (left == 0) break;
        usleep(10000);
    }
    printf("orphans %d, reaped %d in %.0f ms, left %d\n", orphans, orphans - left,
           now_ms() - start, left);
    fflush(stdout);
    return left == 0 && orphans == n ? 0 : 1;
}

int main(int argc, char** argv) {
    if (argc == 3 && strcmp(argv[1], "record") == 0) record_forever(argv[2], "child", "ready");
    if (argc == 3 && strcmp(argv[1], "group") == 0) {
        pid_t pid = fork();
        if (pid == 0) record_forever(argv[2], "grandchild", "ready.grandchild");
        record_forever(argv[2], "child", "ready");
    }
    if (argc == 3 && strcmp(argv[1], "storm") == 0) return storm(atoi(argv[2]));
    fprintf(stderr, "usage: helper record DIR | group DIR | storm N\n");
    return 2;
}

#include "init/message.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "init/options.h"

namespace berth::init {
namespace {
int g_verbosity = kWarn;

const char* level_name(int level) {
    switch (level) {
        case kFatal:
            return "FATAL";
        case kWarn:
            return "WARN ";
        case kInfo:
            return "INFO ";
        case kDebug:
            return "DEBUG";
        default:
            return "TRACE";
    }
}
}  // namespace

void set_verbosity(int level) {
    g_verbosity = level;
}
int verbosity() {
    return g_verbosity;
}

void message(int level, const char* fmt, ...) {
    if (level > g_verbosity) return;
    const int saved_errno = errno;  // callers format %m or strerror after us
    char line[512];
    int len = snprintf(line, sizeof(line), "[%s berth-init (%d)] ", level_name(level),
                       static_cast<int>(getpid()));
    va_list ap;
    va_start(ap, fmt);
    int body = vsnprintf(line + len, sizeof(line) - len - 1, fmt, ap);
    va_end(ap);
    len += body < 0 ? 0 : body;
    if (len > static_cast<int>(sizeof(line)) - 2) len = sizeof(line) - 2;
    line[len++] = '\n';
    // One write per line so lines from the child and from us do not interleave mid-line.
    while (write(STDERR_FILENO, line, len) < 0 && errno == EINTR) {
    }
    errno = saved_errno;
}

}  // namespace berth::init

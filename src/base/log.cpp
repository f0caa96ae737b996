#include "base/log.h"

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>

#include "base/clock.h"
#include "base/file.h"
#include "base/strings.h"

namespace berth::log {
namespace {

struct Sink {
    int fd = STDERR_FILENO;
    Format format = Format::Text;
    bool debug = false;
};
Sink sink;

const char* level_name(Level l) {
    switch (l) {
        case Level::Debug:
            return "debug";
        case Level::Info:
            return "info";
        case Level::Warn:
            return "warning";
        case Level::Error:
            return "error";
    }
    return "info";
}

}  // namespace

Result<void> configure(const std::string& path, Format format, bool debug) {
    sink.format = format;
    sink.debug = debug;
    if (path.empty()) return {};
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) return ErrnoError() << "open log file `" << path << "`";
    sink.fd = fd;
    return {};
}

void write(Level level, std::string_view msg) {
    if (level == Level::Debug && !sink.debug) return;
    std::string line;
    if (sink.format == Format::Json) {
        line = "{\"level\":\"";
        line += level_name(level);
        line += "\",\"msg\":\"";
        line += json_escape(msg);
        line += "\",\"time\":\"";
        line += now_rfc3339();
        line += "\"}\n";
    } else {
        line = "time=\"" + now_rfc3339() + "\" level=" + level_name(level) + " msg=\"" +
               json_escape(msg) + "\"\n";
    }
    (void)write_all(sink.fd, line);
}

bool to_file() {
    return sink.fd != STDERR_FILENO;
}
int fd() {
    return sink.fd;
}

}  // namespace berth::log

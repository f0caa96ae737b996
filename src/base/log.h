// Process-wide log sink in runc's formats: containerd and podman read errors only from the
// --log file, as JSON lines {"level","msg","time"}. Configured once by the front end.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

namespace berth::log {

enum class Level { Debug, Info, Warn, Error };
enum class Format { Text, Json };

// path empty: stderr. Opening failure is returned, the sink then stays on stderr.
Result<void> configure(const std::string& path, Format format, bool debug);
void write(Level level, std::string_view msg);
inline void debug(std::string_view m) {
    write(Level::Debug, m);
}
inline void info(std::string_view m) {
    write(Level::Info, m);
}
inline void warn(std::string_view m) {
    write(Level::Warn, m);
}
inline void error(std::string_view m) {
    write(Level::Error, m);
}
// True when log lines go somewhere other than stderr.
bool to_file();
int fd();

}  // namespace berth::log

#include "engine/monitor/cri_log.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include "base/clock.h"
#include "base/file.h"

namespace berth::monitor {

const char* stream_name(Stream stream) {
    return stream == Stream::kStderr ? "stderr" : "stdout";
}

Result<CriLog> CriLog::open(const std::string& path, uint64_t max_size, unsigned max_files) {
    CriLog log;
    log.path_ = path;
    log.max_size_ = max_size;
    log.max_files_ = max_files == 0 ? 1 : max_files;
    BERTH_TRY(log.reopen());
    return log;
}

Result<void> CriLog::reopen() {
    fd_ = BERTH_TRY(open_fd(path_, O_WRONLY | O_CREAT | O_APPEND, 0640));
    struct stat st;
    if (fstat(fd_.get(), &st) != 0) return ErrnoError() << "fstat `" << path_ << "`";
    size_ = static_cast<uint64_t>(st.st_size);
    return {};
}

Result<void> CriLog::rotate() {
    fd_.reset();
    if (max_files_ == 1) {
        fd_ = BERTH_TRY(open_fd(path_, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0640));
        size_ = 0;
        return {};
    }
    // FILE.(n-2) -> FILE.(n-1), ..., FILE -> FILE.1; the oldest is overwritten.
    for (unsigned i = max_files_ - 1; i >= 1; i--) {
        std::string from = i == 1 ? path_ : path_ + "." + std::to_string(i - 1);
        std::string to = path_ + "." + std::to_string(i);
        if (::rename(from.c_str(), to.c_str()) != 0 && errno != ENOENT)
            return ErrnoError() << "rename `" << from << "` to `" << to << "`";
    }
    return reopen();
}

Result<void> CriLog::write_line(std::string_view line) {
    if (max_size_ != 0 && size_ != 0 && size_ + line.size() > max_size_) BERTH_TRY(rotate());
    BERTH_TRY(write_all(fd_, line));
    size_ += line.size();
    return {};
}

Result<void> CriLog::write(Stream stream, std::string_view chunk) {
    if (!fd_) BERTH_TRY(reopen());
    const std::string timestamp = now_rfc3339();
    Result<void> result;
    for_each_cri_line(timestamp, stream, chunk, [&](std::string_view line) {
        if (result.ok()) result = write_line(line);
    });
    return result;
}

}  // namespace berth::monitor

// Container output in the Kubernetes CRI log format, one record per line:
//   2024-05-01T10:00:00.123456789Z stdout F a whole line
//   2024-05-01T10:00:00.123456789Z stdout P a piece with no newline yet
// with size-based rotation: FILE -> FILE.1 -> ... -> FILE.<max_files-1>.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"
#include "base/unique_fd.h"

namespace berth::monitor {

enum class Stream : uint8_t { kStdout = 1, kStderr = 2 };

const char* stream_name(Stream stream);

// Calls emit(line) for each CRI record in one chunk of output: every newline-terminated line
// as F (newline dropped), a trailing piece without newline as P. Pieces are not held back:
// a slow writer's half line is on disk at once, as conmon does.
template <typename Emit>
void for_each_cri_line(std::string_view timestamp, Stream stream, std::string_view chunk,
                       Emit&& emit) {
    std::string line;
    while (!chunk.empty()) {
        size_t nl = chunk.find('\n');
        bool full = nl != std::string_view::npos;
        std::string_view text = full ? chunk.substr(0, nl) : chunk;
        line.assign(timestamp);
        line += ' ';
        line += stream_name(stream);
        line += full ? " F " : " P ";
        line.append(text);
        line += '\n';
        emit(std::string_view(line));
        chunk.remove_prefix(full ? nl + 1 : chunk.size());
    }
}

class CriLog {
  public:
    // max_size 0: never rotate. max_files: files kept, the live one included (at least 1; with
    // 1 the live file is truncated instead of renamed).
    static Result<CriLog> open(const std::string& path, uint64_t max_size, unsigned max_files);

    Result<void> write(Stream stream, std::string_view chunk);
    // Closes and reopens the file (after somebody else moved it away).
    Result<void> reopen();
    uint64_t size() const { return size_; }

  private:
    CriLog() = default;
    Result<void> write_line(std::string_view line);
    Result<void> rotate();

    std::string path_;
    uint64_t max_size_ = 0;
    unsigned max_files_ = 2;
    UniqueFd fd_;
    uint64_t size_ = 0;
};

}  // namespace berth::monitor

// Reading the CRI log berth-monitor writes (`<time> <stdout|stderr> <P|F> <text>` per line):
// `logs`, `logs -f` and a foreground `run`, which follows the log rather than attach.sock so
// that nothing the container wrote before the client connected is missed.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"

namespace berth::engine {

struct LogRecord {
    std::string time;  // RFC 3339 with nanoseconds
    bool is_stderr = false;
    bool partial = false;  // P: the line goes on in the next record of the stream
    std::string text;
};

std::optional<LogRecord> parse_cri_line(std::string_view line);

// Reads a log file from the start (or from where it left off), record by record; a line
// still being written (no newline yet) waits for the next read.
class LogFollower {
  public:
    // A missing file reads as empty until it appears.
    explicit LogFollower(std::string path) : path_(std::move(path)) {}
    Result<std::vector<LogRecord>> read_new();

  private:
    std::string path_;
    UniqueFd fd_;
    std::string pending_;
};

// The last `n` lines (a line: P records up to an F of the same stream) of `records`.
std::vector<LogRecord> tail_lines(const std::vector<LogRecord>& records, size_t n);

// Writes records to berth's stdout/stderr by stream, the time in front of each line when
// asked. at_line_start: per stream, whether the next record begins a line.
class LogPrinter {
  public:
    explicit LogPrinter(bool timestamps) : timestamps_(timestamps) {}
    Result<void> print(const std::vector<LogRecord>& records);

  private:
    bool timestamps_;
    bool out_at_start_ = true, err_at_start_ = true;
};

}  // namespace berth::engine

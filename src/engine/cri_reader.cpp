#include "engine/cri_reader.h"

#include <fcntl.h>
#include <unistd.h>

#include "base/file.h"

namespace berth::engine {

std::optional<LogRecord> parse_cri_line(std::string_view line) {
    size_t sp1 = line.find(' ');
    if (sp1 == std::string_view::npos) return std::nullopt;
    size_t sp2 = line.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos) return std::nullopt;
    LogRecord r;
    r.time = std::string(line.substr(0, sp1));
    std::string_view stream = line.substr(sp1 + 1, sp2 - sp1 - 1);
    if (stream == "stderr") {
        r.is_stderr = true;
    } else if (stream != "stdout") {
        return std::nullopt;
    }
    std::string_view rest = line.substr(sp2 + 1);
    if (rest.size() < 1 || (rest[0] != 'P' && rest[0] != 'F')) return std::nullopt;
    r.partial = rest[0] == 'P';
    if (rest.size() >= 2) {
        if (rest[1] != ' ') return std::nullopt;
        r.text = std::string(rest.substr(2));
    }
    return r;
}

Result<std::vector<LogRecord>> LogFollower::read_new() {
    std::vector<LogRecord> out;
    if (!fd_) {
        auto fd = open_fd(path_, O_RDONLY | O_CLOEXEC);
        if (!fd.ok()) {
            if (fd.error().errno_value() == ENOENT) return out;
            return std::move(fd).error();
        }
        fd_ = std::move(*fd);
    }
    char buf[65536];
    for (;;) {
        ssize_t n = ::read(fd_.get(), buf, sizeof(buf));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return ErrnoError() << "reading `" << path_ << "`";
        if (n == 0) break;
        pending_.append(buf, size_t(n));
    }
    size_t start = 0;
    for (size_t nl; (nl = pending_.find('\n', start)) != std::string::npos; start = nl + 1) {
        if (auto r = parse_cri_line(std::string_view(pending_).substr(start, nl - start))) {
            out.push_back(std::move(*r));
        }
    }
    pending_.erase(0, start);
    return out;
}

std::vector<LogRecord> tail_lines(const std::vector<LogRecord>& records, size_t n) {
    // Walk back counting the lines' last records (F); keep from the first record of the
    // n-th line from the end.
    size_t lines = 0;
    size_t i = records.size();
    while (i > 0) {
        const LogRecord& r = records[i - 1];
        if (!r.partial) {
            if (lines == n) break;
            ++lines;
        }
        --i;
    }
    return std::vector<LogRecord>(records.begin() + long(i), records.end());
}

Result<void> LogPrinter::print(const std::vector<LogRecord>& records) {
    std::string out, err;
    for (const auto& r : records) {
        std::string& dst = r.is_stderr ? err : out;
        bool& at_start = r.is_stderr ? err_at_start_ : out_at_start_;
        if (timestamps_ && at_start) dst += r.time + " ";
        dst += r.text;
        if (!r.partial) dst += '\n';
        at_start = !r.partial;
    }
    if (!out.empty()) BERTH_TRY(write_all(STDOUT_FILENO, out));
    if (!err.empty()) BERTH_TRY(write_all(STDERR_FILENO, err));
    return {};
}

}  // namespace berth::engine

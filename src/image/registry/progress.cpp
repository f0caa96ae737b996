#include "image/registry/progress.h"

#include <unistd.h>

#include <cstdio>

#include "base/file.h"

namespace berth::image::registry {
namespace {

std::string human(uint64_t n) {
    const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = static_cast<double>(n);
    int u = 0;
    while (v >= 1024 && u < 4) {
        v /= 1024;
        ++u;
    }
    char buf[32];
    snprintf(buf, sizeof(buf), u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
    return buf;
}

void write_stderr(std::string_view s) {
    (void)write_all(BorrowedFd(STDERR_FILENO), s);
}

}  // namespace

Progress::Progress(bool enabled) : enabled_(enabled), tty_(enabled && isatty(STDERR_FILENO)) {}

Progress::~Progress() {
    std::lock_guard lock(mu_);
    if (tty_ && first_drawn_ < bars_.size()) redraw_locked(true);
}

std::string Progress::render(const Bar& b) const {
    std::string line = "Copying " + b.label;
    if (!b.status.empty()) return line + " " + b.status;
    constexpr int kWidth = 30;
    int filled = b.total ? static_cast<int>(kWidth * std::min(b.done, b.total) / b.total) : 0;
    line += " [" + std::string(filled, '=') + std::string(kWidth - filled, ' ') + "] ";
    line += human(b.done) + " / " + human(b.total);
    return line;
}

void Progress::redraw_locked(bool force) {
    auto now = std::chrono::steady_clock::now();
    if (!force && now - last_draw_ < std::chrono::milliseconds(100)) return;
    last_draw_ = now;
    std::string out;
    if (drawn_lines_) out += "\x1b[" + std::to_string(drawn_lines_) + "A";  // back to the top
    for (size_t i = first_drawn_; i < bars_.size(); ++i) {
        out += "\r\x1b[K" + render(bars_[i]) + "\n";
    }
    drawn_lines_ = bars_.size() - first_drawn_;
    write_stderr(out);
}

int Progress::add(std::string label, uint64_t total) {
    std::lock_guard lock(mu_);
    bars_.push_back(Bar{std::move(label), total, 0, {}});
    if (tty_) redraw_locked(true);
    return static_cast<int>(bars_.size() - 1);
}

void Progress::add_bytes(int id, uint64_t n) {
    if (!tty_) return;
    std::lock_guard lock(mu_);
    bars_[id].done += n;
    redraw_locked(false);
}

void Progress::reset(int id, uint64_t done) {
    if (!tty_) return;
    std::lock_guard lock(mu_);
    bars_[id].done = done;
    redraw_locked(false);
}

void Progress::finish(int id, std::string_view status) {
    if (!enabled_) return;
    std::lock_guard lock(mu_);
    bars_[id].status = status;
    if (tty_) {
        redraw_locked(true);
    } else {
        write_stderr(render(bars_[id]) + "\n");
    }
}

void Progress::message(std::string_view line) {
    if (!enabled_) return;
    std::lock_guard lock(mu_);
    // The bars stay above the message in their last state; later ones start below it.
    if (tty_ && first_drawn_ < bars_.size()) redraw_locked(true);
    first_drawn_ = bars_.size();
    drawn_lines_ = 0;
    write_stderr(std::string(line) + "\n");
}

}  // namespace berth::image::registry

// What a pull or push shows on stderr: on a terminal one bar per blob, redrawn in place (at most
// ten times a second); otherwise one plain line per finished blob ("Copying blob sha256:abc
// done"), which is what logs and CI want.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace berth::image::registry {

class Progress {
  public:
    // enabled=false: silent. The terminal check is isatty(2).
    explicit Progress(bool enabled);
    ~Progress();

    // A line for "blob sha256:..."; returns its id for update()/finish().
    int add(std::string label, uint64_t total);
    void add_bytes(int id, uint64_t n);
    void reset(int id, uint64_t done);             // a restarted download
    void finish(int id, std::string_view status);  // "done", "skipped: already exists"
    void message(std::string_view line);

  private:
    struct Bar {
        std::string label;
        uint64_t total = 0, done = 0;
        std::string status;  // set when finished
    };
    void redraw_locked(bool force);
    std::string render(const Bar& b) const;

    bool enabled_, tty_;
    std::mutex mu_;
    std::vector<Bar> bars_;
    size_t first_drawn_ = 0;  // bars above a message() are left as they were
    size_t drawn_lines_ = 0;
    std::chrono::steady_clock::time_point last_draw_{};
};

}  // namespace berth::image::registry

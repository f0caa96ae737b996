// Runs an undo action at scope exit unless dismissed: register it on the line after the
// acquire, dismiss once the whole operation has succeeded.
#pragma once

#include <utility>

namespace berth {

template <typename F>
class ScopeGuard {
  public:
    explicit ScopeGuard(F f) : f_(std::move(f)) {}
    ScopeGuard(const ScopeGuard&) = delete;
    ScopeGuard& operator=(const ScopeGuard&) = delete;
    ScopeGuard(ScopeGuard&& o) noexcept
        : f_(std::move(o.f_)), active_(std::exchange(o.active_, false)) {}
    ~ScopeGuard() {
        if (active_) f_();
    }
    void dismiss() { active_ = false; }

  private:
    F f_;
    bool active_ = true;
};

template <typename F>
ScopeGuard<F> make_scope_guard(F f) {
    return ScopeGuard<F>(std::move(f));
}

}  // namespace berth

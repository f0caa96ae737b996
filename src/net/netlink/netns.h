// Network-namespace work that never switches a shared thread. setns() changes only the calling
// thread, and a thread that cannot switch back would carry the wrong namespace into whatever it
// runs next. So each call gets a fresh thread that enters the namespace, runs the function, and
// ends: it is never reused, and nothing ever needs to switch back.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "base/result.h"
#include "base/unique_fd.h"

namespace berth::net {

// Opens a namespace file (/run/netns/x, /proc/<pid>/ns/net) O_RDONLY|O_CLOEXEC.
Result<UniqueFd> open_netns(const std::string& path);
// The calling thread's network namespace.
Result<UniqueFd> current_netns();

namespace detail {
// Runs body on a new thread that has first joined `netns`; joins it before returning.
Result<void> run_on_thread_in_netns(BorrowedFd netns, const std::function<void()>& body);
}  // namespace detail

// Runs fn() inside `netns` on a fresh thread and returns what it returns. fn must return a
// Result<T>; it must not throw, and must not keep the thread (it ends when fn returns).
template <typename F>
auto in_netns(BorrowedFd netns, F&& fn) -> std::invoke_result_t<F&> {
    using R = std::invoke_result_t<F&>;
    std::optional<R> out;
    auto ran = detail::run_on_thread_in_netns(netns, [&] { out.emplace(fn()); });
    if (!ran) return std::move(ran).error();
    return std::move(*out);
}

}  // namespace berth::net

#include "image/registry/parallel.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace berth::image::registry {

Result<void> run_parallel(size_t count, int workers,
                          const std::function<Result<void>(size_t)>& job) {
    std::atomic<size_t> next{0};
    std::atomic<bool> failed{false};
    std::mutex mu;
    std::optional<std::pair<size_t, Error>> first;
    auto work = [&] {
        while (!failed.load()) {
            size_t i = next.fetch_add(1);
            if (i >= count) return;
            auto r = job(i);
            if (!r) {
                std::lock_guard lock(mu);
                if (!first || i < first->first) first.emplace(i, std::move(r).error());
                failed = true;
            }
        }
    };
    size_t n = std::clamp<size_t>(static_cast<size_t>(std::max(workers, 1)), 1, count ? count : 1);
    std::vector<std::thread> threads;
    for (size_t i = 1; i < n; ++i) threads.emplace_back(work);
    work();
    for (auto& t : threads) t.join();
    if (first) return std::move(first->second);
    return {};
}

}  // namespace berth::image::registry

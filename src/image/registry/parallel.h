// A few worker threads taking jobs from a shared counter: layer transfers, each worker with its
// own curl handle from the client's pool.
#pragma once

#include <cstddef>
#include <functional>

#include "base/result.h"

namespace berth::image::registry {

// Runs job(0..count-1) on up to `workers` threads; after a failure no new job starts. Returns
// the first error (by job index, so the message does not depend on timing).
Result<void> run_parallel(size_t count, int workers,
                          const std::function<Result<void>(size_t)>& job);

}  // namespace berth::image::registry

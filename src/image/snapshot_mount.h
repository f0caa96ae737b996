// How mount_overlay talks to the kernel, exposed so tests can force each way.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"

namespace berth::image {

enum class OverlayApi {
    Auto,       // fsconfig's "lowerdir+" where the kernel has it (6.8+), else mount(2)
    FsConfig,   // fsopen/fsconfig/fsmount, one "lowerdir+" per layer: no length limit
    MountData,  // mount(2) with an option string; past a page, lowers as /proc/self/fd/N
};

Result<void> mount_overlay_via(OverlayApi api, const std::vector<std::string>& lower_top_first,
                               const std::string& upper, const std::string& work,
                               const std::string& target, bool transient = false);

// The "lowerdir=" value: layers joined with ':', and '\', ':' and ',' escaped with '\'.
std::string overlay_lowerdir_option(const std::vector<std::string>& lower_top_first);

}  // namespace berth::image

// Mount option strings (as in config.json and fstab) split into mount(2) flags, propagation
// flags, recursive attributes for mount_setattr(2), and the filesystem data string.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"

namespace berth::runtime {

struct MountOptions {
    unsigned long flags = 0;              // MS_* set
    unsigned long clear = 0;              // MS_* explicitly cleared (rw, suid, dev, exec ...)
    unsigned long propagation = 0;        // MS_PRIVATE|MS_REC ...
    uint64_t attr_set = 0, attr_clr = 0;  // MOUNT_ATTR_* for the recursive r* options
    std::string data;                     // everything the kernel gets as the data string
    bool bind = false, rbind = false;
    bool idmap = false;
};

// "field" names the option list in errors: "mounts[3].options".
Result<MountOptions> parse_mount_options(const std::vector<std::string>& opts,
                                         const std::string& field);
unsigned long propagation_flag(const std::string& name);  // 0 when unknown

// The mount options berth accepts (for `features`).
std::vector<std::string> known_mount_options();

}  // namespace berth::runtime

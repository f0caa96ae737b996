// /dev inside the container: the default device nodes the spec requires, the spec's own
// devices, and the /dev symlinks (fd, stdin, stdout, stderr, ptmx).
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "oci/spec.h"

namespace berth::runtime {

// The spec's default devices: null zero full random urandom tty.
const std::vector<oci::Device>& default_devices();
// The device cgroup rules that let the container use them (and /dev/pts, /dev/ptmx).
std::vector<oci::DeviceCgroup> default_device_rules();

// Creates nodes under rootfs/dev (mknod, or a bind of the host node in a user namespace).
Result<void> create_devices(const std::string& rootfs, const std::vector<oci::Device>& devices,
                            bool userns, const char* field);
Result<void> create_dev_symlinks(const std::string& rootfs);

}  // namespace berth::runtime

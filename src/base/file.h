// Whole-file reads and writes, directories, and path helpers. Every open is O_CLOEXEC.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "base/result.h"
#include "base/unique_fd.h"

namespace berth {

Result<std::string> read_file(const std::string& path);
Result<std::string> read_fd(BorrowedFd fd);
// Writes with O_WRONLY|O_TRUNC (no O_CREAT unless create): what cgroup and /proc files want.
Result<void> write_file(const std::string& path, std::string_view data, bool create = false,
                        mode_t mode = 0644);
// Writes PATH.tmp then renames it over PATH, so readers see the old or the new file whole.
Result<void> write_file_atomic(const std::string& path, std::string_view data, mode_t mode = 0644);
Result<void> write_all(BorrowedFd fd, std::string_view data);
Result<void> mkdir_p(const std::string& path, mode_t mode = 0755);
// rm -rf that does not cross mount points; a missing path is success.
Result<void> remove_all(const std::string& path);
bool path_exists(const std::string& path);
bool is_directory(const std::string& path);

// Lexical path helpers (no symlink resolution).
std::string path_join(std::string_view a, std::string_view b);
std::string path_dirname(std::string_view p);
std::string path_clean(std::string_view p);

}  // namespace berth

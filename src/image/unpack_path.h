// The pure rules of layer unpacking: which tar entry names are allowed and what OCI whiteout
// names mean. Kept apart from the filesystem work so they are unit-tested without root.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace berth::image {

// A tar entry name as the components of a path below the layer directory ("./a//b/" ->
// {"a","b"}; "." and "./" -> {}, the layer directory itself). "a/../b" is cleaned lexically to
// {"b"}. Refused with EPERM naming the entry: absolute names ("/etc/x") and names whose ".."
// climbs above the layer directory. EINVAL for an empty name.
Result<std::vector<std::string>> clean_entry_path(std::string_view name);

// "a/b/c" for messages.
std::string join_components(const std::vector<std::string>& parts, size_t count);

enum class WhiteoutKind {
    None,     // an ordinary entry
    Remove,   // ".wh.NAME": NAME of the lower layers is deleted (an overlayfs 0/0 char device)
    Opaque,   // ".wh..wh..opq": the directory hides the lower layers' contents
    Ignored,  // other ".wh..wh.*" names: AUFS bookkeeping that docker once exported
};

struct Whiteout {
    WhiteoutKind kind = WhiteoutKind::None;
    std::string target;  // NAME for Remove
};

// What the last component of an entry name means. EPERM for ".wh." followed by nothing, "."
// or "..": a whiteout of the directory itself or of its parent.
Result<Whiteout> classify_whiteout(std::string_view base);

// Whether a tar's xattr is written to disk. overlayfs's own trusted.overlay.* attributes
// (opaque, redirect, metacopy) would let a layer forge what the kernel trusts, and
// security.selinux labels belong to the host's policy, not to the image.
bool xattr_allowed(std::string_view name);

}  // namespace berth::image

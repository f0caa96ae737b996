// Unpacking an image layer (a tar, gzip- or zstd-compressed) into a directory with libarchive:
// OCI whiteouts become overlayfs whiteouts (".wh.x" -> a 0/0 character device "x";
// ".wh..wh..opq" -> the directory's trusted.overlay.opaque="y"), ownership, modes, times,
// xattrs, hard links, device nodes and symlinks are kept, and no entry may land or write
// outside `dest`: absolute paths, ".." above `dest`, hard links out of it and any entry whose
// parent is a symlink are refused with EPERM naming the entry. Symlinks themselves may point
// anywhere (the container resolves them). trusted.overlay.* and security.selinux xattrs of
// the tar are dropped.
#pragma once

#include <string>

#include "base/result.h"
#include "base/unique_fd.h"
#include "image/digest.h"
#include "image/oci_image.h"

namespace berth::image {

struct UnpackOptions {
    bool same_owner = true;  // chown entries to their uid/gid (root); false for rootless
};

// Unpacks the layer read from `blob` into the existing empty directory `dest`; returns the
// sha256 of the uncompressed tar stream (the layer's diff ID) so the caller can check it
// against the image config. On any error `dest` is emptied again. EINVAL for a corrupt tar or
// compressed stream, ENOTSUP when libarchive lacks the decoder.
Result<Digest> unpack_layer(BorrowedFd blob, Compression compression, const std::string& dest,
                            const UnpackOptions& options = {});

}  // namespace berth::image

// Images made from plain filesystems and back: a directory or a rootfs tarball becomes a layer
// (podman import, `berth image import-rootfs`), layers become a config and an OCI manifest, and
// an image's layers are flattened into one filesystem tar (`berth image export`).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "base/result.h"
#include "image/content_store.h"
#include "image/oci_image.h"

namespace berth::image {

struct LayerBlob {
    Descriptor desc;  // the stored blob (media type, digest, size)
    Digest diff_id;   // sha256 of the uncompressed tar
};

// A tar of everything under `dir` (ownership, modes, times, xattrs, hard links, devices;
// sockets are skipped), gzip-compressed into the store.
Result<LayerBlob> layer_from_directory(ContentStore& store, const std::string& dir);

// A rootfs tarball (uncompressed, gzip, zstd, xz or bzip2): an uncompressed tar is stored as
// it is; a compressed one is stored gzip-compressed.
Result<LayerBlob> layer_from_tarball(ContentStore& store, const std::string& path);

struct NewImageConfig {
    Platform platform;       // architecture empty: this machine's
    std::string created;     // RFC 3339; empty: now
    std::string created_by;  // the history entry
    std::string comment;
    std::vector<std::string> env, entrypoint, cmd;
    std::string working_dir, user, stop_signal;
    std::vector<std::string> exposed_ports, volumes;
    std::map<std::string, std::string> labels;
};

// Writes the config and an OCI manifest for `layers` (lowest first); returns the manifest's
// descriptor.
Result<Descriptor> make_image(ContentStore& store, const std::vector<LayerBlob>& layers,
                              const NewImageConfig& config);

// The union of the manifest's layers as one tar at `tar_path`: upper layers' entries win,
// whiteouts and opaque directories hide what lies below them and are not written themselves.
// Entries come top layer first, so a directory may follow its files (tar readers create missing
// parents).
Result<void> export_flattened(const ContentStore& store, const Manifest& manifest,
                              const std::string& tar_path);

}  // namespace berth::image

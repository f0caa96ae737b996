// Image formats on disk: OCI image layout directories, oci-archive (a tar of a layout) and
// docker-archive (what `docker save` writes), in and out of the content store.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "base/result.h"
#include "image/content_store.h"
#include "image/oci_image.h"

namespace berth::image {

// A named image in an archive: the name may be empty (an unnamed manifest).
using NamedImage = std::pair<std::string, Descriptor>;

// Import: every blob verified on the way into the store; returns the images found (names from
// org.opencontainers.image.ref.name, or a docker archive's RepoTags).
Result<std::vector<NamedImage>> import_oci_layout(ContentStore& store, const std::string& dir);
Result<std::vector<NamedImage>> import_oci_archive(ContentStore& store,
                                                   const std::string& tar_path);
Result<std::vector<NamedImage>> import_docker_archive(ContentStore& store,
                                                      const std::string& tar_path);
// Detects the format (a directory with oci-layout; a tar holding oci-layout or manifest.json).
Result<std::vector<NamedImage>> import_any(ContentStore& store, const std::string& path);

Result<void> export_oci_layout(const ContentStore& store, const std::vector<NamedImage>& images,
                               const std::string& dir);
Result<void> export_oci_archive(const ContentStore& store, const std::vector<NamedImage>& images,
                                const std::string& tar_path);
Result<void> export_docker_archive(const ContentStore& store, const std::vector<NamedImage>& images,
                                   const std::string& tar_path);

}  // namespace berth::image

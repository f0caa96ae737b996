// What an image descriptor reaches in the content store (index -> manifests -> config and
// layers), shared by the exporters, and the annotations the OCI layout uses for names.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "image/content_store.h"
#include "image/oci_image.h"

namespace berth::image {

inline constexpr std::string_view kRefNameAnnotation = "org.opencontainers.image.ref.name";
inline constexpr std::string_view kContainerdNameAnnotation = "io.containerd.image.name";

// Every descriptor `top` reaches, `top` first, each digest once. ENOENT naming the missing blob
// and what refers to it when one is not in the store.
Result<std::vector<Descriptor>> reachable_blobs(const ContentStore& store, const Descriptor& top);

// `top`, or when it is an index some of whose manifests are not in the store (a pull keeps only
// one platform), the manifest for this machine's platform: what can be exported whole.
Result<Descriptor> exportable_descriptor(const ContentStore& store, const Descriptor& top);

// The manifest `top` stands for on this machine (itself, or the index's entry for the host
// platform), parsed.
struct ManifestInfo {
    Descriptor desc;
    Manifest manifest;
};
Result<ManifestInfo> platform_manifest(const ContentStore& store, const Descriptor& top,
                                       const Platform& platform);

}  // namespace berth::image

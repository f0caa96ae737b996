// Which manifest media type a registry answer (or a stored blob) has, and what we accept.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

namespace berth::image::registry {

// The Accept header of a manifest GET: OCI index and manifest, Docker list and schema 2.
extern const char* const kManifestAccept;

// The media type from Content-Type (parameters dropped) or, when that says nothing
// ("application/json", "text/plain", absent), from the document's "mediaType" field, or from
// its shape ("manifests": an OCI index; "config": an OCI manifest). EPROTO naming it when it is
// not an index or image manifest we understand (Docker schema 1 included).
Result<std::string> manifest_media_type(std::string_view content_type, std::string_view body);

}  // namespace berth::image::registry

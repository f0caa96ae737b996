// A client of the Docker Registry HTTP API v2 / OCI distribution spec over libcurl: pull and push
// into and out of the content store, Bearer-token and basic authentication with credentials
// from a docker config.json-style file, TLS verified by default.
#pragma once

#include <string>

#include "base/result.h"
#include "image/content_store.h"
#include "image/oci_image.h"
#include "image/reference.h"

namespace berth::image {

struct RegistryOptions {
    bool tls_verify = true;
    std::string auth_file;    // docker config.json format; empty: $REGISTRY_AUTH_FILE, then
                              // $XDG_RUNTIME_DIR/containers/auth.json, then ~/.docker/config.json
    std::string cert_dir;     // extra CA certificates (*.crt), as podman's --cert-dir
    int parallel = 3;         // layers downloaded at once
    int retries = 3;          // on transient errors (connection, 5xx, 429)
    bool progress = false;    // progress bars (a terminal) or plain lines on stderr
    bool plain_http = false;  // http:// instead of https:// (implied by tls_verify=false only
                              // when the registry does not answer TLS, as podman does)
};

// Fetches the reference's manifest (or index, plus the manifest for `platform`), config and
// layers into `store`, each checked against its digest. Returns the top-level descriptor (the
// index when there is one) to record under the reference's name.
Result<Descriptor> pull(ContentStore& store, const Reference& ref, const Platform& platform,
                        const RegistryOptions& options);

// Uploads what `top` names (index, manifests, configs, layers) from `store` to `ref`, skipping
// blobs the registry already has.
Result<void> push(const ContentStore& store, const Descriptor& top, const Reference& ref,
                  const RegistryOptions& options);

}  // namespace berth::image

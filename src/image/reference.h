// Image references as docker and podman read them: "busybox" is
// docker.io/library/busybox:latest; "localhost:5000/a/b:t", "x@sha256:...".
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

namespace berth::image {

struct Reference {
    std::string registry;    // "docker.io", "localhost:5000"
    std::string repository;  // "library/busybox"
    std::string tag;         // "latest" when neither tag nor digest is given
    std::string digest;      // "sha256:..." or empty

    // EINVAL naming the reference and what is wrong with it.
    static Result<Reference> parse(std::string_view text);
    std::string str() const;  // normalized "registry/repository[:tag][@digest]"
};

}  // namespace berth::image

// Content digests ("sha256:<64 hex>") and incremental SHA-256 (OpenSSL's EVP interface).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "base/result.h"

namespace berth::image {

struct Digest {
    std::string algorithm;  // only "sha256" is accepted
    std::string hex;        // lowercase, 64 characters

    // EINVAL naming the text for anything but "sha256:" + 64 lowercase hex digits.
    static Result<Digest> parse(std::string_view text);
    std::string str() const { return algorithm + ":" + hex; }
    bool operator==(const Digest&) const = default;
    auto operator<=>(const Digest&) const = default;
};

class Sha256 {
  public:
    Sha256();
    ~Sha256();
    Sha256(Sha256&&) noexcept;
    Sha256& operator=(Sha256&&) noexcept;
    void update(std::string_view data);
    Digest finish();  // once

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

Digest sha256_of(std::string_view data);

}  // namespace berth::image

#include "image/digest.h"

#include <openssl/evp.h>

#include <cstdlib>

namespace berth::image {

Result<Digest> Digest::parse(std::string_view text) {
    auto colon = text.find(':');
    if (colon == std::string_view::npos)
        return Error(EINVAL) << "digest `" << text << "`: no algorithm (want sha256:<hex>)";
    std::string_view algorithm = text.substr(0, colon), hex = text.substr(colon + 1);
    if (algorithm != "sha256")
        return Error(EINVAL) << "digest `" << text << "`: unsupported algorithm `" << algorithm
                             << "` (only sha256)";
    if (hex.size() != 64)
        return Error(EINVAL) << "digest `" << text << "`: want 64 hex digits, have " << hex.size();
    for (char c : hex) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return Error(EINVAL) << "digest `" << text << "`: not lowercase hex";
    }
    return Digest{std::string(algorithm), std::string(hex)};
}

struct Sha256::Impl {
    EVP_MD_CTX* ctx = nullptr;
    ~Impl() { EVP_MD_CTX_free(ctx); }
};

Sha256::Sha256() : impl_(std::make_unique<Impl>()) {
    impl_->ctx = EVP_MD_CTX_new();
    // Only fails on allocation failure, which the C++ allocator would also report by aborting.
    if (!impl_->ctx || EVP_DigestInit_ex(impl_->ctx, EVP_sha256(), nullptr) != 1) std::abort();
}
Sha256::~Sha256() = default;
Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;

void Sha256::update(std::string_view data) {
    EVP_DigestUpdate(impl_->ctx, data.data(), data.size());
}

Digest Sha256::finish() {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(impl_->ctx, md, &len);
    static constexpr char kHex[] = "0123456789abcdef";
    Digest d{"sha256", std::string(len * 2, '0')};
    for (unsigned i = 0; i < len; ++i) {
        d.hex[2 * i] = kHex[md[i] >> 4];
        d.hex[2 * i + 1] = kHex[md[i] & 0xf];
    }
    return d;
}

Digest sha256_of(std::string_view data) {
    Sha256 h;
    h.update(data);
    return h.finish();
}

}  // namespace berth::image

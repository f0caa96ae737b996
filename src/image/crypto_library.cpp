// libcrypto (OpenSSL), loaded on first use: berth needs it for SHA-256 digests of image content
// and base64 in registry credentials, which most commands never compute, while loading and
// relocating it cost every command most of a millisecond. These definitions stand in for the
// functions berth calls (see base/lazy_library.h); they have evp.h's declarations, so a drifted
// parameter list would not link. A new call needs its line here.
#include <openssl/evp.h>

#include "base/lazy_library.h"

#define BERTH_CRYPTO_CALL(name) BERTH_LAZY_FUNCTION("libcrypto.so.3", "libssl3", name)

EVP_MD_CTX* EVP_MD_CTX_new(void) {
    return BERTH_CRYPTO_CALL(EVP_MD_CTX_new)();
}
void EVP_MD_CTX_free(EVP_MD_CTX* ctx) {
    BERTH_CRYPTO_CALL(EVP_MD_CTX_free)(ctx);
}
const EVP_MD* EVP_sha256(void) {
    return BERTH_CRYPTO_CALL(EVP_sha256)();
}
int EVP_DigestInit_ex(EVP_MD_CTX* ctx, const EVP_MD* type, ENGINE* impl) {
    return BERTH_CRYPTO_CALL(EVP_DigestInit_ex)(ctx, type, impl);
}
int EVP_DigestUpdate(EVP_MD_CTX* ctx, const void* d, size_t cnt) {
    return BERTH_CRYPTO_CALL(EVP_DigestUpdate)(ctx, d, cnt);
}
int EVP_DigestFinal_ex(EVP_MD_CTX* ctx, unsigned char* md, unsigned int* s) {
    return BERTH_CRYPTO_CALL(EVP_DigestFinal_ex)(ctx, md, s);
}
int EVP_EncodeBlock(unsigned char* t, const unsigned char* f, int n) {
    return BERTH_CRYPTO_CALL(EVP_EncodeBlock)(t, f, n);
}
int EVP_DecodeBlock(unsigned char* t, const unsigned char* f, int n) {
    return BERTH_CRYPTO_CALL(EVP_DecodeBlock)(t, f, n);
}

/* Internal interface of cv_crypto.c for the other C sources (the public prototypes, the ones
 * Python calls, are in cv_ffi.h). ECDSA through OpenSSL's libcrypto >= 3.0, EVP API. */
#ifndef CV_CRYPTO_H
#define CV_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include "cv_api.h"

/* Raw X||Y sizes: P-256, P-384, P-521 (the largest sizes the buffers below hold). */
enum { CV_P256_POINT = 64, CV_P384_POINT = 96, CV_P521_POINT = 132, CV_MAX_POINT = 132 };

/* 1 when key was made from exactly point[0, len). */
int cv_ec_key_has_point(const cv_ec_key *key, const uint8_t *point, size_t len);

#endif /* CV_CRYPTO_H */

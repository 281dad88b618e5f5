/* ECDSA verification of raw r||s signatures with raw X||Y points, through OpenSSL's libcrypto
 * (>= 3.0, EVP API). The range checks (1 <= r, s < n) and the point checks (coordinates below
 * p, on the curve, not at infinity) are libcrypto's. Never calls back into Python; every
 * result is CV_SIG_OK or CV_SIG_BAD, whatever the input. Each entry point leaves the
 * thread's OpenSSL error queue as it found it (ERR_set_mark/ERR_pop_to_mark): Python's
 * hashlib and ssl read the same queue. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/opensslv.h>
#include <openssl/params.h>

#include "cv_crypto.h"

#if OPENSSL_VERSION_MAJOR < 3
#error "the cocoverify native core needs OpenSSL >= 3.0 headers (Debian: libssl-dev)"
#endif

struct cv_ec_key {
    EVP_PKEY *pkey;
    EVP_MD *md;       /* the hash of the curve's ECDSA variant, fetched once */
    size_t point_len; /* 64, 96 or 132 */
    uint8_t point[CV_MAX_POINT];
};

/* Group and hash names per raw point size (FIPS 186-4 curves; SEC 1 2.3.3 encoding). */
static int curve_of(size_t len, const char **group, const char **md)
{
    switch (len) {
    case CV_P256_POINT:
        *group = "prime256v1";
        *md = "SHA2-256";
        return 1;
    case CV_P384_POINT:
        *group = "secp384r1";
        *md = "SHA2-384";
        return 1;
    case CV_P521_POINT:
        *group = "secp521r1";
        *md = "SHA2-512";
        return 1;
    default:
        return 0;
    }
}

void cv_ec_key_free(cv_ec_key *key)
{
    if (key == NULL) {
        return;
    }
    EVP_PKEY_free(key->pkey);
    EVP_MD_free(key->md);
    free(key);
}

/* One parameters-only EVP_PKEY per curve (the group alone), made once per process: a new
 * key is a copy of it with the point set, about half the time of decoding the group name
 * again (EVP_PKEY_fromdata) with libcrypto 3.0. Never freed (reachable until exit). */
static CRYPTO_ONCE templates_once = CRYPTO_ONCE_STATIC_INIT;
static EVP_PKEY *templates[3]; /* P-256, P-384, P-521 */
static const char *const template_groups[3] = {"prime256v1", "secp384r1", "secp521r1"};

static void make_templates(void)
{
    for (int i = 0; i < 3; i++) {
        OSSL_PARAM params[2];
        params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
                                                     (char *)template_groups[i], 0);
        params[1] = OSSL_PARAM_construct_end();
        EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
        EVP_PKEY *pkey = NULL;
        if (ctx != NULL && EVP_PKEY_fromdata_init(ctx) == 1 &&
            EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_KEY_PARAMETERS, params) == 1) {
            templates[i] = pkey;
        } else {
            EVP_PKEY_free(pkey);
        }
        EVP_PKEY_CTX_free(ctx);
    }
}

static EVP_PKEY *template_for(size_t len)
{
    if (CRYPTO_THREAD_run_once(&templates_once, make_templates) != 1) {
        return NULL;
    }
    switch (len) {
    case CV_P256_POINT:
        return templates[0];
    case CV_P384_POINT:
        return templates[1];
    case CV_P521_POINT:
        return templates[2];
    default:
        return NULL;
    }
}

/* The key check both ways of making a key end with: public_check_quick refuses the point
 * at infinity (the decoders refuse coordinates >= p and points off the curve). */
static EVP_PKEY *checked(EVP_PKEY *pkey)
{
    EVP_PKEY_CTX *check = pkey != NULL ? EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL) : NULL;
    int ok = check != NULL && EVP_PKEY_public_check_quick(check) == 1;
    EVP_PKEY_CTX_free(check);
    if (!ok) {
        EVP_PKEY_free(pkey);
        return NULL;
    }
    return pkey;
}

/* EVP_PKEY from 0x04||X||Y: a copy of the curve's template with the encoded point set
 * (EC_POINT_oct2point: coordinates < p, on the curve), else (no template) fromdata, which
 * decodes the point the same way; then ``checked``. The three curves have cofactor 1, so a
 * point on the curve has order n. */
static EVP_PKEY *pkey_from_point(const char *group, const uint8_t *point, size_t len)
{
    uint8_t encoded[1 + CV_MAX_POINT];
    EVP_PKEY *pkey = NULL;
    encoded[0] = 0x04;
    memcpy(encoded + 1, point, len);
    EVP_PKEY *template = template_for(len);
    if (template != NULL) {
        pkey = EVP_PKEY_dup(template);
        if (pkey == NULL || EVP_PKEY_set1_encoded_public_key(pkey, encoded, 1 + len) != 1) {
            EVP_PKEY_free(pkey);
            return NULL;
        }
        return checked(pkey);
    }
    OSSL_PARAM params[3];
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)group, 0);
    params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, encoded, 1 + len);
    params[2] = OSSL_PARAM_construct_end();
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1) {
        EVP_PKEY_CTX_free(ctx);
        EVP_PKEY_free(pkey);
        return NULL;
    }
    EVP_PKEY_CTX_free(ctx);
    return checked(pkey);
}

static cv_ec_key *key_new(const uint8_t *point, size_t len)
{
    const char *group, *md_name;
    if (point == NULL || !curve_of(len, &group, &md_name)) {
        return NULL;
    }
    cv_ec_key *key = calloc(1, sizeof(*key));
    if (key == NULL) {
        return NULL;
    }
    key->pkey = pkey_from_point(group, point, len);
    key->md = EVP_MD_fetch(NULL, md_name, NULL);
    if (key->pkey == NULL || key->md == NULL) {
        cv_ec_key_free(key);
        return NULL;
    }
    key->point_len = len;
    memcpy(key->point, point, len);
    return key;
}

cv_ec_key *cv_ec_key_new(const uint8_t *point, size_t len)
{
    ERR_set_mark();
    cv_ec_key *key = key_new(point, len);
    ERR_pop_to_mark();
    return key;
}

int cv_ec_key_has_point(const cv_ec_key *key, const uint8_t *point, size_t len)
{
    return key != NULL && point != NULL && key->point_len == len &&
           memcmp(key->point, point, len) == 0;
}

/* DER INTEGER of a big-endian unsigned value (X.690 8.3: minimal, 0x00 before a set top
 * bit); returns the bytes written (at most 3 + n). */
static size_t der_integer(uint8_t *out, const uint8_t *be, size_t n)
{
    size_t skip = 0;
    while (skip + 1 < n && be[skip] == 0) {
        skip++;
    }
    size_t body = n - skip;
    int pad = (be[skip] & 0x80) != 0;
    out[0] = 0x02;
    out[1] = (uint8_t)(body + (size_t)pad); /* <= 67: short form */
    out[2] = 0x00;
    memcpy(out + 2 + pad, be + skip, body);
    return 2 + (size_t)pad + body;
}

/* ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER } (RFC 3279 2.2.3) from r||s. */
static size_t der_signature(uint8_t *out, const uint8_t *sig, size_t half, int little_endian)
{
    uint8_t r[CV_MAX_POINT / 2], s[CV_MAX_POINT / 2];
    for (size_t i = 0; i < half; i++) {
        r[i] = little_endian ? sig[half - 1 - i] : sig[i];
        s[i] = little_endian ? sig[2 * half - 1 - i] : sig[half + i];
    }
    uint8_t body[2 * (3 + CV_MAX_POINT / 2)];
    size_t n = der_integer(body, r, half);
    n += der_integer(body + n, s, half);
    size_t head;
    out[0] = 0x30;
    if (n < 0x80) {
        out[1] = (uint8_t)n;
        head = 2;
    } else { /* <= 138 */
        out[1] = 0x81;
        out[2] = (uint8_t)n;
        head = 3;
    }
    memcpy(out + head, body, n);
    return head + n;
}

static int verify_key(const cv_ec_key *key, const uint8_t *msg, size_t msg_len,
                      const uint8_t *sig, size_t sig_len, int little_endian)
{
    static const uint8_t empty[1] = {0};
    if (key == NULL || sig == NULL || sig_len != key->point_len ||
        (msg == NULL && msg_len != 0)) {
        return CV_SIG_BAD;
    }
    uint8_t der[3 + 2 * (3 + CV_MAX_POINT / 2)];
    size_t der_len = der_signature(der, sig, sig_len / 2, little_endian);
    uint8_t digest[EVP_MAX_MD_SIZE];
    unsigned int digest_len = 0;
    if (EVP_Digest(msg != NULL ? msg : empty, msg_len, digest, &digest_len, key->md, NULL) !=
        1) {
        return CV_SIG_BAD;
    }
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key->pkey, NULL);
    int ok = ctx != NULL && EVP_PKEY_verify_init(ctx) == 1 &&
             EVP_PKEY_verify(ctx, der, der_len, digest, digest_len) == 1;
    EVP_PKEY_CTX_free(ctx);
    return ok ? CV_SIG_OK : CV_SIG_BAD;
}

int cv_ecdsa_verify_key(const cv_ec_key *key, const uint8_t *msg, size_t msg_len,
                        const uint8_t *sig, size_t sig_len, int little_endian)
{
    ERR_set_mark();
    int rc = verify_key(key, msg, msg_len, sig, sig_len, little_endian);
    ERR_pop_to_mark();
    return rc;
}

int cv_ecdsa_verify(const uint8_t *point, size_t point_len, const uint8_t *msg, size_t msg_len,
                    const uint8_t *sig, size_t sig_len, int little_endian)
{
    cv_ec_key *key = cv_ec_key_new(point, point_len);
    int rc = cv_ecdsa_verify_key(key, msg, msg_len, sig, sig_len, little_endian);
    cv_ec_key_free(key);
    return rc;
}

const char *cv_crypto_version(void)
{
    return OpenSSL_version(OPENSSL_VERSION);
}

unsigned long cv_crypto_version_num(void)
{
    return OpenSSL_version_num();
}

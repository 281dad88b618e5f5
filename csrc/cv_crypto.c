/* ECDSA verification of raw r||s signatures with raw X||Y points, through OpenSSL's libcrypto
 * (>= 3.0, EVP API; for a P-256 key used often, libcrypto's EC_POINT API with a table of
 * the key's multiples, below). The range checks (1 <= r, s < n) and the point checks (coordinates below
 * p, on the curve, not at infinity) are libcrypto's. Never calls back into Python; every
 * result is CV_SIG_OK or CV_SIG_BAD, whatever the input. Each entry point leaves the
 * thread's OpenSSL error queue as it found it (ERR_set_mark/ERR_pop_to_mark): Python's
 * hashlib and ssl read the same queue. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* EC_GROUP_set_generator, EC_GROUP_precompute_mult and EC_POINT_* are deprecated since
 * OpenSSL 3.0 and still present in 3.x; without them (OPENSSL_NO_DEPRECATED_3_0, or 4.x)
 * every key takes the EVP path. */
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/opensslv.h>
#include <openssl/params.h>

#include "cv_crypto.h"

#if OPENSSL_VERSION_MAJOR < 3
#error "the cocoverify native core needs OpenSSL >= 3.0 headers (Debian: libssl-dev)"
#endif

#if OPENSSL_VERSION_MAJOR == 3 && !defined(OPENSSL_NO_DEPRECATED_3_0)
#define CV_FAST 1
#else
#define CV_FAST 0
#endif

/* A P-256 key's table (see verify_fast): the curve with the key's point as generator and
 * libcrypto's table of its multiples (about 150 KB with the x86-64/ARMv8 P-256 code). */
typedef struct cv_fast {
#if CV_FAST
    EC_GROUP *g;  /* P-256 with its own generator G */
    EC_GROUP *gq; /* P-256 with the key's point Q as generator, and Q's table */
#endif
    int unused;
} cv_fast;

/* What verification counts and builds on a shared key (threads may race: atomics). */
typedef struct cv_fast_state {
    unsigned int uses;
    int building;   /* 1 once a thread took the build */
    cv_fast *fast;  /* NULL until built */
} cv_fast_state;

struct cv_ec_key {
    EVP_PKEY *pkey;
    EVP_MD *md;       /* the hash of the curve's ECDSA variant, fetched once */
    size_t point_len; /* 64, 96 or 132 */
    uint8_t point[CV_MAX_POINT];
    cv_fast_state *state; /* P-256 only, else NULL */
};

/* A P-256 key gets its table on its CV_FAST_AFTER-th verification while fewer than
 * CV_FAST_MAX tables exist (each costs ~150 KB and ~15 ms to build, about what 600 verifies
 * save: the table halves a verify). */
enum { CV_FAST_AFTER = 256, CV_FAST_MAX = 16 };
static int fast_live = 0; /* tables alive (atomic) */

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

static void fast_free(cv_fast *f)
{
    if (f == NULL) {
        return;
    }
#if CV_FAST
    EC_GROUP_free(f->g);
    EC_GROUP_free(f->gq);
#endif
    free(f);
}

void cv_ec_key_free(cv_ec_key *key)
{
    if (key == NULL) {
        return;
    }
    if (key->state != NULL) {
        if (key->state->fast != NULL) {
            fast_free(key->state->fast);
            __atomic_sub_fetch(&fast_live, 1, __ATOMIC_ACQ_REL);
        }
        free(key->state);
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
    if (len == CV_P256_POINT && (key->state = calloc(1, sizeof(*key->state))) == NULL) {
        cv_ec_key_free(key);
        return NULL;
    }
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

#if CV_FAST
/* The table of key's point: the P-256 group again with Q as generator (same order n,
 * cofactor 1: Q is on the curve and not at infinity, checked when the key was made), then
 * EC_GROUP_precompute_mult. NULL on any failure (the EVP path stays). */
static cv_fast *fast_new(const cv_ec_key *key)
{
    cv_fast *f = calloc(1, sizeof(*f));
    BN_CTX *ctx = BN_CTX_new();
    EC_POINT *q = NULL;
    uint8_t encoded[1 + CV_P256_POINT];
    int ok = f != NULL && ctx != NULL &&
             (f->g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1)) != NULL &&
             (f->gq = EC_GROUP_dup(f->g)) != NULL && (q = EC_POINT_new(f->g)) != NULL;
    if (ok) {
        encoded[0] = 0x04;
        memcpy(encoded + 1, key->point, CV_P256_POINT);
        ok = EC_POINT_oct2point(f->g, q, encoded, sizeof(encoded), ctx) == 1 &&
             EC_POINT_is_on_curve(f->g, q, ctx) == 1 && !EC_POINT_is_at_infinity(f->g, q) &&
             EC_GROUP_set_generator(f->gq, q, EC_GROUP_get0_order(f->g), BN_value_one()) == 1 &&
             EC_GROUP_precompute_mult(f->gq, ctx) == 1;
    }
    EC_POINT_free(q);
    BN_CTX_free(ctx);
    if (!ok) {
        fast_free(f);
        return NULL;
    }
    return f;
}

/* ECDSA verification (FIPS 186-4 6.4.2; SEC 1 4.1.4) of r||s over a SHA-256 digest with
 * the key's table: 1 <= r, s < n; e = the digest (256 bits, the order's size: nothing to
 * truncate); w = s^-1 mod n; u1 = e w, u2 = r w mod n; R = u1 G + u2 Q, not at infinity;
 * valid iff x(R) mod n == r. u1 G uses libcrypto's table of G, u2 Q the key's table. */
static int verify_fast(const cv_fast *f, const uint8_t *digest, const uint8_t *sig,
                       int little_endian)
{
    BN_CTX *ctx = BN_CTX_new();
    if (ctx == NULL) {
        return -1;
    }
    BN_CTX_start(ctx);
    BIGNUM *r = BN_CTX_get(ctx), *s = BN_CTX_get(ctx), *e = BN_CTX_get(ctx);
    BIGNUM *w = BN_CTX_get(ctx), *u1 = BN_CTX_get(ctx), *u2 = BN_CTX_get(ctx);
    BIGNUM *x = BN_CTX_get(ctx);
    EC_POINT *p1 = EC_POINT_new(f->g), *p2 = EC_POINT_new(f->gq), *sum = EC_POINT_new(f->g);
    const BIGNUM *n = EC_GROUP_get0_order(f->g);
    int rc = -1; /* -1: could not compute (the EVP path decides) */
    if (x == NULL || p1 == NULL || p2 == NULL || sum == NULL) {
        goto done;
    }
    if (little_endian ? (BN_lebin2bn(sig, 32, r) == NULL || BN_lebin2bn(sig + 32, 32, s) == NULL)
                      : (BN_bin2bn(sig, 32, r) == NULL || BN_bin2bn(sig + 32, 32, s) == NULL)) {
        goto done;
    }
    if (BN_is_zero(r) || BN_is_zero(s) || BN_cmp(r, n) >= 0 || BN_cmp(s, n) >= 0) {
        rc = CV_SIG_BAD;
        goto done;
    }
    if (BN_bin2bn(digest, 32, e) == NULL || BN_mod_inverse(w, s, n, ctx) == NULL ||
        BN_mod_mul(u1, e, w, n, ctx) != 1 || BN_mod_mul(u2, r, w, n, ctx) != 1 ||
        EC_POINT_mul(f->g, p1, u1, NULL, NULL, ctx) != 1 ||
        EC_POINT_mul(f->gq, p2, u2, NULL, NULL, ctx) != 1 ||
        EC_POINT_add(f->g, sum, p1, p2, ctx) != 1) {
        goto done;
    }
    if (EC_POINT_is_at_infinity(f->g, sum)) {
        rc = CV_SIG_BAD;
        goto done;
    }
    if (EC_POINT_get_affine_coordinates(f->g, sum, x, NULL, ctx) != 1 ||
        BN_nnmod(x, x, n, ctx) != 1) {
        goto done;
    }
    rc = BN_cmp(x, r) == 0 ? CV_SIG_OK : CV_SIG_BAD;
done:
    EC_POINT_free(p1);
    EC_POINT_free(p2);
    EC_POINT_free(sum);
    BN_CTX_end(ctx);
    BN_CTX_free(ctx);
    return rc;
}
#endif

/* Builds the key's table when it is due (or forced) and a slot is free; one thread builds. */
static void fast_maybe_build(const cv_ec_key *key, int force)
{
#if CV_FAST
    cv_fast_state *st = key->state;
    if (st == NULL || __atomic_load_n(&st->fast, __ATOMIC_ACQUIRE) != NULL) {
        return;
    }
    unsigned int uses = __atomic_add_fetch(&st->uses, 1, __ATOMIC_RELAXED);
    if (!force && uses < CV_FAST_AFTER) {
        return;
    }
    if (__atomic_add_fetch(&fast_live, 1, __ATOMIC_ACQ_REL) > CV_FAST_MAX) {
        __atomic_sub_fetch(&fast_live, 1, __ATOMIC_ACQ_REL);
        return;
    }
    int idle = 0;
    if (!__atomic_compare_exchange_n(&st->building, &idle, 1, 0, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE)) {
        __atomic_sub_fetch(&fast_live, 1, __ATOMIC_ACQ_REL);
        return;
    }
    cv_fast *f = fast_new(key);
    if (f == NULL) { /* never retried for this key: building stays 1 */
        __atomic_sub_fetch(&fast_live, 1, __ATOMIC_ACQ_REL);
        return;
    }
    __atomic_store_n(&st->fast, f, __ATOMIC_RELEASE);
#else
    (void)key;
    (void)force;
#endif
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
#if CV_FAST
    const cv_fast *fast =
        key->state != NULL ? __atomic_load_n(&key->state->fast, __ATOMIC_ACQUIRE) : NULL;
    if (fast != NULL && digest_len == 32) {
        int rc = verify_fast(fast, digest, sig, little_endian);
        if (rc >= 0) {
            return rc;
        }
    }
#endif
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
    if (key != NULL) {
        fast_maybe_build(key, 0);
    }
    ERR_pop_to_mark();
    return rc;
}

int cv_ec_key_precompute(const cv_ec_key *key)
{
    if (key == NULL) {
        return 0;
    }
    ERR_set_mark();
    fast_maybe_build(key, 1);
    ERR_pop_to_mark();
    return cv_ec_key_precomputed(key);
}

int cv_ec_tables(void)
{
    return __atomic_load_n(&fast_live, __ATOMIC_ACQUIRE);
}

int cv_ec_key_precomputed(const cv_ec_key *key)
{
    return key != NULL && key->state != NULL &&
           __atomic_load_n(&key->state->fast, __ATOMIC_ACQUIRE) != NULL;
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

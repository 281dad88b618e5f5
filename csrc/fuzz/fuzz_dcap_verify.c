/* libFuzzer target for the signature path (scripts/native-checks.sh):
 *   clang -fsanitize=fuzzer,address,undefined -Icsrc csrc/fuzz/fuzz_dcap_verify.c \
 *     csrc/cv_reader.c csrc/cv_dcap.c csrc/cv_crypto.c -lcrypto
 * Without libFuzzer, csrc/fuzz/run_target.c drives it over the quotes and their mutations.
 * Per input:
 *  - cv_dcap_parse_verify gives the table cv_dcap_parse gives, a verdict only for a parsed
 *    quote, and the same verdict again when the key it handed back is passed in as the
 *    cached key (no key handed back: the point is refused, and OK is impossible);
 *  - the input read as point || r||s || message goes through cv_ecdsa_verify, and as
 *    r||s || message through keys made from each curve's generator (valid keys, so the DER
 *    encoding of arbitrary r and s and libcrypto's range checks run);
 *  - for P-256, the same r||s || message through a generator key with its table of
 *    multiples (cv_ec_key_precompute) gives the plain key's verdict, and for one parsed
 *    quote in 16 (a table takes ~15 ms) a key with a table made from its attestation key
 *    gives the quote's verdict. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ec.h>
#include <openssl/obj_mac.h>

#include "check_fields.h" /* includes cv_api.h */
#include "cv_crypto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const size_t SIZES[3] = {CV_P256_POINT, CV_P384_POINT, CV_P521_POINT};
static cv_ec_key *generator[3]; /* made once, reachable until exit */
static cv_ec_key *generator_fast;  /* P-256 generator key with its table */
static uint8_t generator_point[CV_P256_POINT];

static void make_generators(void)
{
    static const int nids[3] = {NID_X9_62_prime256v1, NID_secp384r1, NID_secp521r1};
    if (generator[0] != NULL) {
        return;
    }
    for (int i = 0; i < 3; i++) {
        uint8_t buf[1 + CV_MAX_POINT];
        EC_GROUP *g = EC_GROUP_new_by_curve_name(nids[i]);
        size_t n = g == NULL ? 0
                             : EC_POINT_point2oct(g, EC_GROUP_get0_generator(g),
                                                  POINT_CONVERSION_UNCOMPRESSED, buf,
                                                  sizeof(buf), NULL);
        EC_GROUP_free(g);
        if (n != 1 + SIZES[i] || (generator[i] = cv_ec_key_new(buf + 1, n - 1)) == NULL) {
            abort();
        }
        if (i == 0) {
            memcpy(generator_point, buf + 1, CV_P256_POINT);
        }
        if (i == 0 && ((generator_fast = cv_ec_key_new(buf + 1, n - 1)) == NULL ||
                       cv_ec_key_precompute(generator_fast) != 1)) {
            abort();
        }
    }
}

/* P-256: a key with a table and a key made for the call (never one) give the same verdict. */
static void fast_parity(const uint8_t *data, size_t size)
{
    if (size < 1 + 64) {
        return;
    }
    const uint8_t *sig = data + 1, *msg = data + 65;
    size_t n = size - 65;
    int le = data[0] & 1;
    if (cv_ecdsa_verify_key(generator_fast, msg, n, sig, 64, le) !=
        cv_ecdsa_verify(generator_point, CV_P256_POINT, msg, n, sig, 64, le)) {
        abort();
    }
}

static void check_verdict(int v)
{
    if (v != CV_SIG_OK && v != CV_SIG_BAD) {
        abort();
    }
}

static void quote(const uint8_t *data, size_t size)
{
    cv_quote_fields plain, f;
    int verdict = -1;
    cv_ec_key *made = NULL;
    int rc0 = cv_dcap_parse(data, size, &plain);
    int rc = cv_dcap_parse_verify(data, size, NULL, &f, &verdict, &made);
    cv_check_fields(rc, &f, size);
    check_verdict(verdict);
    if (rc != rc0 || memcmp(&plain, &f, sizeof(f)) != 0) {
        abort();
    }
    if (rc != CV_OK) {
        if (verdict != CV_SIG_BAD || made != NULL) {
            abort();
        }
        return;
    }
    const uint8_t *point = data + f.attestation_key_offset;
    if (made == NULL) { /* no key: the point is refused, by the one-shot call too */
        int oneshot = cv_ecdsa_verify(point, CV_P256_POINT, data, (size_t)f.signed_end,
                                      data + f.signature_offset, 64, 0);
        if (verdict != CV_SIG_BAD || oneshot != CV_SIG_BAD) {
            abort();
        }
        return;
    }
    int again = -1;
    cv_ec_key *more = NULL;
    cv_dcap_parse_verify(data, size, made, &f, &again, &more);
    if (again != verdict || more != NULL || !cv_ec_key_has_point(made, point, 64)) {
        abort();
    }
    cv_ec_key_free(made);
    if (data[size - 1] % 16 == 0) {
        cv_ec_key *fast = cv_ec_key_new(point, CV_P256_POINT);
        if (fast == NULL) {
            abort();
        }
        if (cv_ec_key_precompute(fast) == 1 &&
            cv_ecdsa_verify_key(fast, data, (size_t)f.signed_end, data + f.signature_offset,
                                64, 0) != verdict) {
            abort();
        }
        cv_ec_key_free(fast);
    }
}

static void raw(const uint8_t *data, size_t size)
{
    if (size == 0) {
        return;
    }
    int i = data[0] % 3, le = (data[0] >> 2) & 1;
    size_t ps = SIZES[i];
    const uint8_t *rest = data + 1;
    size_t n = size - 1;
    if (n >= 2 * ps) {
        check_verdict(cv_ecdsa_verify(rest, ps, rest + 2 * ps, n - 2 * ps, rest + ps, ps, le));
    }
    if (n >= ps && (data[0] >> 3) % 4 == 0) { /* a quarter: P-384/P-521 verifies are slow */
        check_verdict(cv_ecdsa_verify_key(generator[i], rest + ps, n - ps, rest, ps, le));
    }
    /* wrong lengths are refused */
    if (cv_ecdsa_verify_key(generator[i], rest, n, rest, n < ps ? n : ps - 1, le) != CV_SIG_BAD) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    make_generators();
    quote(data, size);
    raw(data, size);
    fast_parity(data, size);
    return 0;
}

/* Invariants of a cv_snp_parse result, shared by fuzz_snp.c and the corpus driver: whatever
 * the input, an error names a known status, field and an offset inside the input, and a
 * success is a 1184-byte report that passed every check of cv_snp.c (SEV-SNP ABI section
 * 7.3). A violation aborts (found by fuzzing). */
#ifndef CV_CHECK_SNP_H
#define CV_CHECK_SNP_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "cv_api.h"
#include "cv_snp.h"

static int cv_snp_zero(const uint8_t *d, size_t start, size_t end)
{
    for (size_t i = start; i < end; i++) {
        if (d[i] != 0) {
            return 0;
        }
    }
    return 1;
}

static void cv_check_snp(int rc, const cv_snp_fields *f, const uint8_t *data, size_t size)
{
    if (rc != f->status) {
        abort();
    }
    if (rc != CV_OK) {
        if (rc != CV_ERR_TRUNCATED && rc != CV_ERR_RESERVED_NONZERO &&
            rc != CV_ERR_UNSUPPORTED_VERSION && rc != CV_ERR_UNSUPPORTED_KEY_TYPE &&
            rc != CV_ERR_TRAILING_DATA && rc != CV_ERR_UNSUPPORTED_ALGORITHM) {
            abort();
        }
        if (f->err_field <= CV_SNP_F_NONE || f->err_field > CV_SNP_F_SIGNATURE_RESERVED ||
            f->err_offset > size) {
            abort();
        }
        /* a reserved range names its first non-zero byte */
        if (rc == CV_ERR_RESERVED_NONZERO && f->err_field != CV_SNP_F_KEY_INFO &&
            f->err_field != CV_SNP_F_POLICY_BIT17 && f->err_field != CV_SNP_F_POLICY_MBZ &&
            (f->err_offset >= size || data[f->err_offset] == 0)) {
            abort();
        }
        return;
    }
    const uint8_t *d = data;
    if (size != CV_SNP_REPORT_SIZE || f->version < 2 || f->version > 5 ||
        f->signature_algo != 1 || f->key_info >> 5 || !(f->policy >> 17 & 1) ||
        f->policy >> 26) {
        abort();
    }
    uint64_t sk = f->key_info >> 2 & 7;
    if (sk != 0 && sk != 1 && sk != 7) {
        abort();
    }
    if (!cv_snp_zero(d, 0x04C, 0x050) || !cv_snp_zero(d, 0x1EB, 0x1EC) ||
        !cv_snp_zero(d, 0x1EF, 0x1F0) || !cv_snp_zero(d, f->version >= 3 ? 0x18B : 0x188, 0x1A0) ||
        !cv_snp_zero(d, f->version >= 5 ? 0x208 : 0x1F8, 0x2A0) ||
        !cv_snp_zero(d, 0x2D0, 0x2E8) || !cv_snp_zero(d, 0x318, 0x330) ||
        !cv_snp_zero(d, 0x330, CV_SNP_REPORT_SIZE)) {
        abort();
    }
}

#endif /* CV_CHECK_SNP_H */

/* Invariants of a cv_dcap_parse result, shared by the libFuzzer target and the corpus
 * driver: whatever the input, a success describes bytes inside it and an error names a
 * known status, field and an offset inside it. A violation aborts (found by fuzzing). */
#ifndef CV_CHECK_FIELDS_H
#define CV_CHECK_FIELDS_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "cv_api.h"

static int cv_span_ok(uint64_t off, uint64_t n, uint64_t end)
{
    return off <= end && n <= end - off;
}

static void cv_check_fields(int rc, const cv_quote_fields *f, size_t size)
{
    if (rc != f->status) {
        abort();
    }
    if (rc != CV_OK) {
        if (rc < CV_ERR_TRUNCATED || rc > CV_ERR_UNSUPPORTED_CERTIFICATION_DATA) {
            abort();
        }
        if (f->err_field <= CV_DCAP_F_NONE || f->err_field > CV_DCAP_F_INNER_CERT_DATA) {
            abort();
        }
        if (f->err_offset > size) {
            abort();
        }
        if (rc == CV_ERR_TRUNCATED && f->err_have >= f->err_need) {
            abort();
        }
        return;
    }
    uint64_t end = f->length;
    if (end > size || f->signed_end > end || f->body_offset + f->body_size != f->signed_end) {
        abort();
    }
    if (f->version < 3 || f->version > 5 || f->body_type < 1 || f->body_type > 3) {
        abort();
    }
    if (!cv_span_ok(f->signature_offset, 64, end) ||
        !cv_span_ok(f->attestation_key_offset, 64, end) ||
        !cv_span_ok(f->qe_report_offset, 384, end) ||
        !cv_span_ok(f->qe_report_signature_offset, 64, end) ||
        !cv_span_ok(f->qe_auth_data_offset, f->qe_auth_data_size, end) ||
        !cv_span_ok(f->certification_data_offset, f->certification_data_size, end) ||
        f->signed_end + 4 + f->signature_data_size != end) {
        abort();
    }
    if (f->certification_type < 1 || f->certification_type > 5) {
        abort();
    }
}

#endif /* CV_CHECK_FIELDS_H */

/* Intel DCAP quote v3/v4/v5 layout parser (intel.md section 2; QVL QuoteStructures.h,
 * Quote.cpp). The checks, their order, and the field/offset each error names mirror the
 * pure-Python parser src/cocoverify/tee/intel/parse.py exactly: tests/_backend/test_parity.py
 * holds both to the same results. The parser allocates nothing; cv_dcap_parse_verify adds
 * the quote signature check (cv_crypto.c). No X.509. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cv_api.h" /* cv_ffi.h with a guard */
#include "cv_crypto.h"
#include "cv_reader.h"

enum {
    HEADER_SIZE = 48,
    SGX_REPORT_SIZE = 384,
    TD10_SIZE = 584,
    TD15_SIZE = 648,
    TEE_SGX = 0x00000000,
    TEE_TDX = 0x00000081,
    ATT_KEY_ECDSA_P256 = 2,
    BODY_SGX = 1,
    BODY_TD10 = 2,
    BODY_TD15 = 3,
    BODY_DESCRIPTOR_SIZE_OFFSET = 50,
    CERT_QE_REPORT = 6,
    SIG_SIZE = 64,
    KEY_SIZE = 64
};

/* intel.md 2.3: reserved ranges of the SGX report body (offset, size). */
static const size_t SGX_RESERVED[4][2] = {{20, 12}, {96, 32}, {160, 32}, {262, 42}};

static size_t body_size_of(uint32_t type)
{
    switch (type) {
    case BODY_SGX:
        return SGX_REPORT_SIZE;
    case BODY_TD10:
        return TD10_SIZE;
    case BODY_TD15:
        return TD15_SIZE;
    default:
        return 0;
    }
}

static int fail(cv_quote_fields *o, int status, int field, size_t offset, uint64_t value)
{
    o->status = status;
    o->err_field = field;
    o->err_offset = (uint64_t)offset;
    o->err_value = value;
    return status;
}

static int truncated(cv_quote_fields *o, const cv_reader *r, size_t need, int field)
{
    o->err_need = (uint64_t)need;
    o->err_have = (uint64_t)cv_remaining(r);
    return fail(o, CV_ERR_TRUNCATED, field, r->pos, 0);
}

static int take(cv_reader *r, size_t n, int field, cv_quote_fields *o, size_t *at)
{
    if (cv_take(r, n, at) != CV_R_OK) {
        return truncated(o, r, n, field);
    }
    return CV_OK;
}

static int u16(cv_reader *r, int field, cv_quote_fields *o, uint16_t *v)
{
    if (cv_u16(r, v) != CV_R_OK) {
        return truncated(o, r, 2, field);
    }
    return CV_OK;
}

static int u32(cv_reader *r, int field, cv_quote_fields *o, uint32_t *v)
{
    if (cv_u32(r, v) != CV_R_OK) {
        return truncated(o, r, 4, field);
    }
    return CV_OK;
}

/* SGX report body (also the QE report): take it, then its reserved ranges must be zero. */
static int sgx_report(cv_reader *r, int field, int reserved_field, cv_quote_fields *o,
                      size_t *at)
{
    int rc = take(r, SGX_REPORT_SIZE, field, o, at);
    if (rc != CV_OK) {
        return rc;
    }
    for (size_t i = 0; i < 4; i++) {
        size_t off = *at + SGX_RESERVED[i][0];
        if (!cv_all_zero(r->buf + off, SGX_RESERVED[i][1])) {
            return fail(o, CV_ERR_RESERVED_NONZERO, reserved_field, off, 0);
        }
    }
    return CV_OK;
}

/* Certification data: u16 type, u32 size, data (intel.md 2.5). */
static int cert_data(cv_reader *r, int f_type, int f_size, int f_data, cv_quote_fields *o,
                     size_t *offset, uint16_t *type, size_t *data_at, uint32_t *size)
{
    int rc;
    *offset = r->pos;
    if ((rc = u16(r, f_type, o, type)) != CV_OK) {
        return rc;
    }
    if ((rc = u32(r, f_size, o, size)) != CV_OK) {
        return rc;
    }
    return take(r, *size, f_data, o, data_at);
}

/* QE report, its signature, QE auth data and the certification data (v3 flat layout, or
 * the payload of type-6 certification data in v4/v5). */
static int qe_part(cv_reader *r, int f_type, int f_size, int f_data, int f_cert,
                   cv_quote_fields *o)
{
    size_t at, cert_off, cert_at;
    uint16_t auth_len, ctype;
    uint32_t csize;
    int rc;
    if ((rc = sgx_report(r, CV_DCAP_F_QE_REPORT, CV_DCAP_F_QE_REPORT_RESERVED, o, &at)) !=
        CV_OK) {
        return rc;
    }
    o->qe_report_offset = at;
    if ((rc = take(r, SIG_SIZE, CV_DCAP_F_QE_REPORT_SIGNATURE, o, &at)) != CV_OK) {
        return rc;
    }
    o->qe_report_signature_offset = at;
    if ((rc = u16(r, CV_DCAP_F_QE_AUTH_DATA_SIZE, o, &auth_len)) != CV_OK) {
        return rc;
    }
    if ((rc = take(r, auth_len, CV_DCAP_F_QE_AUTH_DATA, o, &at)) != CV_OK) {
        return rc;
    }
    o->qe_auth_data_offset = at;
    o->qe_auth_data_size = auth_len;
    rc = cert_data(r, f_type, f_size, f_data, o, &cert_off, &ctype, &cert_at, &csize);
    if (rc != CV_OK) {
        return rc;
    }
    o->certification_type = ctype;
    o->certification_offset = cert_off;
    o->certification_data_offset = cert_at;
    o->certification_data_size = csize;
    /* QVL Quote::validate: (inner) certification data type 1..5 */
    if (ctype < 1 || ctype > 5) {
        return fail(o, CV_ERR_UNSUPPORTED_CERTIFICATION_DATA, f_cert, cert_off, ctype);
    }
    return CV_OK;
}

static int header(cv_reader *r, cv_quote_fields *o)
{
    size_t at;
    int rc = take(r, HEADER_SIZE, CV_DCAP_F_HEADER, o, &at);
    if (rc != CV_OK) {
        return rc;
    }
    const uint8_t *h = r->buf + at;
    o->version = cv_le16(h);
    o->attestation_key_type = cv_le16(h + 2);
    o->tee_type = cv_le32(h + 4);
    o->qe_svn = cv_le16(h + 8);
    o->pce_svn = cv_le16(h + 10);
    /* QVL Quote::validate: version, key type, TEE type (intel.md 2.1) */
    if (o->version < 3 || o->version > 5) {
        return fail(o, CV_ERR_UNSUPPORTED_VERSION, CV_DCAP_F_HEADER_VERSION, 0, o->version);
    }
    if (o->attestation_key_type != ATT_KEY_ECDSA_P256) {
        return fail(o, CV_ERR_UNSUPPORTED_KEY_TYPE, CV_DCAP_F_HEADER_KEY_TYPE, 2,
                    o->attestation_key_type);
    }
    if (o->tee_type != TEE_SGX && o->tee_type != TEE_TDX) {
        return fail(o, CV_ERR_UNSUPPORTED_TEE_TYPE, CV_DCAP_F_HEADER_TEE_TYPE, 4, o->tee_type);
    }
    if (o->version == 3 && o->tee_type != TEE_SGX) {
        return fail(o, CV_ERR_UNSUPPORTED_TEE_TYPE, CV_DCAP_F_HEADER_TEE_TYPE, 4, o->tee_type);
    }
    return CV_OK;
}

static int parse(const uint8_t *data, size_t len, cv_quote_fields *o)
{
    cv_reader r, sig;
    size_t at;
    int rc;
    cv_reader_init(&r, data, len);
    if ((rc = header(&r, o)) != CV_OK) {
        return rc;
    }
    /* body (intel.md 2.2) */
    uint32_t body_type;
    if (o->version == 5) {
        uint16_t bt;
        uint32_t bsize;
        if ((rc = u16(&r, CV_DCAP_F_BODY_DESCRIPTOR_TYPE, o, &bt)) != CV_OK) {
            return rc;
        }
        if ((rc = u32(&r, CV_DCAP_F_BODY_DESCRIPTOR_SIZE, o, &bsize)) != CV_OK) {
            return rc;
        }
        body_type = bt;
        o->body_type = bt;
        if (body_size_of(bt) == 0) {
            return fail(o, CV_ERR_UNSUPPORTED_VERSION, CV_DCAP_F_BODY_DESCRIPTOR_TYPE, 48, bt);
        }
        if ((bt == BODY_SGX) != (o->tee_type == TEE_SGX)) {
            return fail(o, CV_ERR_UNSUPPORTED_TEE_TYPE, CV_DCAP_F_BODY_DESCRIPTOR_TYPE, 48, bt);
        }
        if (bsize != body_size_of(bt)) {
            return fail(o, CV_ERR_MALFORMED, CV_DCAP_F_BODY_DESCRIPTOR_SIZE,
                        BODY_DESCRIPTOR_SIZE_OFFSET, bsize);
        }
    } else {
        body_type = o->tee_type == TEE_SGX ? BODY_SGX : BODY_TD10;
        o->body_type = body_type;
    }
    if (body_type == BODY_SGX) {
        rc = sgx_report(&r, CV_DCAP_F_REPORT_BODY, CV_DCAP_F_REPORT_BODY_RESERVED, o, &at);
    } else {
        rc = take(&r, body_size_of(body_type), CV_DCAP_F_TD_REPORT, o, &at);
    }
    if (rc != CV_OK) {
        return rc;
    }
    o->body_offset = at;
    o->body_size = body_size_of(body_type);
    size_t signed_end = r.pos;
    o->signed_end = signed_end;

    /* signature data (intel.md 2.5) */
    uint32_t sig_len;
    if ((rc = u32(&r, CV_DCAP_F_SIGNATURE_DATA_LENGTH, o, &sig_len)) != CV_OK) {
        return rc;
    }
    if (cv_sub(&r, sig_len, &sig) != CV_R_OK) {
        return truncated(o, &r, sig_len, CV_DCAP_F_SIGNATURE_DATA);
    }
    o->signature_data_size = sig_len;
    if ((rc = take(&sig, SIG_SIZE, CV_DCAP_F_QUOTE_SIGNATURE, o, &at)) != CV_OK) {
        return rc;
    }
    o->signature_offset = at;
    if ((rc = take(&sig, KEY_SIZE, CV_DCAP_F_ATTESTATION_KEY, o, &at)) != CV_OK) {
        return rc;
    }
    o->attestation_key_offset = at;
    if (o->version == 3) {
        rc = qe_part(&sig, CV_DCAP_F_CERT_DATA_TYPE, CV_DCAP_F_CERT_DATA_SIZE,
                     CV_DCAP_F_CERT_DATA_DATA, CV_DCAP_F_CERT_DATA, o);
        if (rc != CV_OK) {
            return rc;
        }
    } else {
        size_t outer_off, outer_at;
        uint16_t outer_type;
        uint32_t outer_size;
        rc = cert_data(&sig, CV_DCAP_F_CERT_DATA_TYPE, CV_DCAP_F_CERT_DATA_SIZE,
                       CV_DCAP_F_CERT_DATA_DATA, o, &outer_off, &outer_type, &outer_at,
                       &outer_size);
        if (rc != CV_OK) {
            return rc;
        }
        /* QVL Quote::validate: v4/v5 outer certification data must be type 6 */
        if (outer_type != CERT_QE_REPORT) {
            return fail(o, CV_ERR_UNSUPPORTED_CERTIFICATION_DATA, CV_DCAP_F_CERT_DATA,
                        outer_off, outer_type);
        }
        cv_reader inner;
        inner.buf = data;
        inner.pos = outer_at;
        inner.len = outer_at + outer_size;
        rc = qe_part(&inner, CV_DCAP_F_INNER_CERT_DATA_TYPE, CV_DCAP_F_INNER_CERT_DATA_SIZE,
                     CV_DCAP_F_INNER_CERT_DATA_DATA, CV_DCAP_F_INNER_CERT_DATA, o);
        if (rc != CV_OK) {
            return rc;
        }
        if (cv_remaining(&inner) != 0) {
            return fail(o, CV_ERR_MALFORMED, CV_DCAP_F_CERT_DATA_SIZE, outer_off + 2,
                        cv_remaining(&inner));
        }
    }
    /* QVL verifyCertificationData: declared sizes must agree with the parsed ones */
    if (cv_remaining(&sig) != 0) {
        return fail(o, CV_ERR_MALFORMED, CV_DCAP_F_SIGNATURE_DATA_LENGTH, signed_end,
                    cv_remaining(&sig));
    }
    o->length = r.pos;
    return CV_OK;
}

int cv_dcap_parse(const uint8_t *data, size_t len, cv_quote_fields *out)
{
    if (out == NULL) {
        return CV_ERR_ARGUMENT;
    }
    memset(out, 0, sizeof(*out));
    if (data == NULL && len != 0) {
        out->status = CV_ERR_ARGUMENT;
        return CV_ERR_ARGUMENT;
    }
    static const uint8_t empty[1] = {0};
    int rc = parse(data != NULL ? data : empty, len, out);
    out->status = rc;
    return rc;
}

/* Parse, then the quote signature: ECDSA P-256 over SHA-256 of the header and body, raw r||s
 * big-endian, by the attestation key of the signature data (QVL QuoteStructures.h,
 * QuoteVerifier.cpp: the quote signature check). */
int cv_dcap_parse_verify(const uint8_t *data, size_t len, const cv_ec_key *key,
                         cv_quote_fields *out, int *verdict, cv_ec_key **made)
{
    if (made != NULL) {
        *made = NULL;
    }
    if (verdict == NULL) {
        return CV_ERR_ARGUMENT;
    }
    *verdict = CV_SIG_BAD;
    int rc = cv_dcap_parse(data, len, out);
    if (rc != CV_OK) {
        return rc;
    }
    const uint8_t *point = data + out->attestation_key_offset;
    cv_ec_key *fresh = NULL;
    if (!cv_ec_key_has_point(key, point, CV_P256_POINT)) {
        fresh = cv_ec_key_new(point, CV_P256_POINT);
        key = fresh;
    }
    *verdict = cv_ecdsa_verify_key(key, data, (size_t)out->signed_end,
                                   data + out->signature_offset, SIG_SIZE, 0);
    if (made != NULL) {
        *made = fresh;
    } else {
        cv_ec_key_free(fresh);
    }
    return rc;
}

/* 2: cv_crypto.c, cv_dcap_parse_verify, and the SNP report and SGX extension layouts. */
int cv_abi_version(void)
{
    return 2;
}

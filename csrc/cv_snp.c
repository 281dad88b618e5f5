/* AMD SEV-SNP ATTESTATION_REPORT layout, versions 2..5 (SEV-SNP ABI section 7.3; POLICY
 * section 4.3). The checks, their order, and the field/offset each error names mirror the
 * pure-Python parser src/cocoverify/tee/snp/parse.py exactly: tests/_backend/test_parity_snp.py
 * holds both to the same results. Integers only: byte fields sit at fixed offsets and the
 * wrapper slices them. No allocation, no crypto. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cv_api.h" /* cv_ffi.h with a guard */
#include "cv_reader.h"
#include "cv_snp.h"

enum {
    SIGNATURE_OFFSET = 0x2A0,
    SIG_COMPONENT_SIZE = 72, /* R and S: 72-byte little-endian integers ... */
    SIG_USED_SIZE = 48,      /* ... of which 48 bytes are used (P-384) */
    SIG_ALGO_ECDSA_P384_SHA384 = 1
};

/* A must-be-zero range [start, end) and the field id an error names. */
typedef struct {
    int field;
    size_t start;
    size_t end;
} mbz_range;

/* SEV-SNP ABI section 7.3: reserved ranges, in the order the Python parser checks them. */
static const mbz_range COMMON[3] = {
    {CV_SNP_F_RESERVED_04C, 0x04C, 0x050},
    {CV_SNP_F_RESERVED_1EB, 0x1EB, 0x1EC},
    {CV_SNP_F_RESERVED_1EF, 0x1EF, 0x1F0},
};
/* CPUID_FAM/MOD/STEP exist from v3; MIT vectors from v5 */
static const mbz_range CPUID_V3 = {CV_SNP_F_RESERVED_18B, 0x18B, 0x1A0};
static const mbz_range CPUID_V2 = {CV_SNP_F_RESERVED_188, 0x188, 0x1A0};
static const mbz_range TAIL_V5 = {CV_SNP_F_RESERVED_208, 0x208, 0x2A0};
static const mbz_range TAIL_V2 = {CV_SNP_F_RESERVED_1F8, 0x1F8, 0x2A0};
/* R and S use 48 of their 72 bytes; the rest and 0x330..0x4A0 are zero */
static const mbz_range SIGNATURE[3] = {
    {CV_SNP_F_SIGNATURE_R_PADDING, SIGNATURE_OFFSET + SIG_USED_SIZE,
     SIGNATURE_OFFSET + SIG_COMPONENT_SIZE},
    {CV_SNP_F_SIGNATURE_S_PADDING, SIGNATURE_OFFSET + SIG_COMPONENT_SIZE + SIG_USED_SIZE,
     SIGNATURE_OFFSET + 2 * SIG_COMPONENT_SIZE},
    {CV_SNP_F_SIGNATURE_RESERVED, SIGNATURE_OFFSET + 2 * SIG_COMPONENT_SIZE, CV_SNP_REPORT_SIZE},
};

static int fail(cv_snp_fields *o, int status, int field, size_t offset)
{
    o->status = status;
    o->err_field = field;
    o->err_offset = (uint64_t)offset;
    return status;
}

/* CV_OK when data[start, end) is zero, else the error naming the first non-zero byte. */
static int mbz(const uint8_t *data, const mbz_range *r, cv_snp_fields *o)
{
    if (cv_all_zero(data + r->start, r->end - r->start)) {
        return CV_OK;
    }
    size_t first = r->start;
    while (data[first] == 0) {
        first++;
    }
    return fail(o, CV_ERR_RESERVED_NONZERO, r->field, first);
}

static int parse(const uint8_t *d, size_t len, cv_snp_fields *o)
{
    int rc;
    if (len < 4) {
        return fail(o, CV_ERR_TRUNCATED, CV_SNP_F_VERSION, 0);
    }
    o->version = cv_le32(d);
    /* versions 2..5; 0/1 predate the ABI, > 5 have an unknown layout */
    if (o->version < 2 || o->version > 5) {
        return fail(o, CV_ERR_UNSUPPORTED_VERSION, CV_SNP_F_VERSION, 0);
    }
    if (len < CV_SNP_REPORT_SIZE) {
        return fail(o, CV_ERR_TRUNCATED, CV_SNP_F_REPORT, len);
    }
    if (len > CV_SNP_REPORT_SIZE) {
        return fail(o, CV_ERR_TRAILING_DATA, CV_SNP_F_REPORT, CV_SNP_REPORT_SIZE);
    }
    o->guest_svn = cv_le32(d + 0x004);
    o->policy = cv_le64(d + 0x008);
    o->vmpl = cv_le32(d + 0x030);
    o->signature_algo = cv_le32(d + 0x034);
    o->platform_info = cv_le64(d + 0x040);
    o->key_info = cv_le32(d + 0x048);
    o->cpuid_fam_id = d[0x188];
    o->cpuid_mod_id = d[0x189];
    o->cpuid_step = d[0x18A];
    o->current_build = d[0x1E8];
    o->current_minor = d[0x1E9];
    o->current_major = d[0x1EA];
    o->committed_build = d[0x1EC];
    o->committed_minor = d[0x1ED];
    o->committed_major = d[0x1EE];
    o->launch_mit_vector = cv_le64(d + 0x1F8);
    o->current_mit_vector = cv_le64(d + 0x200);

    /* SIGNATURE_ALGO 1 = ECDSA P-384 / SHA-384 is the only value defined */
    if (o->signature_algo != SIG_ALGO_ECDSA_P384_SHA384) {
        return fail(o, CV_ERR_UNSUPPORTED_ALGORITHM, CV_SNP_F_SIGNATURE_ALGO, 0x034);
    }
    for (size_t i = 0; i < 3; i++) {
        if ((rc = mbz(d, &COMMON[i], o)) != CV_OK) {
            return rc;
        }
    }
    if ((rc = mbz(d, o->version >= 3 ? &CPUID_V3 : &CPUID_V2, o)) != CV_OK) {
        return rc;
    }
    if ((rc = mbz(d, o->version >= 5 ? &TAIL_V5 : &TAIL_V2, o)) != CV_OK) {
        return rc;
    }
    /* KEY_INFO bits 31:5 must be zero; SIGNING_KEY (bits 4:2) 2..6 are reserved */
    if (o->key_info >> 5) {
        return fail(o, CV_ERR_RESERVED_NONZERO, CV_SNP_F_KEY_INFO, 0x048);
    }
    uint64_t signing_key = o->key_info >> 2 & 0x7;
    if (signing_key != 0 && signing_key != 1 && signing_key != 7) {
        return fail(o, CV_ERR_UNSUPPORTED_KEY_TYPE, CV_SNP_F_SIGNING_KEY, 0x048);
    }
    /* SEV-SNP ABI section 4.3: POLICY bit 17 must be 1, bits 63:26 must be 0 */
    if (!(o->policy >> 17 & 1)) {
        return fail(o, CV_ERR_RESERVED_NONZERO, CV_SNP_F_POLICY_BIT17, 0x008);
    }
    if (o->policy >> 26) {
        return fail(o, CV_ERR_RESERVED_NONZERO, CV_SNP_F_POLICY_MBZ, 0x008);
    }
    for (size_t i = 0; i < 3; i++) {
        if ((rc = mbz(d, &SIGNATURE[i], o)) != CV_OK) {
            return rc;
        }
    }
    return CV_OK;
}

int cv_snp_parse(const uint8_t *data, size_t len, cv_snp_fields *out)
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

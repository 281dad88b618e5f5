/* Invariants of a cv_sgxext_parse result, shared by fuzz_sgxext.c and the corpus driver:
 * whatever the input, an error names a known code and bytes inside the input, and a success
 * describes OCTET STRINGs of the right size inside it, SVNs in range, a known SGX type, and
 * flags only on 7-entry (Platform CA) extensions (QVL ParserUtils.h). cv_sgxext_entry_oids
 * stays inside the input too. A violation aborts (found by fuzzing). */
#ifndef CV_CHECK_SGXEXT_H
#define CV_CHECK_SGXEXT_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "cv_api.h"
#include "cv_sgxext.h"

/* An OCTET STRING of n (< 128) bytes at off: inside the input, short-form header before it. */
static void cv_check_octets(const uint8_t *d, size_t size, uint64_t off, uint64_t n)
{
    if (off < 2 || off > size || n > size - off || d[off - 2] != 0x04 || d[off - 1] != n) {
        abort();
    }
}

static void cv_check_entry_oids(const uint8_t *d, size_t size)
{
    uint64_t out[2 * 8];
    long n = cv_sgxext_entry_oids(d, size, out, 8);
    if (n < -1) {
        abort();
    }
    for (long i = 0; i < n && i < 8; i++) {
        uint64_t off = out[2 * i], len = out[2 * i + 1];
        if (len == 0 || off > size || len > size - off || d[off + len - 1] & 0x80) {
            abort();
        }
    }
}

static void cv_check_sgxext(int rc, const cv_sgxext_fields *f, const uint8_t *d, size_t size)
{
    cv_check_entry_oids(d, size);
    if (rc != f->status) {
        abort();
    }
    if (rc != CV_OK) {
        if (rc != CV_ERR_MALFORMED || f->err_code < CV_SGX_E_TLV_HEADER_TRUNCATED ||
            f->err_code > CV_SGX_E_CONFIG_BOOLEAN || f->err_context > CV_SGX_C_CONFIGURATION ||
            f->err_offset > size || f->err_length > size - f->err_offset) {
            abort();
        }
        if ((f->err_code == CV_SGX_E_DUPLICATE_ENTRY || f->err_code == CV_SGX_E_CONFIG_UNKNOWN ||
             f->err_code == CV_SGX_E_SGX_TYPE) &&
            f->err_length == 0) {
            abort();
        }
        return;
    }
    if (f->entries != 5 && f->entries != 7) {
        abort();
    }
    cv_check_octets(d, size, f->ppid_offset, 16);
    cv_check_octets(d, size, f->cpu_svn_offset, 16);
    cv_check_octets(d, size, f->pce_id_offset, 2);
    cv_check_octets(d, size, f->fmspc_offset, 6);
    if (f->entries == 7) {
        cv_check_octets(d, size, f->platform_instance_id_offset, 16);
    }
    for (size_t i = 0; i < CV_SGX_TCB_COMPONENTS; i++) {
        if (f->tcb_components[i] > 255) {
            abort();
        }
    }
    if (f->pce_svn > 65535 || f->sgx_type > 2) {
        abort();
    }
    const uint64_t flags[3] = {f->dynamic_platform, f->cached_keys, f->smt_enabled};
    for (size_t i = 0; i < 3; i++) {
        if (flags[i] > CV_SGX_FLAG_ABSENT || (f->entries == 5 && flags[i] != CV_SGX_FLAG_ABSENT)) {
            abort();
        }
    }
}

#endif /* CV_CHECK_SGXEXT_H */

/* Intel SGX PCK certificate extension (OID 1.2.840.113741.1.13.1), the DER inside the
 * extension's OCTET STRING (QVL Src/AttestationParsers/src/ParserUtils.h, X509 sources;
 * Intel SGX PCK Certificate and CRL Profile). A SEQUENCE OF SEQUENCE {OID, value}: PPID (.1),
 * TCB (.2: .2.1-.2.16 component SVNs, .2.17 PCESVN, .2.18 CPUSVN), PCE-ID (.3), FMSPC (.4),
 * SGX type (.5), and on Platform-CA leaves the platform instance ID (.6) and Configuration
 * (.7: .7.1 dynamic platform, .7.2 cached keys, .7.3 SMT enabled).
 *
 * The checks, their order and what each error names mirror the Python decoder
 * (src/cocoverify/tee/intel/pck.py over src/cocoverify/_core/der.py) exactly, including its
 * tolerances: OIDs compare by value (an arc may carry leading 0x80 groups), INTEGERs may
 * carry leading zero bytes, any non-zero BOOLEAN byte is true. tests/_backend/
 * test_parity_sgxext.py holds both to the same results. No allocation, no recursion. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cv_api.h" /* cv_ffi.h with a guard */
#include "cv_sgxext.h"

enum {
    TAG_BOOLEAN = 0x01,
    TAG_INTEGER = 0x02,
    TAG_OCTET_STRING = 0x04,
    TAG_OID = 0x06,
    TAG_ENUMERATED = 0x0A,
    TAG_SEQUENCE = 0x30,
    MAX_KNOWN = 18,   /* the TCB has the most known entries */
    UNKNOWN_CACHE = 32
};

/* 1.2.840.113741.1.13.1, its TCB (.2) and Configuration (.7), minimal DER arcs */
static const uint8_t BASE[] = {0x2A, 0x86, 0x48, 0x86, 0xF8, 0x4D, 0x01, 0x0D, 0x01};
static const uint8_t TCB[] = {0x2A, 0x86, 0x48, 0x86, 0xF8, 0x4D, 0x01, 0x0D, 0x01, 0x02};
static const uint8_t CONFIG[] = {0x2A, 0x86, 0x48, 0x86, 0xF8, 0x4D, 0x01, 0x0D, 0x01, 0x07};

typedef struct {
    uint8_t tag;
    size_t val; /* absolute offset of the value */
    size_t len;
} tlv;

/* What one SEQUENCE OF SEQUENCE {OID, value} holds: the value of each known entry k
 * (prefix.k, 1 <= k <= max) and how many entries there are. */
typedef struct {
    tlv value[MAX_KNOWN + 1];
    int have[MAX_KNOWN + 1];
    size_t count;
    size_t unknown;
    tlv unknown_oid[UNKNOWN_CACHE]; /* the first unknown OIDs, for the duplicate check */
} pairs_out;

static int fail(cv_sgxext_fields *o, int code)
{
    o->status = CV_ERR_MALFORMED;
    o->err_code = code;
    return CV_ERR_MALFORMED;
}

static int fail_at(cv_sgxext_fields *o, int code, const tlv *t)
{
    o->err_offset = (uint64_t)t->val;
    o->err_length = (uint64_t)t->len;
    o->err_tag = t->tag;
    return fail(o, code);
}

/* One element of d[pos, end) (X.690 8.1, DER 10.1: definite lengths of at most 4 bytes, in
 * minimal form; single-byte tags). 0 or the CV_SGX_E_* error; *next = the offset after it. */
static int tlv_at(const uint8_t *d, size_t pos, size_t end, tlv *t, size_t *next)
{
    if (end - pos < 2) {
        return CV_SGX_E_TLV_HEADER_TRUNCATED;
    }
    uint8_t tag = d[pos];
    if ((tag & 0x1F) == 0x1F) {
        return CV_SGX_E_MULTIBYTE_TAG;
    }
    uint8_t first = d[pos + 1];
    pos += 2;
    size_t length = first;
    if (first >= 0x80) {
        size_t n = first & 0x7F;
        if (n == 0 || n > 4 || n > end - pos) {
            return CV_SGX_E_BAD_LENGTH;
        }
        uint64_t l = 0;
        for (size_t i = 0; i < n; i++) {
            l = l << 8 | d[pos + i];
        }
        if (l < 0x80 || d[pos] == 0) {
            return CV_SGX_E_NONMINIMAL_LENGTH;
        }
        pos += n;
        if (l > end - pos) {
            return CV_SGX_E_TLV_VALUE_TRUNCATED;
        }
        length = (size_t)l;
    }
    if (length > end - pos) {
        return CV_SGX_E_TLV_VALUE_TRUNCATED;
    }
    t->tag = tag;
    t->val = pos;
    t->len = length;
    *next = pos + length;
    return 0;
}

/* Every element of t's value parses (consumed exactly); *count = how many. */
static int children(const uint8_t *d, const tlv *t, size_t *count, cv_sgxext_fields *o)
{
    size_t pos = t->val, end = t->val + t->len, n = 0;
    tlv c;
    while (pos < end) {
        int e = tlv_at(d, pos, end, &c, &pos);
        if (e != 0) {
            return fail(o, e);
        }
        n++;
    }
    *count = n;
    return CV_OK;
}

/* The next element of an already checked value. */
static void next_child(const uint8_t *d, size_t *pos, size_t end, tlv *c)
{
    (void)tlv_at(d, *pos, end, c, pos);
}

/* X.690 8.19: an OBJECT IDENTIFIER, non-empty, whose last byte ends an arc. */
static int check_oid(const uint8_t *d, const tlv *t, cv_sgxext_fields *o)
{
    if (t->tag != TAG_OID || t->len == 0) {
        return fail_at(o, CV_SGX_E_EXPECTED_OID, t);
    }
    if (d[t->val + t->len - 1] & 0x80) {
        return fail(o, CV_SGX_E_OID_TRUNCATED);
    }
    return CV_OK;
}

/* The arc of a checked OID value starting at *p: its bytes without leading zero groups
 * (0x80) in [*s, *e), so equal arcs have equal bytes; *p moves past it. */
static void arc(const uint8_t *d, size_t *p, size_t *s, size_t *e)
{
    size_t i = *p;
    while (d[i] == 0x80) {
        i++;
    }
    *s = i;
    while (d[i] & 0x80) {
        i++;
    }
    *e = i + 1;
    *p = i + 1;
}

/* Two checked OIDs have the same arcs (the same dotted text). */
static int oid_equal(const uint8_t *d, const tlv *a, const tlv *b)
{
    size_t p = a->val, pe = a->val + a->len, q = b->val, qe = b->val + b->len;
    while (p < pe && q < qe) {
        size_t as, ae, bs, be;
        arc(d, &p, &as, &ae);
        arc(d, &q, &bs, &be);
        if (ae - as != be - bs || memcmp(d + as, d + bs, ae - as) != 0) {
            return 0;
        }
    }
    return p == pe && q == qe;
}

/* k when the checked OID t is prefix.k with 1 <= k <= max, else 0 (prefix: minimal arcs). */
static unsigned known(const uint8_t *d, const tlv *t, const uint8_t *prefix, size_t plen,
                      unsigned max)
{
    size_t p = t->val, end = t->val + t->len, q = 0, s, e;
    while (q < plen) {
        if (p >= end) {
            return 0;
        }
        arc(d, &p, &s, &e);
        size_t qs = q;
        while (prefix[q] & 0x80) {
            q++;
        }
        q++;
        if (e - s != q - qs || memcmp(d + s, prefix + qs, e - s) != 0) {
            return 0;
        }
    }
    if (p >= end) {
        return 0;
    }
    arc(d, &p, &s, &e);
    if (p != end || e - s != 1 || d[s] == 0 || d[s] > max) {
        return 0;
    }
    return d[s];
}

/* An unknown OID equal to the one of an entry before item `index` of seq. */
static int earlier_duplicate(const uint8_t *d, const tlv *seq, size_t index, const tlv *oid,
                             const pairs_out *po)
{
    if (po->unknown <= UNKNOWN_CACHE) {
        for (size_t j = 0; j < po->unknown; j++) {
            if (oid_equal(d, &po->unknown_oid[j], oid)) {
                return 1;
            }
        }
        return 0;
    }
    size_t pos = seq->val, end = seq->val + seq->len;
    for (size_t j = 0; j < index; j++) {
        tlv item, other;
        next_child(d, &pos, end, &item);
        size_t ip = item.val;
        next_child(d, &ip, item.val + item.len, &other);
        if (oid_equal(d, &other, oid)) {
            return 1;
        }
    }
    return 0;
}

/* SEQUENCE OF SEQUENCE {OID, value} with unique OIDs (pck.py _pairs): every element is
 * parsed first, then each entry in order (its elements, two of them, the OID, uniqueness). */
static int pairs(const uint8_t *d, const tlv *seq, int context, const uint8_t *prefix,
                 size_t plen, unsigned max, pairs_out *po, cv_sgxext_fields *o)
{
    size_t n, parts;
    int rc;
    memset(po, 0, sizeof(*po));
    o->err_context = (uint64_t)context;
    if (seq->tag != TAG_SEQUENCE) {
        return fail(o, CV_SGX_E_NOT_SEQUENCE);
    }
    if ((rc = children(d, seq, &n, o)) != CV_OK) {
        return rc;
    }
    size_t pos = seq->val, end = seq->val + seq->len;
    for (size_t i = 0; i < n; i++) {
        tlv item, oid, value;
        next_child(d, &pos, end, &item);
        parts = 0;
        if (item.tag == TAG_SEQUENCE && (rc = children(d, &item, &parts, o)) != CV_OK) {
            return rc;
        }
        if (parts != 2) {
            return fail(o, CV_SGX_E_ENTRY_NOT_PAIR);
        }
        size_t ip = item.val;
        next_child(d, &ip, item.val + item.len, &oid);
        next_child(d, &ip, item.val + item.len, &value);
        if ((rc = check_oid(d, &oid, o)) != CV_OK) {
            return rc;
        }
        unsigned k = known(d, &oid, prefix, plen, max);
        if (k != 0 ? po->have[k] : earlier_duplicate(d, seq, i, &oid, po)) {
            return fail_at(o, CV_SGX_E_DUPLICATE_ENTRY, &oid);
        }
        if (k != 0) {
            po->have[k] = 1;
            po->value[k] = value;
        } else {
            if (po->unknown < UNKNOWN_CACHE) {
                po->unknown_oid[po->unknown] = oid;
            }
            po->unknown++;
        }
        po->count++;
    }
    o->err_context = 0;
    return CV_OK;
}

/* INTEGER or ENUMERATED, non-empty (der.py parse_int). */
static int check_int(const tlv *t, cv_sgxext_fields *o)
{
    if ((t->tag != TAG_INTEGER && t->tag != TAG_ENUMERATED) || t->len == 0) {
        return fail_at(o, CV_SGX_E_EXPECTED_INTEGER, t);
    }
    return CV_OK;
}

/* 1 with *v when the checked integer t is in 0 .. 2^bits - 1 (bits <= 16), else 0. */
static int small_uint(const uint8_t *d, const tlv *t, unsigned bits, uint64_t *v)
{
    size_t i = t->val, end = t->val + t->len;
    if (d[i] & 0x80) {
        return 0; /* negative */
    }
    while (i < end && d[i] == 0) {
        i++;
    }
    if (end - i > 2) {
        return 0;
    }
    uint64_t x = 0;
    for (; i < end; i++) {
        x = x << 8 | d[i];
    }
    if (x >> bits) {
        return 0;
    }
    *v = x;
    return 1;
}

/* TCB component i (1..16, 8 bits) or PCESVN (i = 17, 16 bits): an INTEGER in range. */
static int svn(const uint8_t *d, const tlv *t, unsigned i, uint64_t *v, cv_sgxext_fields *o)
{
    int rc = check_int(t, o);
    if (rc != CV_OK) {
        return rc;
    }
    if (t->tag != TAG_INTEGER || !small_uint(d, t, i == 17 ? 16 : 8, v)) {
        o->err_index = i;
        return fail(o, CV_SGX_E_SVN_RANGE);
    }
    return CV_OK;
}

/* Entry k of the extension is an OCTET STRING of n bytes; *at = its offset. */
static int octets(const pairs_out *top, unsigned k, size_t n, uint64_t *at,
                  cv_sgxext_fields *o)
{
    const tlv *t = &top->value[k];
    if (t->tag != TAG_OCTET_STRING || t->len != n) {
        o->err_index = k;
        return fail(o, CV_SGX_E_OCTETS);
    }
    *at = (uint64_t)t->val;
    return CV_OK;
}

/* Configuration (.7): unique entries first, then each in order known and a BOOLEAN. */
static int configuration(const uint8_t *d, const tlv *seq, cv_sgxext_fields *o)
{
    pairs_out po;
    int rc = pairs(d, seq, CV_SGX_C_CONFIGURATION, CONFIG, sizeof(CONFIG), 3, &po, o);
    if (rc != CV_OK) {
        return rc;
    }
    uint64_t *flags[4] = {NULL, &o->dynamic_platform, &o->cached_keys, &o->smt_enabled};
    size_t pos = seq->val, end = seq->val + seq->len;
    for (size_t i = 0; i < po.count; i++) {
        tlv item, oid, value;
        next_child(d, &pos, end, &item);
        size_t ip = item.val;
        next_child(d, &ip, item.val + item.len, &oid);
        next_child(d, &ip, item.val + item.len, &value);
        unsigned k = known(d, &oid, CONFIG, sizeof(CONFIG), 3);
        if (k == 0) {
            return fail_at(o, CV_SGX_E_CONFIG_UNKNOWN, &oid);
        }
        if (value.tag != TAG_BOOLEAN || value.len != 1) {
            o->err_index = k;
            return fail(o, CV_SGX_E_CONFIG_BOOLEAN);
        }
        *flags[k] = d[value.val] != 0;
    }
    return CV_OK;
}

static int parse(const uint8_t *d, size_t len, cv_sgxext_fields *o)
{
    tlv top;
    size_t end;
    pairs_out entries, tcb;
    int rc, e;
    o->dynamic_platform = o->cached_keys = o->smt_enabled = CV_SGX_FLAG_ABSENT;
    if ((e = tlv_at(d, 0, len, &top, &end)) != 0) {
        return fail(o, e);
    }
    if (end != len) {
        return fail(o, CV_SGX_E_NOT_SINGLE_SEQUENCE);
    }
    rc = pairs(d, &top, CV_SGX_C_EXTENSION, BASE, sizeof(BASE), 7, &entries, o);
    if (rc != CV_OK) {
        return rc;
    }
    /* QVL: 5 entries (Processor CA) or 7 (Platform CA), no others */
    if (entries.unknown == 0 && entries.count == 5 && !entries.have[6] && !entries.have[7]) {
        o->entries = 5;
    } else if (entries.unknown == 0 && entries.count == 7) {
        o->entries = 7;
    } else {
        o->err_index = entries.count;
        return fail(o, CV_SGX_E_ENTRY_SET);
    }
    /* TCB: .2.1-.2.16 component SVNs, .2.17 PCESVN, .2.18 CPUSVN; exactly these 18 */
    rc = pairs(d, &entries.value[2], CV_SGX_C_TCB, TCB, sizeof(TCB), 18, &tcb, o);
    if (rc != CV_OK) {
        return rc;
    }
    if (tcb.unknown != 0 || tcb.count != 18) {
        return fail(o, CV_SGX_E_TCB_SET);
    }
    for (unsigned i = 1; i <= 17; i++) {
        uint64_t *dst = i <= CV_SGX_TCB_COMPONENTS ? &o->tcb_components[i - 1] : &o->pce_svn;
        if ((rc = svn(d, &tcb.value[i], i, dst, o)) != CV_OK) {
            return rc;
        }
    }
    const tlv *cpusvn = &tcb.value[18];
    if (cpusvn->tag != TAG_OCTET_STRING || cpusvn->len != 16) {
        return fail(o, CV_SGX_E_CPUSVN);
    }
    o->cpu_svn_offset = cpusvn->val;
    /* SGX type: ENUMERATED 0 (Standard), 1 (Scalable), 2 (Scalable with integrity) */
    const tlv *type = &entries.value[5];
    if ((rc = check_int(type, o)) != CV_OK) {
        return rc;
    }
    if (type->tag != TAG_ENUMERATED || !small_uint(d, type, 2, &o->sgx_type) || o->sgx_type > 2) {
        return fail_at(o, CV_SGX_E_SGX_TYPE, type);
    }
    if (o->entries == 7) {
        if ((rc = octets(&entries, 6, 16, &o->platform_instance_id_offset, o)) != CV_OK) {
            return rc;
        }
        if ((rc = configuration(d, &entries.value[7], o)) != CV_OK) {
            return rc;
        }
    }
    if ((rc = octets(&entries, 1, 16, &o->ppid_offset, o)) != CV_OK ||
        (rc = octets(&entries, 3, 2, &o->pce_id_offset, o)) != CV_OK ||
        (rc = octets(&entries, 4, 6, &o->fmspc_offset, o)) != CV_OK) {
        return rc;
    }
    return CV_OK;
}

int cv_sgxext_parse(const uint8_t *data, size_t len, cv_sgxext_fields *out)
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

long cv_sgxext_entry_oids(const uint8_t *data, size_t len, uint64_t *out, size_t max)
{
    cv_sgxext_fields scratch;
    tlv top, item, oid;
    size_t end, n, parts;
    if (data == NULL || (out == NULL && max != 0)) {
        return -1;
    }
    memset(&scratch, 0, sizeof(scratch));
    if (tlv_at(data, 0, len, &top, &end) != 0 || end != len || top.tag != TAG_SEQUENCE ||
        children(data, &top, &n, &scratch) != CV_OK) {
        return -1;
    }
    size_t pos = top.val;
    for (size_t i = 0; i < n; i++) {
        next_child(data, &pos, top.val + top.len, &item);
        if (item.tag != TAG_SEQUENCE || children(data, &item, &parts, &scratch) != CV_OK ||
            parts != 2) {
            return -1;
        }
        size_t ip = item.val;
        next_child(data, &ip, item.val + item.len, &oid);
        if (check_oid(data, &oid, &scratch) != CV_OK) {
            return -1;
        }
        if (i < max) {
            out[2 * i] = oid.val;
            out[2 * i + 1] = oid.len;
        }
    }
    return (long)n;
}

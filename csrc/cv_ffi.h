/* cocoverify native parser ABI: the only header cffi parses (csrc/ffi_build.py).
 * Plain C declarations only: no macros, no includes, no attributes.
 * Parses and bounds-checks (no allocation); ECDSA through libcrypto (cv_crypto.c); no X.509
 * (docs/native.md). */

/* Status codes, shared by every native parser. The Python side maps each to an
 * exception class and Reason (src/cocoverify/_backend/_native.py). */
enum cv_status {
    CV_OK = 0,
    CV_ERR_TRUNCATED = 1,
    CV_ERR_RESERVED_NONZERO = 2,
    CV_ERR_MALFORMED = 3,
    CV_ERR_UNSUPPORTED_VERSION = 4,
    CV_ERR_UNSUPPORTED_KEY_TYPE = 5,
    CV_ERR_UNSUPPORTED_TEE_TYPE = 6,
    CV_ERR_UNSUPPORTED_CERTIFICATION_DATA = 7,
    CV_ERR_ARGUMENT = 8
};

/* Which field an error names; Python maps each id to the field name the pure-Python
 * parser uses (evidence/intel.py). */
enum cv_dcap_field {
    CV_DCAP_F_NONE = 0,
    CV_DCAP_F_HEADER = 1,
    CV_DCAP_F_BODY_DESCRIPTOR_TYPE = 2,
    CV_DCAP_F_BODY_DESCRIPTOR_SIZE = 3,
    CV_DCAP_F_REPORT_BODY = 4,
    CV_DCAP_F_REPORT_BODY_RESERVED = 5,
    CV_DCAP_F_TD_REPORT = 6,
    CV_DCAP_F_SIGNATURE_DATA_LENGTH = 7,
    CV_DCAP_F_SIGNATURE_DATA = 8,
    CV_DCAP_F_QUOTE_SIGNATURE = 9,
    CV_DCAP_F_ATTESTATION_KEY = 10,
    CV_DCAP_F_QE_REPORT = 11,
    CV_DCAP_F_QE_REPORT_RESERVED = 12,
    CV_DCAP_F_QE_REPORT_SIGNATURE = 13,
    CV_DCAP_F_QE_AUTH_DATA_SIZE = 14,
    CV_DCAP_F_QE_AUTH_DATA = 15,
    CV_DCAP_F_CERT_DATA_TYPE = 16,
    CV_DCAP_F_CERT_DATA_SIZE = 17,
    CV_DCAP_F_CERT_DATA_DATA = 18,
    CV_DCAP_F_INNER_CERT_DATA_TYPE = 19,
    CV_DCAP_F_INNER_CERT_DATA_SIZE = 20,
    CV_DCAP_F_INNER_CERT_DATA_DATA = 21,
    CV_DCAP_F_HEADER_VERSION = 22,
    CV_DCAP_F_HEADER_KEY_TYPE = 23,
    CV_DCAP_F_HEADER_TEE_TYPE = 24,
    CV_DCAP_F_CERT_DATA = 25,
    CV_DCAP_F_INNER_CERT_DATA = 26
};

/* Flat field table of a DCAP quote v3/v4/v5 (intel.md section 2). Offsets are absolute
 * byte offsets into the input. On error, status != CV_OK and err_* say what and where;
 * fields filled before the error keep their values, the rest are zero. Two ints, then only
 * uint64_t: the Python wrapper unpacks the struct in one call (_backend/_native.py). */
typedef struct {
    int status;            /* enum cv_status */
    int err_field;         /* enum cv_dcap_field */
    uint64_t err_offset;   /* absolute offset the error names */
    uint64_t err_need;     /* truncated: bytes needed */
    uint64_t err_have;     /* truncated: bytes remaining in the bound */
    uint64_t err_value;    /* unsupported/malformed: the offending value */

    /* header, 48 bytes (intel.md 2.1) */
    uint64_t version;
    uint64_t attestation_key_type;
    uint64_t tee_type;
    uint64_t qe_svn;
    uint64_t pce_svn;

    /* body (intel.md 2.2): 1 SGX, 2 TD10, 3 TD15 (v3/v4 implied) */
    uint64_t body_type;
    uint64_t body_offset;
    uint64_t body_size;
    uint64_t signed_end;   /* the signed region is [0, signed_end) */

    /* signature data (intel.md 2.5) */
    uint64_t signature_data_size;
    uint64_t signature_offset;
    uint64_t attestation_key_offset;
    uint64_t qe_report_offset;
    uint64_t qe_report_signature_offset;
    uint64_t qe_auth_data_offset;
    uint64_t qe_auth_data_size;
    uint64_t certification_type;
    uint64_t certification_offset;       /* the u16 type of the (inner) cert data */
    uint64_t certification_data_offset;
    uint64_t certification_data_size;

    uint64_t length;       /* end of the quote; bytes after it are trailing */
} cv_quote_fields;

/* Parse a DCAP quote. Returns the status (also stored in out->status). */
int cv_dcap_parse(const uint8_t *data, size_t len, cv_quote_fields *out);

/* --- signatures (cv_crypto.c): ECDSA through libcrypto >= 3.0 (docs/native.md) ---------- */

/* Verdict of a signature check: CV_SIG_OK only for a valid signature. */
enum cv_verdict {
    CV_SIG_BAD = 0,
    CV_SIG_OK = 1
};

/* Opaque public key made once per point (an EVP_PKEY, its digest, its point); read-only
 * after creation but for a use count and a table that change through atomics, so threads
 * may share it. The Python wrapper caches it by point bytes. */
typedef struct cv_ec_key cv_ec_key;

/* A key from a raw X||Y point: 64 bytes P-256 (SHA-256), 96 P-384 (SHA-384), 132 P-521
 * (SHA-512). NULL for any other length, a point off the curve or out of range, or no memory. */
cv_ec_key *cv_ec_key_new(const uint8_t *point, size_t len);

/* Frees a key from cv_ec_key_new or cv_dcap_parse_verify; NULL is a no-op. */
void cv_ec_key_free(cv_ec_key *key);

/* ECDSA over msg with the key's curve and hash; sig is r||s, each half the point size,
 * big-endian, or little-endian when little_endian != 0 (AMD). CV_SIG_OK or CV_SIG_BAD
 * (also for a NULL key, a wrong length, r or s out of range). */
int cv_ecdsa_verify_key(const cv_ec_key *key, const uint8_t *msg, size_t msg_len,
                        const uint8_t *sig, size_t sig_len, int little_endian);

/* A P-256 key builds a table of its point's multiples on its 256th verification (while
 * fewer than 16 tables exist): verification then takes about half the time, same answers.
 * cv_ec_key_precompute builds it now (tests); both return 1 when the key has one. */
int cv_ec_key_precompute(const cv_ec_key *key);
int cv_ec_key_precomputed(const cv_ec_key *key);
/* Tables alive in the process (at most 16). */
int cv_ec_tables(void);

/* The same with a key made for this call and freed (no cache). */
int cv_ecdsa_verify(const uint8_t *point, size_t point_len, const uint8_t *msg, size_t msg_len,
                    const uint8_t *sig, size_t sig_len, int little_endian);

/* One call per DCAP quote: cv_dcap_parse, then, if it succeeded, the quote signature over
 * [0, signed_end) with the attestation key in the quote (SHA-256, P-256). key is a cached
 * key for that point or NULL; when it is NULL or made from another point, a key is made
 * for this call and handed to the caller in *made (or freed when made is NULL). *verdict is
 * CV_SIG_OK only for a parsed quote whose signature verifies. Returns the parse status. */
int cv_dcap_parse_verify(const uint8_t *data, size_t len, const cv_ec_key *key,
                         cv_quote_fields *out, int *verdict, cv_ec_key **made);

/* OpenSSL_version(OPENSSL_VERSION) of the libcrypto in use, e.g. "OpenSSL 3.0.13 ...". */
const char *cv_crypto_version(void);

/* OpenSSL_version_num() of the libcrypto in use (0xMNN00PP0L: major, minor, patch). */
unsigned long cv_crypto_version_num(void);

/* ABI version of this header, checked by the Python wrapper. */
int cv_abi_version(void);

/* --- SEV-SNP attestation report (cv_snp.c; SEV-SNP ABI section 7.3) --------------------- */

/* Statuses only the SNP parser returns (besides CV_OK, CV_ERR_TRUNCATED,
 * CV_ERR_RESERVED_NONZERO, CV_ERR_UNSUPPORTED_VERSION, CV_ERR_UNSUPPORTED_KEY_TYPE). */
enum cv_snp_status {
    CV_ERR_TRAILING_DATA = 16,
    CV_ERR_UNSUPPORTED_ALGORITHM = 17
};

/* Which field an SNP error names; the wrapper maps each id to the field name of
 * src/cocoverify/tee/snp/parse.py (_backend/_native_snp.py). */
enum cv_snp_field {
    CV_SNP_F_NONE = 0,
    CV_SNP_F_VERSION = 1,
    CV_SNP_F_REPORT = 2,
    CV_SNP_F_SIGNATURE_ALGO = 3,
    CV_SNP_F_RESERVED_04C = 4,
    CV_SNP_F_RESERVED_1EB = 5,
    CV_SNP_F_RESERVED_1EF = 6,
    CV_SNP_F_RESERVED_18B = 7,
    CV_SNP_F_RESERVED_188 = 8,
    CV_SNP_F_RESERVED_208 = 9,
    CV_SNP_F_RESERVED_1F8 = 10,
    CV_SNP_F_KEY_INFO = 11,
    CV_SNP_F_SIGNING_KEY = 12,
    CV_SNP_F_POLICY_BIT17 = 13,
    CV_SNP_F_POLICY_MBZ = 14,
    CV_SNP_F_SIGNATURE_R_PADDING = 15,
    CV_SNP_F_SIGNATURE_S_PADDING = 16,
    CV_SNP_F_SIGNATURE_RESERVED = 17
};

/* Integer fields of a 1184-byte report (byte fields sit at fixed offsets: the wrapper slices
 * them). On error status != CV_OK, err_field/err_offset say what and where (a reserved range
 * names its first non-zero byte); integers read before the error keep their values. Two ints,
 * then only uint64_t. */
typedef struct {
    int status;            /* enum cv_status / cv_snp_status */
    int err_field;         /* enum cv_snp_field */
    uint64_t err_offset;
    uint64_t version;
    uint64_t guest_svn;
    uint64_t policy;
    uint64_t vmpl;
    uint64_t signature_algo;
    uint64_t platform_info;
    uint64_t key_info;
    uint64_t cpuid_fam_id;     /* v3+ */
    uint64_t cpuid_mod_id;
    uint64_t cpuid_step;
    uint64_t current_build;
    uint64_t current_minor;
    uint64_t current_major;
    uint64_t committed_build;
    uint64_t committed_minor;
    uint64_t committed_major;
    uint64_t launch_mit_vector;   /* v5+ */
    uint64_t current_mit_vector;
} cv_snp_fields;

/* Parse exactly one SNP report (versions 2..5). Returns the status (also out->status). */
int cv_snp_parse(const uint8_t *data, size_t len, cv_snp_fields *out);

/* --- Intel SGX PCK certificate extension (cv_sgxext.c; QVL ParserUtils.h) -------------- */

/* What an SGX extension error says; every one is a CERTIFICATE_PROFILE_INVALID ChainInvalid
 * whose message the wrapper builds (_backend/_native_sgxext.py). */
enum cv_sgxext_error {
    CV_SGX_E_NONE = 0,
    CV_SGX_E_TLV_HEADER_TRUNCATED = 1,
    CV_SGX_E_MULTIBYTE_TAG = 2,
    CV_SGX_E_BAD_LENGTH = 3,
    CV_SGX_E_NONMINIMAL_LENGTH = 4,
    CV_SGX_E_TLV_VALUE_TRUNCATED = 5,
    CV_SGX_E_EXPECTED_INTEGER = 6,      /* err_tag */
    CV_SGX_E_EXPECTED_OID = 7,          /* err_tag */
    CV_SGX_E_OID_TRUNCATED = 8,
    CV_SGX_E_NOT_SINGLE_SEQUENCE = 9,
    CV_SGX_E_NOT_SEQUENCE = 10,         /* err_context */
    CV_SGX_E_ENTRY_NOT_PAIR = 11,       /* err_context */
    CV_SGX_E_DUPLICATE_ENTRY = 12,      /* err_context, OID value at err_offset/err_length */
    CV_SGX_E_ENTRY_SET = 13,            /* err_index = number of entries */
    CV_SGX_E_OCTETS = 14,               /* err_index = entry .1/.3/.4/.6 */
    CV_SGX_E_TCB_SET = 15,
    CV_SGX_E_SVN_RANGE = 16,            /* err_index = TCB component 1..16, 17 = PCESVN */
    CV_SGX_E_CPUSVN = 17,
    CV_SGX_E_SGX_TYPE = 18,             /* value at err_offset/err_length */
    CV_SGX_E_CONFIG_UNKNOWN = 19,       /* OID value at err_offset/err_length */
    CV_SGX_E_CONFIG_BOOLEAN = 20        /* err_index = .7.1/.7.2/.7.3 */
};

/* The SEQUENCE OF an error names. */
enum cv_sgxext_context {
    CV_SGX_C_EXTENSION = 1,
    CV_SGX_C_TCB = 2,
    CV_SGX_C_CONFIGURATION = 3
};

/* Facts of the extension value (the DER inside the extension's OCTET STRING). Offsets are
 * absolute in the input; flags are 0 false, 1 true, 2 absent (5-entry extensions). On error
 * status = CV_ERR_MALFORMED and err_* say which message. Two ints, then only uint64_t. */
typedef struct {
    int status;            /* CV_OK, CV_ERR_MALFORMED, CV_ERR_ARGUMENT */
    int err_code;          /* enum cv_sgxext_error */
    uint64_t err_context;  /* enum cv_sgxext_context */
    uint64_t err_offset;
    uint64_t err_length;
    uint64_t err_tag;
    uint64_t err_index;
    uint64_t entries;      /* 5 or 7 */
    uint64_t ppid_offset;  /* 16 bytes */
    uint64_t tcb_components[16];
    uint64_t pce_svn;
    uint64_t cpu_svn_offset;   /* 16 bytes */
    uint64_t pce_id_offset;    /* 2 bytes */
    uint64_t fmspc_offset;     /* 6 bytes */
    uint64_t sgx_type;
    uint64_t platform_instance_id_offset;  /* 16 bytes, 7-entry extensions only */
    uint64_t dynamic_platform;
    uint64_t cached_keys;
    uint64_t smt_enabled;
} cv_sgxext_fields;

/* Decode the SGX extension value. Returns the status (also out->status). */
int cv_sgxext_parse(const uint8_t *data, size_t len, cv_sgxext_fields *out);

/* For CV_SGX_E_ENTRY_SET messages: (offset, length) of the OID value of each top-level entry,
 * in order, into out[2*i], out[2*i+1] for i < max; returns the number of entries, or -1 when
 * the value is not a well-formed SEQUENCE OF SEQUENCE {OID, value}. */
long cv_sgxext_entry_oids(const uint8_t *data, size_t len, uint64_t *out, size_t max);

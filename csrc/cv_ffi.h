/* cocoverify native parser ABI: the only header cffi parses (csrc/ffi_build.py).
 * Plain C declarations only: no macros, no includes, no attributes.
 * Parses and bounds-checks; no allocation, no crypto, no X.509 (docs/native.md). */

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

/* ABI version of this header, checked by the Python wrapper. */
int cv_abi_version(void);

/* Constants of the SEV-SNP report layout shared by cv_snp.c and its fuzz checks
 * (SEV-SNP ABI section 7.3). The ABI itself is in cv_ffi.h. */
#ifndef CV_SNP_H
#define CV_SNP_H

#include "cv_api.h"

/* The report is 0x4A0 bytes; the signature covers 0x000..0x29F. */
#define CV_SNP_REPORT_SIZE 0x4A0
#define CV_SNP_SIGNED_SIZE 0x2A0

#endif /* CV_SNP_H */

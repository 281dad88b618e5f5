/* Constants of the Intel SGX PCK certificate extension shared by cv_sgxext.c and its fuzz
 * checks (QVL ParserUtils.h; Intel SGX PCK Certificate and CRL Profile). The ABI itself is in
 * cv_ffi.h. */
#ifndef CV_SGXEXT_H
#define CV_SGXEXT_H

#include "cv_api.h"

#define CV_SGX_TCB_COMPONENTS 16 /* .2.1-.2.16; .2.17 PCESVN, .2.18 CPUSVN */
#define CV_SGX_FLAG_ABSENT 2     /* Configuration flags of a 5-entry extension */

#endif /* CV_SGXEXT_H */

/* Include guard and standard types around cv_ffi.h, which must stay macro-free because cffi
 * parses it; C sources include this header, never cv_ffi.h directly. */
#ifndef CV_API_H
#define CV_API_H

#include <stddef.h>
#include <stdint.h>

#include "cv_ffi.h"

#endif /* CV_API_H */

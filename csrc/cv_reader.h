/* Bounded little-endian cursor shared by the native parsers (style.md section 7).
 * No allocation, no Python.h, C11. A reader covers buf[pos, len): offsets are absolute
 * in buf, so a sub-reader over part of the input reports the same offsets as the whole. */
#ifndef CV_READER_H
#define CV_READER_H

#include <stddef.h>
#include <stdint.h>

/* Reader-level result; parsers turn it into their enum cv_status. */
typedef enum {
    CV_R_OK = 0,
    CV_R_TRUNCATED = 1
} cv_rstatus;

typedef struct {
    const uint8_t *buf; /* start of the whole input */
    size_t len;         /* exclusive end bound of this reader (<= input length) */
    size_t pos;         /* absolute cursor, pos <= len */
} cv_reader;

/* A reader over buf[0, len). */
void cv_reader_init(cv_reader *r, const uint8_t *buf, size_t len);

/* Bytes left before the bound. */
size_t cv_remaining(const cv_reader *r);

/* Consume n bytes; *start = their absolute offset. CV_R_TRUNCATED leaves r unchanged. */
cv_rstatus cv_take(cv_reader *r, size_t n, size_t *start);

/* Consume a little-endian u16 / u32. */
cv_rstatus cv_u16(cv_reader *r, uint16_t *v);
cv_rstatus cv_u32(cv_reader *r, uint32_t *v);

/* Consume n bytes and return a reader bounded to them. */
cv_rstatus cv_sub(cv_reader *r, size_t n, cv_reader *sub);

/* Little-endian loads from a pointer the caller has bounds-checked. */
uint16_t cv_le16(const uint8_t *p);
uint32_t cv_le32(const uint8_t *p);
uint64_t cv_le64(const uint8_t *p);

/* 1 when p[0, n) is all zero (must-be-zero / reserved ranges). */
int cv_all_zero(const uint8_t *p, size_t n);

#endif /* CV_READER_H */

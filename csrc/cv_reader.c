/* Bounded little-endian cursor (see cv_reader.h). */
#include "cv_reader.h"

void cv_reader_init(cv_reader *r, const uint8_t *buf, size_t len)
{
    r->buf = buf;
    r->len = len;
    r->pos = 0;
}

size_t cv_remaining(const cv_reader *r)
{
    return r->len - r->pos;
}

cv_rstatus cv_take(cv_reader *r, size_t n, size_t *start)
{
    /* written as a subtraction: pos + n could wrap for a hostile 32-bit length */
    if (n > r->len - r->pos) {
        return CV_R_TRUNCATED;
    }
    *start = r->pos;
    r->pos += n;
    return CV_R_OK;
}

cv_rstatus cv_u16(cv_reader *r, uint16_t *v)
{
    size_t at;
    if (cv_take(r, 2, &at) != CV_R_OK) {
        return CV_R_TRUNCATED;
    }
    *v = cv_le16(r->buf + at);
    return CV_R_OK;
}

cv_rstatus cv_u32(cv_reader *r, uint32_t *v)
{
    size_t at;
    if (cv_take(r, 4, &at) != CV_R_OK) {
        return CV_R_TRUNCATED;
    }
    *v = cv_le32(r->buf + at);
    return CV_R_OK;
}

cv_rstatus cv_sub(cv_reader *r, size_t n, cv_reader *sub)
{
    size_t at;
    if (cv_take(r, n, &at) != CV_R_OK) {
        return CV_R_TRUNCATED;
    }
    sub->buf = r->buf;
    sub->pos = at;
    sub->len = at + n;
    return CV_R_OK;
}

uint16_t cv_le16(const uint8_t *p)
{
    return (uint16_t)((uint16_t)p[0] | (uint16_t)((uint16_t)p[1] << 8));
}

uint32_t cv_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
}

uint64_t cv_le64(const uint8_t *p)
{
    return (uint64_t)cv_le32(p) | ((uint64_t)cv_le32(p + 4) << 32);
}

int cv_all_zero(const uint8_t *p, size_t n)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++) {
        acc |= p[i];
    }
    return acc == 0;
}

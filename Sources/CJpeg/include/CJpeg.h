#ifndef SPT_CJPEG_H
#define SPT_CJPEG_H
#include <stddef.h>
#include <stdint.h>

/// Decodes a JPEG held in memory with libjpeg(-turbo). On success returns 0 and sets *pixels (malloc'd,
/// the caller frees), width, height and components (1 gray, 3 RGB, 4 CMYK as stored). Errors and
/// libjpeg's warnings (a truncated file, corrupt data) return -1 with a message in `message`.
/// Images whose width × height × components exceed `max_bytes` are refused before decoding.
int spt_jpeg_decode(const uint8_t *data, size_t size, size_t max_bytes, uint8_t **pixels,
                    int *width, int *height, int *components, char *message, size_t message_size);

#endif

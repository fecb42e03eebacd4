// libpng's low-level reader, in C because libpng reports errors with longjmp, which must not
// cross Swift frames. No libpng transform is set: rows come as stored and are converted here,
// so that no gamma, alpha compositing or tRNS expansion can slip in.
#include "CPngDecode.h"
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const uint8_t *data;
    size_t size, at;
    char *message;
    size_t message_size;
} reader_t;

static void on_error(png_structp png, png_const_charp text) {
    reader_t *r = png_get_error_ptr(png);
    snprintf(r->message, r->message_size, "%s", text);
    png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp text) { (void)png; (void)text; }

static void on_read(png_structp png, png_bytep out, png_size_t n) {
    reader_t *r = png_get_io_ptr(png);
    if (n > r->size - r->at) png_error(png, "truncated file");
    memcpy(out, r->data + r->at, n);
    r->at += n;
}

/// Sample `i` of a packed row of `depth`-bit samples (big-endian bit order, as PNG stores them).
static unsigned sample(const uint8_t *row, size_t i, int depth) {
    if (depth == 8) return row[i];
    if (depth == 16) return (unsigned)row[2 * i] << 8 | row[2 * i + 1];
    size_t bit = i * (size_t)depth;
    return (row[bit / 8] >> (8 - depth - bit % 8)) & ((1u << depth) - 1);
}

int spt_png_decode(const uint8_t *data, size_t size, size_t max_bytes, uint8_t **pixels,
                   int *width, int *height, int *gray, char *message, size_t message_size) {
    reader_t r = {data, size, 0, message, message_size};
    // Assigned after setjmp and freed after a longjmp: volatile, so their values survive it.
    uint8_t *volatile out = NULL, *volatile buffer = NULL;
    png_bytep *volatile rows = NULL;
    png_infop volatile info = NULL;
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &r, on_error, on_warning);
    if (!png) { snprintf(message, message_size, "out of memory"); return -1; }
    if (setjmp(png_jmpbuf(png))) {
        png_infop i = info;
        png_destroy_read_struct(&png, &i, NULL);
        free(out); free(buffer); free(rows);
        return -1;
    }
    info = png_create_info_struct(png);
    if (!info) png_error(png, "out of memory");
    png_set_read_fn(png, &r, on_read);
    // No limit of libpng's own beyond ours: the product below is the check.
    png_set_user_limits(png, 0x7fffffff, 0x7fffffff);
    png_read_info(png, info);
    png_uint_32 w = png_get_image_width(png, info), h = png_get_image_height(png, info);
    int depth = png_get_bit_depth(png, info), type = png_get_color_type(png, info);
    if (w == 0 || h == 0 || (uint64_t)w * h * 3 > max_bytes) {
        snprintf(message, message_size, "header claims %u×%u pixels, more than the %zu-megapixel limit", w, h, max_bytes / 3 / 1000000);
        png_infop i = info;
        png_destroy_read_struct(&png, &i, NULL);
        return -2;
    }
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    size_t stride = png_get_rowbytes(png, info);
    buffer = malloc(stride * h);
    rows = malloc(sizeof(png_bytep) * h);
    out = malloc((size_t)w * h * 3);
    if (!buffer || !rows || !out) png_error(png, "out of memory");
    for (png_uint_32 y = 0; y < h; y++) rows[y] = buffer + y * stride;
    png_read_image(png, rows);
    png_read_end(png, NULL);

    png_colorp palette = NULL;
    int colors = 0;
    if (type == PNG_COLOR_TYPE_PALETTE) png_get_PLTE(png, info, &palette, &colors);
    int channels = type == PNG_COLOR_TYPE_GRAY ? 1 : type == PNG_COLOR_TYPE_GRAY_ALPHA ? 2
                 : type == PNG_COLOR_TYPE_RGB ? 3 : type == PNG_COLOR_TYPE_RGB_ALPHA ? 4 : 1;
    for (png_uint_32 y = 0; y < h; y++) {
        for (png_uint_32 x = 0; x < w; x++) {
            uint8_t *o = out + ((size_t)y * w + x) * 3;
            size_t base = (size_t)x * channels;
            if (type == PNG_COLOR_TYPE_PALETTE) {
                unsigned i = sample(rows[y], x, depth);
                if ((int)i < colors) { o[0] = palette[i].red; o[1] = palette[i].green; o[2] = palette[i].blue; }
                else { o[0] = o[1] = o[2] = 0; }
            } else if (channels <= 2) {
                unsigned v = sample(rows[y], base, depth);
                // Pillow: 1/2/4-bit gray scaled; 16-bit gray (I;16) clipped; gray+alpha 16-bit by its high byte.
                uint8_t g = depth == 1 ? (v ? 255 : 0) : depth == 2 ? v * 85 : depth == 4 ? v * 17
                          : depth == 8 ? v : channels == 1 ? (v > 255 ? 255 : v) : v >> 8;
                o[0] = o[1] = o[2] = g;
            } else {
                for (int c = 0; c < 3; c++) {
                    unsigned v = sample(rows[y], base + c, depth);
                    o[c] = depth == 16 ? v >> 8 : v;
                }
            }
        }
    }
    *gray = type == PNG_COLOR_TYPE_GRAY || type == PNG_COLOR_TYPE_GRAY_ALPHA;
    *width = (int)w; *height = (int)h; *pixels = out;
    png_infop i = info;
    png_destroy_read_struct(&png, &i, NULL);
    free(buffer); free(rows);
    return 0;
}

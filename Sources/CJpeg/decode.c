// libjpeg reports errors by calling error_exit, which must not return: a longjmp back into this
// function, which Swift cannot express — hence this file.
#include "CJpeg.h"
#include <stdio.h>
#include <jpeglib.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

struct failure {
    struct jpeg_error_mgr mgr;
    jmp_buf jump;
    char *message;
    size_t message_size;
};

static void on_error(j_common_ptr cinfo) {
    struct failure *f = (struct failure *)cinfo->err;
    (*cinfo->err->format_message)(cinfo, f->message);
    longjmp(f->jump, 1);
}

// Warnings (premature end of file, corrupt data) leave gray pixels behind: treat them as errors.
static void on_message(j_common_ptr cinfo, int level) {
    if (level < 0) on_error(cinfo);
}

int spt_jpeg_decode(const uint8_t *data, size_t size, size_t max_bytes, uint8_t **pixels,
                    int *width, int *height, int *components, char *message, size_t message_size) {
    struct jpeg_decompress_struct cinfo;
    struct failure f;
    char text[JMSG_LENGTH_MAX] = "";
    uint8_t *volatile out = NULL;
    cinfo.err = jpeg_std_error(&f.mgr);
    f.mgr.error_exit = on_error;
    f.mgr.emit_message = on_message;
    f.message = text;
    if (setjmp(f.jump)) {
        jpeg_destroy_decompress(&cinfo);
        free(out);
        snprintf(message, message_size, "%s", text);
        return -1;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, (unsigned long)size);
    jpeg_read_header(&cinfo, TRUE);
    if (cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK) {
        cinfo.out_color_space = JCS_CMYK;
    } else if (cinfo.num_components == 1) {
        cinfo.out_color_space = JCS_GRAYSCALE;
    } else {
        cinfo.out_color_space = JCS_RGB;
    }
    jpeg_calc_output_dimensions(&cinfo);
    size_t row = (size_t)cinfo.output_width * (size_t)cinfo.output_components;
    if (cinfo.output_width == 0 || cinfo.output_height == 0 || row / cinfo.output_components != cinfo.output_width ||
        row > max_bytes / cinfo.output_height) {
        snprintf(text, sizeof text, "header claims %u×%u pixels, more than the limit", cinfo.output_width, cinfo.output_height);
        longjmp(f.jump, 1);
    }
    out = malloc(row * cinfo.output_height);
    if (!out) {
        snprintf(text, sizeof text, "out of memory for %u×%u pixels", cinfo.output_width, cinfo.output_height);
        longjmp(f.jump, 1);
    }
    jpeg_start_decompress(&cinfo);
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW r = out + (size_t)cinfo.output_scanline * row;
        jpeg_read_scanlines(&cinfo, &r, 1);
    }
    jpeg_finish_decompress(&cinfo);
    *width = (int)cinfo.output_width;
    *height = (int)cinfo.output_height;
    *components = cinfo.output_components;
    *pixels = out;
    jpeg_destroy_decompress(&cinfo);
    return 0;
}

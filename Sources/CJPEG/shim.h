#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <jpeglib.h>
#include <jerror.h>

/* libjpeg reports fatal errors through error_exit, which must not return; Swift cannot
   longjmp, so the whole decode lives here, in C, behind one call. */

struct cnnprune_jpeg_error {
    struct jpeg_error_mgr manager;
    jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
};

static void cnnprune_jpeg_error_exit(j_common_ptr info) {
    struct cnnprune_jpeg_error *error = (struct cnnprune_jpeg_error *)info->err;
    (*info->err->format_message)(info, error->message);
    longjmp(error->jump, 1);
}

static void cnnprune_jpeg_silence(j_common_ptr info, int level) { (void)info; (void)level; }

/* libjpeg reports corrupt entropy-coded data ("Corrupt JPEG data: bad Huffman code",
   "premature end of data segment", a file cut short) as warnings (level -1) and goes on,
   filling what it lost with grey. A decoder must not pass such an image off as the file's:
   every warning ends the decode as an error, with libjpeg's message, except the two that
   concern metadata only (an unknown JFIF revision, an unknown Adobe colour transform code). */
static void cnnprune_jpeg_refuse_warnings(j_common_ptr info, int level) {
    if (level >= 0) return;  /* trace messages */
    int code = info->err->msg_code;
    if (code == JWRN_JFIF_MAJOR || code == JWRN_ADOBE_XFORM) return;
    info->err->num_warnings++;
    cnnprune_jpeg_error_exit(info);
}

/// Decodes a JPEG held in memory to 8-bit RGB, row-major, 3 bytes a pixel, into a buffer the
/// caller frees with free(). Returns 0 on success; otherwise 1 and a message in `message`
/// (at least JMSG_LENGTH_MAX bytes). Images of more than `max_pixels` pixels are refused
/// before any pixel buffer is allocated; corrupt data, which libjpeg only warns about, is an
/// error too (see cnnprune_jpeg_refuse_warnings).
static inline int cnnprune_jpeg_decode_rgb(const unsigned char *data, unsigned long size, unsigned long max_pixels,
                                           unsigned char **out, int *width, int *height, char *message) {
    struct jpeg_decompress_struct info;
    struct cnnprune_jpeg_error error;
    unsigned char *volatile pixels = NULL;
    *out = NULL;
    memset(&info, 0, sizeof info);
    info.err = jpeg_std_error(&error.manager);
    error.manager.error_exit = cnnprune_jpeg_error_exit;
    error.manager.emit_message = cnnprune_jpeg_refuse_warnings;
    error.message[0] = 0;
    if (setjmp(error.jump)) {
        jpeg_destroy_decompress(&info);
        free(pixels);
        strncpy(message, error.message, JMSG_LENGTH_MAX - 1);
        message[JMSG_LENGTH_MAX - 1] = 0;
        return 1;
    }
    jpeg_create_decompress(&info);
    jpeg_mem_src(&info, data, size);
    jpeg_read_header(&info, TRUE);
    if ((unsigned long)info.image_width * (unsigned long)info.image_height > max_pixels) {
        snprintf(message, JMSG_LENGTH_MAX, "%ux%u pixels is more than the %lu accepted", info.image_width, info.image_height, max_pixels);
        jpeg_destroy_decompress(&info);
        return 1;
    }
    info.out_color_space = JCS_RGB;
    jpeg_start_decompress(&info);
    size_t stride = (size_t)info.output_width * 3;
    pixels = (unsigned char *)malloc(stride * info.output_height + 1);
    if (!pixels) {
        snprintf(message, JMSG_LENGTH_MAX, "out of memory");
        jpeg_destroy_decompress(&info);
        return 1;
    }
    while (info.output_scanline < info.output_height) {
        JSAMPROW row = pixels + stride * info.output_scanline;
        jpeg_read_scanlines(&info, &row, 1);
    }
    jpeg_finish_decompress(&info);
    *width = (int)info.output_width;
    *height = (int)info.output_height;
    jpeg_destroy_decompress(&info);
    *out = pixels;
    return 0;
}

/// Encodes 8-bit RGB pixels as a baseline JPEG of `quality` (1–100) into a buffer the caller
/// frees with free(); for tests and fuzz seeds. Returns 0 on success.
static inline int cnnprune_jpeg_encode_rgb(const unsigned char *rgb, int width, int height, int quality,
                                           unsigned char **out, unsigned long *size) {
    struct jpeg_compress_struct info;
    struct cnnprune_jpeg_error error;
    *out = NULL;
    *size = 0;
    memset(&info, 0, sizeof info);
    info.err = jpeg_std_error(&error.manager);
    error.manager.error_exit = cnnprune_jpeg_error_exit;
    error.manager.emit_message = cnnprune_jpeg_silence;
    if (setjmp(error.jump)) {
        jpeg_destroy_compress(&info);
        return 1;
    }
    jpeg_create_compress(&info);
    jpeg_mem_dest(&info, out, size);
    info.image_width = (JDIMENSION)width;
    info.image_height = (JDIMENSION)height;
    info.input_components = 3;
    info.in_color_space = JCS_RGB;
    jpeg_set_defaults(&info);
    jpeg_set_quality(&info, quality, TRUE);
    jpeg_start_compress(&info, TRUE);
    while (info.next_scanline < info.image_height) {
        JSAMPROW row = (JSAMPROW)(rgb + (size_t)info.next_scanline * (size_t)width * 3);
        jpeg_write_scanlines(&info, &row, 1);
    }
    jpeg_finish_compress(&info);
    jpeg_destroy_compress(&info);
    return 0;
}

// Follows Pillow's src/libImaging/JpegDecode.c (libjpeg defaults, one out_color_space per
// component count) with an in-memory source that reports where the data ran out.
#include "CJPEG.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>

// ---- Errors -------------------------------------------------------------------------

static int ran_out_of_data(j_common_ptr cinfo);

struct shim_error_manager {
    struct jpeg_error_mgr pub;
    jmp_buf jump;
    cjpeg_error *target;
};

static void store_message(cjpeg_error *error, const char *message) {
    snprintf(error->message, sizeof error->message, "%s", message);
}

// libjpeg's error_exit must not return: it records the message and jumps back to the
// setjmp point of the shim function that made the failing call.
static void on_error(j_common_ptr cinfo) {
    struct shim_error_manager *manager = (struct shim_error_manager *)cinfo->err;
    char message[JMSG_LENGTH_MAX];
    (*cinfo->err->format_message)(cinfo, message);
    if (ran_out_of_data(cinfo))
        snprintf(manager->target->message, sizeof manager->target->message, "the file is truncated (%s)", message);
    else
        store_message(manager->target, message);
    longjmp(manager->jump, 1);
}

// Warnings (corrupt-data notes libjpeg recovers from) are not failures, as in Pillow,
// and a library stays quiet.
static void on_message(j_common_ptr cinfo, int level) {
    (void)cinfo;
    (void)level;
}

// ---- Source -------------------------------------------------------------------------

struct cjpeg_decoder {
    struct jpeg_decompress_struct cinfo;
    struct shim_error_manager error;
    struct jpeg_source_mgr source;
    const uint8_t *data;
    size_t size;
    // Set once libjpeg asks for bytes past the end: the file is truncated if that happens
    // before the last row is out.
    int ran_out;
    int created;
};

// The decompress struct is the decoder's first member, so libjpeg's pointer is the decoder's.
static int ran_out_of_data(j_common_ptr cinfo) { return ((struct cjpeg_decoder *)cinfo)->ran_out; }

static const JOCTET fake_end_of_image[2] = {0xFF, JPEG_EOI};

static void init_source(j_decompress_ptr cinfo) { (void)cinfo; }

// Like jdatasrc.c's memory source, but quietly: the end of data reads as an EOI marker
// (libjpeg then fills what is missing with gray), and `ran_out` remembers it happened.
static boolean fill_input_buffer(j_decompress_ptr cinfo) {
    struct cjpeg_decoder *decoder = (struct cjpeg_decoder *)cinfo;
    decoder->ran_out = 1;
    cinfo->src->next_input_byte = fake_end_of_image;
    cinfo->src->bytes_in_buffer = sizeof fake_end_of_image;
    return TRUE;
}

static void skip_input_data(j_decompress_ptr cinfo, long count) {
    struct jpeg_source_mgr *source = cinfo->src;
    if (count <= 0) return;
    while (count > (long)source->bytes_in_buffer) {
        count -= (long)source->bytes_in_buffer;
        fill_input_buffer(cinfo);
    }
    source->next_input_byte += count;
    source->bytes_in_buffer -= (size_t)count;
}

static void term_source(j_decompress_ptr cinfo) { (void)cinfo; }

// ---- Decoding -----------------------------------------------------------------------

// Points libjpeg's error messages at the calling shim function's `error`.
static void route_errors(cjpeg_decoder *decoder, cjpeg_error *error) { decoder->error.target = error; }

static void read_header(cjpeg_decoder *decoder) {
    j_decompress_ptr cinfo = &decoder->cinfo;
    jpeg_create_decompress(cinfo);
    decoder->created = 1;
    decoder->source.init_source = init_source;
    decoder->source.fill_input_buffer = fill_input_buffer;
    decoder->source.skip_input_data = skip_input_data;
    decoder->source.resync_to_restart = jpeg_resync_to_restart;
    decoder->source.term_source = term_source;
    decoder->source.next_input_byte = decoder->data;
    decoder->source.bytes_in_buffer = decoder->size;
    cinfo->src = &decoder->source;
    jpeg_save_markers(cinfo, JPEG_APP0 + 1, 0xFFFF);
    jpeg_read_header(cinfo, TRUE);
}

cjpeg_decoder *cjpeg_decoder_open(const uint8_t *data, size_t size, cjpeg_error *error) {
    cjpeg_decoder *decoder = calloc(1, sizeof *decoder);
    if (!decoder) {
        store_message(error, "out of memory");
        return NULL;
    }
    decoder->data = data;
    decoder->size = data ? size : 0;
    decoder->cinfo.err = jpeg_std_error(&decoder->error.pub);
    decoder->error.pub.error_exit = on_error;
    decoder->error.pub.emit_message = on_message;
    route_errors(decoder, error);
    if (setjmp(decoder->error.jump)) {
        cjpeg_decoder_close(decoder);
        return NULL;
    }
    read_header(decoder);
    int components = decoder->cinfo.num_components;
    if (components != 1 && components != 3 && components != 4) {
        snprintf(error->message, sizeof error->message, "%d color components (only 1, 3 or 4 are supported)",
                 components);
        cjpeg_decoder_close(decoder);
        return NULL;
    }
    return decoder;
}

uint32_t cjpeg_decoder_width(const cjpeg_decoder *decoder) { return decoder->cinfo.image_width; }

uint32_t cjpeg_decoder_height(const cjpeg_decoder *decoder) { return decoder->cinfo.image_height; }

int cjpeg_decoder_components(const cjpeg_decoder *decoder) { return decoder->cinfo.num_components; }

const uint8_t *cjpeg_decoder_app1(const cjpeg_decoder *decoder, int index, size_t *size) {
    for (jpeg_saved_marker_ptr marker = decoder->cinfo.marker_list; marker; marker = marker->next) {
        if (marker->marker == JPEG_APP0 + 1 && index-- == 0) {
            *size = marker->data_length;
            return marker->data;
        }
    }
    *size = 0;
    return NULL;
}

// Pillow asks for the rawmode of the image mode its header parser chose: "L", "RGB"
// (JCS_EXT_RGBX, the same values) or "CMYK;I" (JCS_CMYK, inverted later).
static J_COLOR_SPACE output_color_space(int components) {
    switch (components) {
        case 1: return JCS_GRAYSCALE;
        case 3: return JCS_RGB;
        default: return JCS_CMYK;
    }
}

int cjpeg_decoder_read(cjpeg_decoder *decoder, uint8_t *pixels, cjpeg_error *error) {
    j_decompress_ptr cinfo = &decoder->cinfo;
    route_errors(decoder, error);
    if (setjmp(decoder->error.jump)) return 1;

    cinfo->out_color_space = output_color_space(cinfo->num_components);
    jpeg_start_decompress(cinfo);
    size_t stride = (size_t)cinfo->output_width * (size_t)cinfo->output_components;
    if (cinfo->output_components != cinfo->num_components) {
        store_message(error, "unexpected number of output components");
        return 1;
    }
    // Running out before the last row is out fails, so stop at once rather than let
    // libjpeg fill the rest of a large image with gray (progressive files are read whole
    // by jpeg_start_decompress, so they stop before the first row).
    while (!decoder->ran_out && cinfo->output_scanline < cinfo->output_height) {
        JSAMPROW row = pixels + (size_t)cinfo->output_scanline * stride;
        jpeg_read_scanlines(cinfo, &row, 1);
    }
    if (decoder->ran_out) {
        store_message(error, "the file is truncated (the data ends before the last row)");
        return 1;
    }
    jpeg_finish_decompress(cinfo);
    return 0;
}

void cjpeg_decoder_close(cjpeg_decoder *decoder) {
    if (!decoder) return;
    if (decoder->created) jpeg_destroy_decompress(&decoder->cinfo);
    free(decoder);
}

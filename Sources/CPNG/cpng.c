#include "CPNG.h"

#include <png.h>
#include <stdlib.h>
#include <string.h>

// ---- Errors -------------------------------------------------------------------------

static void store_message(cpng_error *error, const char *message) {
    snprintf(error->message, sizeof error->message, "%s", message ? message : "unknown libpng error");
}

// libpng's error callback must not return: it records the message and jumps back to the
// setjmp point of the shim function that made the failing call.
static void on_error(png_structp png, png_const_charp message) {
    store_message((cpng_error *)png_get_error_ptr(png), message);
    png_longjmp(png, 1);
}

// Warnings (unknown chunks, benign oddities) are not failures; a library stays quiet.
static void on_warning(png_structp png, png_const_charp message) {
    (void)png;
    (void)message;
}

// ---- Decoding -----------------------------------------------------------------------

struct cpng_decoder {
    png_structp png;
    png_infop info;
    const uint8_t *data;
    size_t size;
    size_t offset;
};

static void read_from_memory(png_structp png, png_bytep out, size_t length) {
    struct cpng_decoder *decoder = png_get_io_ptr(png);
    if (length > decoder->size - decoder->offset) png_error(png, "the file is truncated");
    memcpy(out, decoder->data + decoder->offset, length);
    decoder->offset += length;
}

cpng_decoder *cpng_decoder_open(const uint8_t *data, size_t size, cpng_error *error) {
    struct cpng_decoder *decoder = calloc(1, sizeof *decoder);
    if (!decoder) {
        store_message(error, "out of memory");
        return NULL;
    }
    decoder->data = data;
    decoder->size = size;
    decoder->png = png_create_read_struct(PNG_LIBPNG_VER_STRING, error, on_error, on_warning);
    if (decoder->png) decoder->info = png_create_info_struct(decoder->png);
    if (!decoder->info) {
        store_message(error, "out of memory");
        cpng_decoder_close(decoder);
        return NULL;
    }
    if (setjmp(png_jmpbuf(decoder->png))) {
        cpng_decoder_close(decoder);
        return NULL;
    }
    png_set_read_fn(decoder->png, decoder, read_from_memory);
    png_read_info(decoder->png, decoder->info);
    return decoder;
}

uint32_t cpng_decoder_width(const cpng_decoder *decoder) { return png_get_image_width(decoder->png, decoder->info); }

uint32_t cpng_decoder_height(const cpng_decoder *decoder) { return png_get_image_height(decoder->png, decoder->info); }

// PIL opens 16-bit gray as mode "I;16", and its conversion to RGB clamps at 255 rather
// than keeping the high byte (which it does for 16-bit color and gray+alpha). The
// big-endian samples fill the first 2 * width bytes of the row; widening from the right
// end keeps every sample readable until it is converted.
static void gray16_to_rgb_in_place(uint8_t *row, uint32_t width) {
    for (uint32_t x = width; x-- > 0;) {
        uint8_t high = row[2 * x], low = row[2 * x + 1];
        uint8_t value = high ? 255 : low;
        row[3 * x] = row[3 * x + 1] = row[3 * x + 2] = value;
    }
}

// Asks libpng for 8-bit RGB, except 16-bit gray, left as samples for PIL's clamp.
// Alpha and tRNS are dropped without compositing, as PIL's convert("RGB") does.
static int request_rgb8(png_structp png, png_infop info) {
    int color = png_get_color_type(png, info), depth = png_get_bit_depth(png, info);
    int gray16 = color == PNG_COLOR_TYPE_GRAY && depth == 16;
    if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (color == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (depth == 16 && !gray16) png_set_strip_16(png);  // keeps the high byte, as PIL's "RGB;16B" unpacker
    if (color & PNG_COLOR_MASK_ALPHA || png_get_valid(png, info, PNG_INFO_tRNS)) png_set_strip_alpha(png);
    if (!gray16 && !(color & PNG_COLOR_MASK_COLOR)) png_set_gray_to_rgb(png);
    return gray16;
}

int cpng_decoder_read_rgb(cpng_decoder *decoder, uint8_t *rgb, cpng_error *error) {
    png_structp png = decoder->png;
    png_infop info = decoder->info;
    png_set_error_fn(png, error, on_error, on_warning);
    if (setjmp(png_jmpbuf(png))) return 1;

    int gray16 = request_rgb8(png, info);
    int passes = png_set_interlace_handling(png);
    png_read_update_info(png, info);
    uint32_t width = png_get_image_width(png, info), height = png_get_image_height(png, info);
    size_t stride = (size_t)width * 3;
    if (png_get_rowbytes(png, info) != (gray16 ? (size_t)width * 2 : stride))
        png_error(png, "unexpected row size after conversion to RGB");

    // Adam7 passes revisit the same rows; libpng merges each pass into the row in place.
    for (int pass = 0; pass < passes; pass++)
        for (uint32_t y = 0; y < height; y++) png_read_row(png, rgb + y * stride, NULL);
    png_read_end(png, NULL);
    if (gray16)
        for (uint32_t y = 0; y < height; y++) gray16_to_rgb_in_place(rgb + y * stride, width);
    return 0;
}

void cpng_decoder_close(cpng_decoder *decoder) {
    if (!decoder) return;
    png_destroy_read_struct(&decoder->png, decoder->info ? &decoder->info : NULL, NULL);
    free(decoder);
}

// ---- Encoding -----------------------------------------------------------------------

struct growing_buffer {
    uint8_t *bytes;
    size_t size;
    size_t capacity;
};

static void write_to_memory(png_structp png, png_bytep data, size_t length) {
    struct growing_buffer *buffer = png_get_io_ptr(png);
    if (length > buffer->capacity - buffer->size) {
        size_t capacity = buffer->capacity * 2 > buffer->size + length ? buffer->capacity * 2 : buffer->size + length;
        uint8_t *bytes = realloc(buffer->bytes, capacity);
        if (!bytes) png_error(png, "out of memory");
        buffer->bytes = bytes;
        buffer->capacity = capacity;
    }
    memcpy(buffer->bytes + buffer->size, data, length);
    buffer->size += length;
}

static void flush_nothing(png_structp png) { (void)png; }

// The buffer is reached through a pointer because locals changed after setjmp are
// indeterminate once longjmp returns there.
static int encode(png_structp png, png_infop info, const uint8_t *rgb, uint32_t width, uint32_t height,
                  struct growing_buffer *buffer) {
    if (setjmp(png_jmpbuf(png))) return 1;
    png_set_write_fn(png, buffer, write_to_memory, flush_nothing);
    png_set_IHDR(png, info, width, height, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (uint32_t y = 0; y < height; y++) png_write_row(png, rgb + (size_t)y * width * 3);
    png_write_end(png, NULL);
    return 0;
}

int cpng_encode_rgb(const uint8_t *rgb, uint32_t width, uint32_t height, uint8_t **png_out, size_t *png_size,
                    cpng_error *error) {
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, error, on_error, on_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    struct growing_buffer buffer = {0};
    int status = info ? encode(png, info, rgb, width, height, &buffer) : (store_message(error, "out of memory"), 1);
    png_destroy_write_struct(&png, info ? &info : NULL);
    if (status != 0) {
        free(buffer.bytes);
        return status;
    }
    *png_out = buffer.bytes;
    *png_size = buffer.size;
    return 0;
}

void cpng_free(void *pointer) { free(pointer); }

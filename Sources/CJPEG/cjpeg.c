#include "CJPEG.h"
#include <stdio.h>
#include <jpeglib.h>

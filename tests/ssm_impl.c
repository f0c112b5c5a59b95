/* The one translation unit of the test and benchmark programs that holds the implementation
   of ssm.h (the library's usage: SSM_IMPLEMENTATION in exactly one file). */
#define SSM_IMPLEMENTATION
#include "ssm.h"

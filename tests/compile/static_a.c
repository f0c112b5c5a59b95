/* SSM_STATIC program, part 1: a private copy of the implementation in each unit; the two must
   link together without clashing. */
#define SSM_STATIC
#define SSM_IMPLEMENTATION
#include "ssm.h"
#include "trivial.h"

#ifdef __cplusplus
extern "C"
#endif
int static_b_check(void);

int main(void)
{
    return trivial_conv1d() != 0 || static_b_check() != 0;
}

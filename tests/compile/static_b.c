/* SSM_STATIC program, part 2: the second private copy. */
#define SSM_STATIC
#define SSM_IMPLEMENTATION
#include "ssm.h"
#include "trivial.h"

#ifdef __cplusplus
extern "C"
#endif
int static_b_check(void);

int static_b_check(void)
{
    return trivial_conv1d();
}

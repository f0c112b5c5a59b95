/* Two-translation-unit program, part 1: the implementation, included twice (the guards must
   make that harmless), plus a function the other unit calls. */
#define SSM_IMPLEMENTATION
#include "ssm.h"
#include "ssm.h"

#include "trivial.h"

#ifdef __cplusplus
extern "C"
#endif
int impl_unit_check(void);

int impl_unit_check(void)
{
    return trivial_conv1d() != 0 || ssm_status_string(SSM_ERR_SHAPE) == NULL;
}

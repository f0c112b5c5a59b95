/* Two-translation-unit program, part 2: declarations only, calling the API implemented in the
   other unit (which may be compiled as the other language). */
#include "ssm.h"
#include "trivial.h"

#ifdef __cplusplus
extern "C"
#endif
int impl_unit_check(void);

int main(void)
{
    return trivial_conv1d() != 0 || impl_unit_check() != 0;
}

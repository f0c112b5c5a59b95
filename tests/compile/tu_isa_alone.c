/* An ISA header included on its own (SSM_TEST_HEADER names it), twice, with or without
   SSM_IMPLEMENTATION defined on the command line: it must bring ssm.h in by itself. */
#include SSM_TEST_HEADER
#include SSM_TEST_HEADER

int ssm_test_isa_alone(void);
int ssm_test_isa_alone(void) { return ssm_isa_available(SSM_ISA_SCALAR); }

/* quickstart.c — the causal conv1d + SiLU in front of a Mamba block, on the CPU.
   Build: cc -I. examples/quickstart.c -lm && ./a.out */
#define SSM_IMPLEMENTATION
#include "ssm.h"

#include <math.h>
#include <stdio.h>

int main(void) {
    enum { D = 8, L = 16, W = 4 };
    float x[D * L], weight[D * W], bias[D], out[D * L];
    for (int i = 0; i < D * L; ++i) x[i] = sinf(0.37f * (float)i);
    for (int i = 0; i < D * W; ++i) weight[i] = 0.25f + 0.01f * (float)i;
    for (int d = 0; d < D; ++d) bias[d] = 0.1f * (float)d;

    /* Zero means absent/default; a tensor without strides is contiguous, here (B, D, L). */
    ssm_conv1d_params p = {0};
    p.B = 1; p.D = D; p.L = L; p.W = W;
    p.x.data = x; p.weight.data = weight; p.bias.data = bias;
    p.silu = 1;
    p.out.data = out;

    ssm_status st = ssm_conv1d(&p, NULL);   /* NULL: default threads, no caller workspace */
    if (st != SSM_OK) {
        fprintf(stderr, "conv1d: %s\n", ssm_status_string(st));
        return 1;
    }
    printf("backend %s, out[0][%d] = %f\n", ssm_backend_name(), L - 1, out[L - 1]);
    return 0;
}

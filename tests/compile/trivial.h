/* trivial.h — a conv1d call small enough to check against its formula inline (SPEC §4):
   out[d,t] = bias[d] + w[d,0] * x[d,t-1] + w[d,1] * x[d,t], with x[d,-1] = 0.
   Returns 0 when the library agrees. Included by every program of the compile leg. */
#include <math.h>
#include <string.h>

#include "ssm.h"

static int trivial_conv1d(void)
{
    enum { D = 2, L = 3, W = 2 };
    const float x[D * L] = {0.31f, -1.24f, 0.77f, 2.05f, -0.43f, 0.96f};
    const float w[D * W] = {-0.62f, 1.13f, 0.58f, -1.71f};
    const float bias[D] = {0.27f, -0.85f};
    float out[D * L];
    ssm_conv1d_params p;
    memset(&p, 0, sizeof p);
    memset(out, 0xFF, sizeof out);   /* NaN: an unwritten element fails */
    p.B = 1, p.D = D, p.L = L, p.W = W;
    p.x.data = x, p.weight.data = w, p.bias.data = bias, p.out.data = out;
    if (ssm_conv1d(&p, NULL) != SSM_OK) return 1;
    for (int d = 0; d < D; d++)
        for (int t = 0; t < L; t++) {
            float prev = t > 0 ? x[d * L + t - 1] : 0.0f;
            float want = bias[d] + w[d * W] * prev + w[d * W + 1] * x[d * L + t];
            if (!(fabsf(out[d * L + t] - want) <= 1e-5f * (1.0f + fabsf(want)))) return 1;
        }
    return 0;
}

// Adam's update, written once and compiled twice by Adam.c (portable, and with AVX2).

static KERNEL_ATTRIBUTES void KERNEL_NAME(adam)(float *p, const float *g, float *m, float *v, long count, float beta1,
                                                float beta2, float epsilon, float stepSize, float inverseCorrection2Root,
                                                float decay, float shrink) {
    const float oneMinusBeta1 = 1 - beta1, oneMinusBeta2 = 1 - beta2;
    const f8 b1 = splat_f8(beta1), b2 = splat_f8(beta2), c1 = splat_f8(oneMinusBeta1), c2 = splat_f8(oneMinusBeta2);
    const f8 eps = splat_f8(epsilon), step = splat_f8(stepSize), inverseRoot = splat_f8(inverseCorrection2Root);
    const f8 decays = splat_f8(decay), shrinks = splat_f8(shrink);
    long i = 0;
    for (; i + 8 <= count; i += 8) {
        const f8 old = load_f8(p + i);
        f8 gi = load_f8(g + i);
        if (decay != 0) gi = gi + decays * old;
        const f8 mi = b1 * load_f8(m + i) + c1 * gi;
        const f8 vi = b2 * load_f8(v + i) + c2 * gi * gi;
        const f8 pi = old * shrinks - step * mi / (sqrt_f8(vi) * inverseRoot + eps);
        store_f8(m + i, mi);
        store_f8(v + i, vi);
        store_f8(p + i, pi);
    }
    for (; i < count; i++) {
        const float gi = decay != 0 ? g[i] + decay * p[i] : g[i];
        p[i] *= shrink;
        m[i] = beta1 * m[i] + oneMinusBeta1 * gi;
        v[i] = beta2 * v[i] + oneMinusBeta2 * gi * gi;
        p[i] -= stepSize * m[i] / (sqrtf(v[i]) * inverseCorrection2Root + epsilon);
    }
}

package io.salun.eval;

/**
 * The unlearning metrics of SALUN-SPEC §4, in percent: UA = 100 − accuracy on Df, RA = accuracy
 * on Dr, TA = accuracy on Dt (without the forgotten classes in class-wise forgetting), and for
 * class-wise forgetting the accuracy on the forgotten classes' test images (NaN otherwise).
 */
public record Metrics(double ua, double ra, double ta, double forgottenClassTestAccuracy) {
}

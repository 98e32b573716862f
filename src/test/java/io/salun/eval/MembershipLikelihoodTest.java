package io.salun.eval;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The per-example membership test on synthetic statistics with known membership: every example has
 * its own difficulty {@code d_i}; a model that trained on it gives {@code φ ~ N(d_i + 3, 1)}, one
 * that did not {@code N(d_i, 1)}. The test must separate the two, and its leave-one-out
 * calibration must report the rates the construction implies.
 */
class MembershipLikelihoodTest {
    private static final int K = 16;
    private static final int N = 2000;
    private static final double SHIFT = 3;

    private final SplittableRandom random = new SplittableRandom(7);
    private final double[] difficulty = new double[N];
    private final double[][] phi = new double[K][N];
    private final boolean[][] in = new boolean[K][N];

    MembershipLikelihoodTest() {
        for (int i = 0; i < N; i++) {
            difficulty[i] = 4 * random.nextDouble() - 2;
        }
        for (int pair = 0; pair < K / 2; pair++) {
            for (int i = 0; i < N; i++) {
                boolean first = random.nextBoolean();
                in[2 * pair][i] = first;
                in[2 * pair + 1][i] = !first;
            }
        }
        for (int s = 0; s < K; s++) {
            for (int i = 0; i < N; i++) {
                phi[s][i] = draw(i, in[s][i]);
            }
        }
    }

    private double draw(int i, boolean member) {
        return difficulty[i] + (member ? SHIFT : 0) + gaussian();
    }

    private double gaussian() {
        return Math.sqrt(-2 * Math.log(1 - random.nextDouble())) * Math.cos(2 * Math.PI * random.nextDouble());
    }

    @Test
    void separatesMembersFromNonMembers() {
        MembershipLikelihood test = new MembershipLikelihood(phi, in);
        double[] member = new double[N];
        double[] nonMember = new double[N];
        for (int i = 0; i < N; i++) {
            member[i] = draw(i, true);
            nonMember[i] = draw(i, false);
        }
        double memberRate = test.targetRate(member);
        double nonMemberRate = test.targetRate(nonMember);
        assertEquals(memberRate, MembershipLikelihood.rate(test.scores(member)), 0.02, "the mean score agrees");
        // equal variances: s > 0 exactly when φ is past the midpoint, P = Φ(1.5) for a member
        assertEquals(0.933, memberRate, 0.03);
        assertEquals(0.067, nonMemberRate, 0.03);
        MembershipLikelihood.Calibration cal = test.calibration();
        assertEquals(K * N / 2, cal.outScores().length);
        assertEquals(K * N / 2, cal.inScores().length);
        assertEquals(0.067, cal.falsePositiveRate(), 0.02);
        assertEquals(0.933, cal.truePositiveRate(), 0.02);
        assertTrue(MembershipLikelihood.indistinguishable(nonMemberRate, N, cal.falsePositiveRate(), cal.outScores().length),
                "a model that never saw the examples is told apart from the calibration");
        assertFalse(MembershipLikelihood.indistinguishable(memberRate, N, cal.falsePositiveRate(), cal.outScores().length));
    }

    @Test
    void aModelWithoutSignalIsIndistinguishableAndTheDifficultyIsControlledFor() {
        MembershipLikelihood test = new MembershipLikelihood(phi, in);
        // a non-member that is "easy" (high d_i) must not look like a member: scores use per-example means
        double[] nonMember = new double[N];
        for (int i = 0; i < N; i++) {
            nonMember[i] = draw(i, false);
        }
        double[] s = test.scores(nonMember);
        int easyAbove = 0;
        int easy = 0;
        for (int i = 0; i < N; i++) {
            if (difficulty[i] > 1) {
                easy++;
                easyAbove += s[i] > 0 ? 1 : 0;
            }
        }
        assertTrue((double) easyAbove / easy < 0.15, easyAbove + " of " + easy + " easy non-members look trained on");
    }

    @Test
    void logitAndHistogramAndBadShapes() {
        assertEquals(0, MembershipLikelihood.logit(0.5), 1e-12);
        assertEquals(Math.log(9), MembershipLikelihood.logit(0.9), 1e-9);
        assertTrue(Double.isFinite(MembershipLikelihood.logit(1.0)) && Double.isFinite(MembershipLikelihood.logit(0.0)));
        long[] h = MembershipLikelihood.histogram(new double[] {-100, -1, 0.5, 100}, -2, 2, 4);
        assertEquals(1, h[0]);
        assertEquals(1, h[1]);
        assertEquals(1, h[2]);
        assertEquals(1, h[3]);
        assertThrows(IllegalArgumentException.class, () -> new MembershipLikelihood(new double[2][3], new boolean[2][3]));
        boolean[][] allIn = new boolean[4][1];
        for (boolean[] row : allIn) {
            row[0] = true;
        }
        assertThrows(IllegalArgumentException.class, () -> new MembershipLikelihood(new double[4][1], allIn));
    }
}

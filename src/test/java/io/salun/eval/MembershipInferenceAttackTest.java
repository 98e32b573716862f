package io.salun.eval;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The attack on synthetic confidences whose answer is known. */
class MembershipInferenceAttackTest {

    /** Members are confident (≈ 1), non-members spread lower: the situation of a memorising model. */
    private static double[][] members(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[][] x = new double[n][];
        for (int i = 0; i < n; i++) {
            x[i] = new double[] {1.0 - 0.02 * r.nextDouble()};
        }
        return x;
    }

    private static double[][] nonMembers(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[][] x = new double[n][];
        for (int i = 0; i < n; i++) {
            x[i] = new double[] {0.85 * r.nextDouble()};
        }
        return x;
    }

    @Test
    void separatesConfidentMembersFromNonMembers() {
        MembershipInferenceAttack attack = MembershipInferenceAttack.train(members(400, 1), nonMembers(400, 2));
        // a forget set the model still remembers: drawn like the members -> low efficacy
        assertTrue(attack.efficacy(members(300, 3)) <= 5, "efficacy on members " + attack.efficacy(members(300, 3)));
        // a forget set the model has forgotten: drawn like the non-members -> high efficacy
        assertTrue(attack.efficacy(nonMembers(300, 4)) >= 95, "efficacy on non-members " + attack.efficacy(nonMembers(300, 4)));
        assertTrue(attack.predictsNonMember(new double[] {0.1}));
        assertTrue(!attack.predictsNonMember(new double[] {0.999}));
    }

    @Test
    void indistinguishableSetsGiveChanceLevelEfficacy() {
        SplittableRandom r = new SplittableRandom(5);
        double[][] a = new double[500][];
        double[][] b = new double[500][];
        for (int i = 0; i < 500; i++) {
            a[i] = new double[] {r.nextDouble()};
            b[i] = new double[] {r.nextDouble()};
        }
        MembershipInferenceAttack attack = MembershipInferenceAttack.train(a, b);
        double[][] probe = new double[1000][];
        for (int i = 0; i < probe.length; i++) {
            probe[i] = new double[] {r.nextDouble()};
        }
        double e = attack.efficacy(probe);
        assertTrue(e > 15 && e < 85, "efficacy " + e + " on data the attacker cannot separate");
    }

    @Test
    void rejectsEmptyTrainingSetsAndWrongWidths() {
        assertThrows(IllegalArgumentException.class, () -> MembershipInferenceAttack.train(new double[0][], nonMembers(3, 1)));
        MembershipInferenceAttack attack = MembershipInferenceAttack.train(members(20, 1), nonMembers(20, 2));
        assertThrows(IllegalArgumentException.class, () -> attack.predictsNonMember(new double[] {0.5, 0.5}));
        assertTrue(Double.isNaN(attack.efficacy(new double[0][])));
    }

    @Test
    void averageGapIsTheMeanAbsoluteDifferenceOfTheFourMetrics() {
        Metrics retrain = new Metrics(5.24, 100.00, 94.26, 12.88, Double.NaN);
        Metrics salun = new Metrics(2.85, 99.62, 93.93, 14.39, Double.NaN);
        // |2.85-5.24| + |99.62-100| + |93.93-94.26| + |14.39-12.88| = 2.39 + 0.38 + 0.33 + 1.51 = 4.61; / 4
        assertEquals(1.1525, salun.averageGap(retrain), 1e-9);
        assertEquals(0.0, retrain.averageGap(retrain), 0.0);
        assertEquals(salun.averageGap(retrain), retrain.averageGap(salun), 0.0);
    }
}

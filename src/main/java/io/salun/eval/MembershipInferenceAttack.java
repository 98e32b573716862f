package io.salun.eval;

import libsvm.svm;
import libsvm.svm_model;
import libsvm.svm_node;
import libsvm.svm_parameter;
import libsvm.svm_problem;

import java.io.Serializable;

/**
 * The membership-inference attack of SALUN-SPEC §4 (MIA-Efficacy). An RBF-kernel SVM
 * ({@code C = 3}, {@code γ = 1/features}, libsvm — the library scikit-learn's {@code SVC} wraps)
 * is trained to tell members (label 1: a sample of the retain set) from non-members (label 0: the
 * test set) by per-example features, the softmax probability of the true label by default; it is
 * then applied to the forget set. MIA-Efficacy = 100 × fraction of the forget set predicted
 * non-member: the more of Df the attacker no longer recognises as training data, the better the
 * forgetting (Retrain's value is the target).
 */
public final class MembershipInferenceAttack implements Serializable {
    private static final long serialVersionUID = 1L;
    public static final double C = 3.0;

    private final svm_model model;
    private final int features;

    private MembershipInferenceAttack(svm_model model, int features) {
        this.model = model;
        this.features = features;
    }

    static {
        // libsvm prints its optimisation trace to stdout unless told otherwise
        svm.svm_set_print_string_function(s -> { });
    }

    /**
     * Trains the attacker.
     *
     * @param members    features of member examples, {@code [n][d]}
     * @param nonMembers features of non-member examples, {@code [m][d]}
     */
    public static MembershipInferenceAttack train(double[][] members, double[][] nonMembers) {
        if (members.length == 0 || nonMembers.length == 0) {
            throw new IllegalArgumentException("the attack needs members and non-members, found " + members.length
                    + " and " + nonMembers.length);
        }
        int d = members[0].length;
        svm_problem problem = new svm_problem();
        problem.l = members.length + nonMembers.length;
        problem.x = new svm_node[problem.l][];
        problem.y = new double[problem.l];
        for (int i = 0; i < members.length; i++) {
            problem.x[i] = nodes(members[i], d);
            problem.y[i] = 1;
        }
        for (int i = 0; i < nonMembers.length; i++) {
            problem.x[members.length + i] = nodes(nonMembers[i], d);
            problem.y[members.length + i] = 0;
        }
        svm_parameter p = new svm_parameter();
        p.svm_type = svm_parameter.C_SVC;
        p.kernel_type = svm_parameter.RBF;
        p.C = C;
        p.gamma = 1.0 / d;
        p.cache_size = 200;
        p.eps = 1e-3;
        p.shrinking = 1;
        p.probability = 0;
        p.nr_weight = 0;
        p.weight_label = new int[0];
        p.weight = new double[0];
        String error = svm.svm_check_parameter(problem, p);
        if (error != null) {
            throw new IllegalStateException("libsvm rejected the attack's parameters: " + error);
        }
        return new MembershipInferenceAttack(svm.svm_train(problem, p), d);
    }

    /** Whether the attacker takes an example with these features for a non-member. */
    public boolean predictsNonMember(double[] x) {
        return svm.svm_predict(model, nodes(x, features)) == 0.0;
    }

    /** MIA-Efficacy (%) of a set: 100 × fraction predicted non-member; NaN for an empty set. */
    public double efficacy(double[][] examples) {
        if (examples.length == 0) {
            return Double.NaN;
        }
        long nonMembers = 0;
        for (double[] x : examples) {
            if (predictsNonMember(x)) {
                nonMembers++;
            }
        }
        return 100.0 * nonMembers / examples.length;
    }

    private static svm_node[] nodes(double[] x, int d) {
        if (x.length != d) {
            throw new IllegalArgumentException("expected " + d + " features, found " + x.length);
        }
        svm_node[] nodes = new svm_node[d];
        for (int j = 0; j < d; j++) {
            nodes[j] = new svm_node();
            nodes[j].index = j + 1;
            nodes[j].value = x[j];
        }
        return nodes;
    }
}
